// Hubble JSON export byte format, import of real and malformed lines, printers, and evidence bundles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { toHubbleJson } from "../../lib/flow/json";
import { parseHubbleExport } from "../../lib/flow/import";
import { formatFlow, formatFlows, formatIdentity, formatTime, getFlowType, timeFormatNamed } from "../../lib/flow/print";
import type { FlowEnvelope } from "../../lib/flow/types";
import { ndjsonLines } from "../../server/export/ndjson";
import { writeBundle } from "../../server/export/bundle";
import { verifyBundle } from "../../server/export/verify-bundle";
import { readTar, TAR_END, tarHeader, tarPadding } from "../../server/export/tar";

// the real example lines of flow-schema.md §3.6 (and the exporter test line of §3.2), verbatim
const EXAMPLES = readFileSync(fileURLToPath(new URL("./hubble-examples.ndjson", import.meta.url)), "utf8").split("\n").filter(Boolean);

test("toHubbleJson reproduces every real hubble line byte for byte", () => {
  assert.equal(EXAMPLES.length, 10);
  for (const line of EXAMPLES) assert.equal(toHubbleJson(JSON.parse(line)), line);
});

test("toHubbleJson: declaration order, zero values, 64-bit strings, is_reply false, Go HTML escaping", () => {
  const env = {
    time: "2024-01-01T00:00:00.120000000Z",
    node_name: "n1",
    flow: {
      Summary: "GET /a?x=<b>&c \u2028",
      is_reply: false,
      verdict: "VERDICT_UNKNOWN",
      reply: false,
      source: { labels: [], pod_name: "p", ID: 0, identity: 7 },
      l7: { latency_ns: 1678100, type: "RESPONSE" },
      time: "2024-01-01T00:00:00.000001000Z",
      egress_allowed_by: [{ revision: 6, kind: "CiliumNetworkPolicy", name: "x" }],
      extensions: { rule: "r", "@type": "type.googleapis.com/flowscope.v1.FlowDecision" },
    },
  };
  assert.equal(
    toHubbleJson(env as never),
    '{"flow":{"time":"2024-01-01T00:00:00.000001Z","source":{"identity":7,"pod_name":"p"},"l7":{"type":"RESPONSE","latency_ns":"1678100"},' +
      '"is_reply":false,"Summary":"GET /a?x=\\u003cb\\u003e\\u0026c \\u2028","extensions":{"@type":"type.googleapis.com/flowscope.v1.FlowDecision","rule":"r"},' +
      '"egress_allowed_by":[{"name":"x","revision":"6","kind":"CiliumNetworkPolicy"}]},"node_name":"n1","time":"2024-01-01T00:00:00.120Z"}',
  );
});

test("import: every §3.6 line imports and exports back unchanged", () => {
  const r = parseHubbleExport(EXAMPLES.join("\n") + "\n");
  assert.deepEqual(r.errors, []);
  assert.equal(r.flows.length, 10);
  r.flows.forEach((env, i) => {
    const original = JSON.parse(EXAMPLES[i]);
    assert.deepEqual(JSON.parse(toHubbleJson(env)).flow, original.flow);
  });
});

test("import: lowerCamel names, enum numbers, 64-bit numbers, bare legacy flows, unknown fields", () => {
  const lines = [
    '{"flow":{"time":"2024-01-01T00:00:00Z","verdict":2,"dropReasonDesc":133,"trafficDirection":"INGRESS","isReply":false,"l7":{"latencyNs":12,"type":2},"futureField":{"x":1}},"nodeName":"n","time":"2024-01-01T00:00:00Z"}',
    '{"time":"2020-01-01T00:00:00Z","verdict":"FORWARDED","node_name":"old","IP":{"source":"1.1.1.1","ipVersion":1}}',
  ];
  const r = parseHubbleExport(lines.join("\n"));
  assert.deepEqual(r.errors, []);
  assert.equal(
    toHubbleJson(r.flows[0]),
    '{"flow":{"time":"2024-01-01T00:00:00Z","verdict":"DROPPED","l7":{"type":"RESPONSE","latency_ns":"12"},"traffic_direction":"INGRESS","drop_reason_desc":"POLICY_DENIED","is_reply":false},"node_name":"n","time":"2024-01-01T00:00:00Z"}',
  );
  assert.equal(r.flows[1].node_name, "old");
  assert.equal(r.flows[1].flow.IP?.ipVersion, "IPv4");
});

test("import: malformed lines are reported with line numbers and good lines kept; non-flow lines skipped", () => {
  const text = [
    EXAMPLES[0],
    "{not json",
    '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"12"},"node_name":"n","time":"2024-01-01T00:00:00Z"}',
    "",
    '{"flow":{"verdict":"MAYBE"}}',
    '{"flow":{"source":{"identity":"abc"}}}',
    '{"node_status":{"state_change":"NODE_CONNECTED"}}',
    '{"flow":{"time":"yesterday"}}',
    "[1,2]",
    EXAMPLES[1],
  ].join("\n");
  const r = parseHubbleExport(text);
  assert.equal(r.flows.length, 2);
  assert.deepEqual(r.errors.map((e) => e.line), [2, 5, 6, 8, 9]);
  assert.match(r.errors[1].message, /flow\.verdict/);
  assert.match(r.errors[2].message, /flow\.source\.identity/);
  assert.match(r.errors[3].message, /flow\.time/);
  assert.deepEqual(r.skipped, { lost_events: 1, node_status: 1 });
  assert.equal(r.lines, 10);
});

test("import: an extensions value nested past 64 levels and a uuid past 64 characters are line errors, not lost flows later", () => {
  const deep = `{"@type":"t","v":${'{"a":'.repeat(8000)}1${"}".repeat(8000)}}`;
  const ok = (i: number) => `{"flow":{"time":"2026-11-28T05:00:00Z","uuid":"33333333-0000-4000-8000-00000000000${i}","verdict":"FORWARDED"}}`;
  const text = [
    ok(1),
    `{"flow":{"time":"2026-11-28T05:00:00Z","uuid":"x","verdict":"FORWARDED","extensions":${deep}}}`,
    `{"flow":{"time":"2026-11-28T05:00:00Z","uuid":"${"u".repeat(65)}","verdict":"FORWARDED"}}`,
    `{"time":"2026-11-28T05:00:00Z","uuid":"${"u".repeat(70)}","verdict":"FORWARDED"}`,
    `{"flow":{"time":"2026-11-28T05:00:00Z","uuid":"y","extensions":${`{"@type":"t","v":${'{"a":'.repeat(60)}1${"}".repeat(60)}}`}}}`,
    ok(2),
  ].join("\n");
  const r = parseHubbleExport(text);
  assert.deepEqual(r.errors.map((e) => e.line), [2, 3, 4]);
  assert.match(r.errors[0]!.message, /flow\.extensions: nested deeper than 64 levels/);
  assert.match(r.errors[1]!.message, /flow\.uuid: 65 characters, more than the 64/);
  assert.match(r.errors[2]!.message, /^uuid: 70 characters/);
  assert.equal(r.flows.length, 3, "the good lines, and an extensions value of ordinary depth, are kept");
});

const PRINTER_FLOW: FlowEnvelope = JSON.parse(
  '{"flow":{"time":"1970-01-01T00:20:34.567800Z","verdict":"DROPPED","IP":{"source":"1.1.1.1","destination":"2.2.2.2"},"l4":{"TCP":{"source_port":31793,"destination_port":8080}},"source":{"identity":4},"destination":{"identity":12345},"Type":"L3_L4","node_name":"k8s1","event_type":{"type":1,"sub_type":133},"is_reply":false,"Summary":"TCP Flags: SYN"}}',
);

test("printers match hubble's printer tests", () => {
  assert.equal(formatFlow(PRINTER_FLOW, "compact"), "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)");
  assert.equal(
    formatFlow(PRINTER_FLOW, "dict"),
    ["  TIMESTAMP: Jan  1 00:20:34.567", "     SOURCE: 1.1.1.1:31793", "DESTINATION: 2.2.2.2:8080", "       TYPE: Policy denied", "    VERDICT: DROPPED", "    SUMMARY: TCP Flags: SYN"].join("\n"),
  );
  assert.equal(
    formatFlow(PRINTER_FLOW, "table"),
    "TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n" +
      "Jan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN",
  );
  assert.equal(formatFlows([PRINTER_FLOW, PRINTER_FLOW], "dict").split("\n------------\n").length, 2);
});

test("compact: policy verdicts, replies, unknown direction, L7 types, names", () => {
  const pv: FlowEnvelope = {
    node_name: "n", time: "2024-03-05T07:08:09.010Z",
    flow: {
      time: "2024-03-05T07:08:09.010Z", verdict: "DROPPED", IP: { source: "10.0.0.1", destination: "10.0.0.2" },
      l4: { TCP: { source_port: 1234, destination_port: 80 } }, source: { identity: 2, namespace: "", pod_name: "" },
      destination: { identity: 45219, namespace: "default", pod_name: "deathstar-1" }, event_type: { type: 5 }, traffic_direction: "INGRESS",
      policy_match_type: 0, Summary: "TCP Flags: SYN", ingress_denied_by: [{ name: "deny", namespace: "default", kind: "CiliumNetworkPolicy" }],
    },
  };
  assert.equal(formatFlow(pv, "compact"), "Mar  5 07:08:09.010: 10.0.0.1:1234 (world) <> default/deathstar-1:80 (ID:45219) policy-verdict:none INGRESS DENIED (TCP Flags: SYN)");
  // as hubble's printer_test.go expects: names without their namespace, only with a kind, only for a known
  // direction, and an audited verdict names the policies that would have denied
  assert.match(formatFlow(pv, "compact", { policyNames: true, nodeName: true }), /^Mar  5 07:08:09\.010 \[n\]: .* INGRESS DENIED BY deny \(CiliumNetworkPolicy\) \(TCP/);
  const allowed = { ...pv, flow: { ...pv.flow, verdict: "FORWARDED" as const, ingress_denied_by: undefined, policy_match_type: 1,
    ingress_allowed_by: [{ name: "my-policy", namespace: "ns", kind: "CiliumNetworkPolicy" }, { name: "my-policy-2", kind: "CiliumClusterwideNetworkPolicy" }, { name: "no-kind" }] } };
  assert.match(formatFlow(allowed, "compact", { policyNames: true }), / policy-verdict:L3-Only INGRESS ALLOWED BY my-policy \(CiliumNetworkPolicy\), my-policy-2 \(CiliumClusterwideNetworkPolicy\) \(TCP Flags: SYN\)$/);
  const audited = { ...pv, flow: { ...pv.flow, verdict: "AUDIT" as const, traffic_direction: "EGRESS" as const, ingress_denied_by: undefined, egress_denied_by: [{ name: "my-policy", namespace: "ns", kind: "CiliumNetworkPolicy" }] } };
  assert.match(formatFlow(audited, "compact", { policyNames: true }), / policy-verdict:none EGRESS AUDITED BY my-policy \(CiliumNetworkPolicy\) \(TCP Flags: SYN\)$/);
  assert.match(formatFlow(audited, "compact"), / policy-verdict:none EGRESS AUDITED \(TCP Flags: SYN\)$/);
  const undirected = { ...pv, flow: { ...pv.flow, traffic_direction: undefined } };
  assert.match(formatFlow(undirected, "compact", { policyNames: true }), / DENIED \(TCP Flags: SYN\)$/);
  const reply = { ...pv, flow: { ...pv.flow, event_type: { type: 4 }, is_reply: true, verdict: "FORWARDED" as const } };
  assert.equal(formatFlow(reply, "compact"), "Mar  5 07:08:09.010: default/deathstar-1:80 (ID:45219) <- 10.0.0.1:1234 (world) to-endpoint FORWARDED (TCP Flags: SYN)");
  assert.equal(getFlowType({ l7: { type: "REQUEST", dns: { observation_source: "proxy" } } }), "dns-request proxy");
  assert.equal(getFlowType({ l7: { type: "RESPONSE", http: {} } }), "http-response");
  assert.equal(getFlowType({ event_type: { type: 5 }, policy_match_type: 2, traffic_direction: "EGRESS" }), "policy-verdict:L3-L4 EGRESS");
  // traffic-controlled text cannot drive the terminal
  const evil = { ...pv, flow: { ...pv.flow, Summary: "x\u001b[31my" } };
  assert.ok(!formatFlow(evil, "compact").includes("\u001b"));
});

test("ndjsonLines streams one line per envelope", async () => {
  async function* gen() {
    for (const l of EXAMPLES) yield JSON.parse(l) as FlowEnvelope;
  }
  const out: string[] = [];
  for await (const l of ndjsonLines(gen())) out.push(l);
  assert.deepEqual(out, EXAMPLES.map((l) => l + "\n"));
});

async function bundle(lines: string[]): Promise<Buffer> {
  const pt = new PassThrough();
  const chunks: Buffer[] = [];
  pt.on("data", (c: Buffer) => chunks.push(c));
  await writeBundle(pt, {
    flows: lines,
    query: { whitelist: [{ verdict: ["DROPPED"] }], blacklist: [], since: "2024-01-01T00:00:00Z" },
    policies: [{ kind: "CiliumNetworkPolicy", namespace: "default", name: "p", revision: "7" }],
    fqdnCache: { "api.github.com": ["140.82.112.3"] },
    createdAt: new Date("2024-06-01T12:00:00Z"),
  });
  return Buffer.concat(chunks);
}

/** Rewrites flows.ndjson inside a bundle (keeping the manifest), as a tamperer would. */
function tamper(buf: Buffer, edit: (lines: string[]) => string[]): Buffer {
  const entries = readTar(gunzipSync(buf));
  const parts: Buffer[] = [];
  for (const e of entries) {
    let data = e.data;
    if (e.name === "flows.ndjson") data = Buffer.from(edit(data.toString().split("\n").filter(Boolean)).map((l) => l + "\n").join(""));
    parts.push(tarHeader(e.name, data.length, 0), data, tarPadding(data.length));
  }
  parts.push(TAR_END);
  return gzipSync(Buffer.concat(parts));
}

test("evidence bundle: verifies clean, names changed, removed and reordered lines", async () => {
  const buf = await bundle(EXAMPLES);
  const names = readTar(gunzipSync(buf)).map((e) => e.name).sort();
  assert.deepEqual(names, ["flows.ndjson", "fqdn-cache.json", "lines.sha256", "manifest.json", "policies.json", "query.json"]);
  const ok = await verifyBundle(buf);
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.ok, true);
  assert.equal(ok.lines, 10);

  const changed = await verifyBundle(tamper(buf, (l) => l.map((x, i) => (i === 3 ? x.replace("DROPPED", "FORWARDED") : x))));
  assert.equal(changed.ok, false);
  assert.ok(changed.errors.some((e) => /line 4 was altered/.test(e)), changed.errors.join("; "));

  const removed = await verifyBundle(tamper(buf, (l) => l.filter((_, i) => i !== 6)));
  assert.ok(removed.errors.some((e) => /line 7 is missing/.test(e)), removed.errors.join("; "));

  const reordered = await verifyBundle(tamper(buf, (l) => [l[0], l[2], l[1], ...l.slice(3)]));
  assert.ok(reordered.errors.some((e) => /line 2 is out of order/.test(e)), reordered.errors.join("; "));

  const truncated = await verifyBundle(tamper(buf, (l) => l.slice(0, 8)));
  assert.ok(truncated.errors.some((e) => /line 9 is missing/.test(e)), truncated.errors.join("; "));

  const garbage = await verifyBundle(Buffer.from("not a bundle"));
  assert.equal(garbage.ok, false);
});

test("evidence bundle: a query.json changed with its manifest entry still breaks the chain's h0", async () => {
  const buf = await bundle(EXAMPLES.slice(0, 3));
  const entries = readTar(gunzipSync(buf));
  const query = Buffer.from('{"whitelist":[],"blacklist":[]}\n');
  const parts: Buffer[] = [];
  for (const e of entries) {
    let data = e.data;
    if (e.name === "query.json") data = query;
    if (e.name === "manifest.json") {
      const m = JSON.parse(e.data.toString()) as { files: Record<string, { sha256: string; bytes: number }> };
      m.files["query.json"] = { sha256: createHash("sha256").update(query).digest("hex"), bytes: query.length };
      data = Buffer.from(JSON.stringify(m));
    }
    parts.push(tarHeader(e.name, data.length, 0), data, tarPadding(data.length));
  }
  parts.push(TAR_END);
  const r = await verifyBundle(gzipSync(Buffer.concat(parts)));
  assert.deepEqual(r.errors, ["query.json: does not match the hash chain's h0"]);
});

test("evidence bundle: a changed query.json breaks the chain's h0", async () => {
  const buf = await bundle(EXAMPLES.slice(0, 3));
  const entries = readTar(gunzipSync(buf));
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.name === "query.json" ? Buffer.from('{"whitelist":[],"blacklist":[]}\n') : e.data;
    parts.push(tarHeader(e.name, data.length, 0), data, tarPadding(data.length));
  }
  parts.push(TAR_END);
  const r = await verifyBundle(gzipSync(Buffer.concat(parts)));
  assert.equal(r.ok, false);
  assert.ok(r.errors.some((e) => /query\.json/.test(e)));
});

test("--time-format layouts print the record time as Go's layouts do (in UTC)", () => {
  const t = "2021-10-04T11:22:26.599010650Z";
  assert.equal(formatTime(t), "Oct  4 11:22:26.599");
  assert.equal(formatTime(t, "RFC3339"), "2021-10-04T11:22:26Z");
  assert.equal(formatTime(t, "RFC3339Milli"), "2021-10-04T11:22:26.599Z");
  // Go's .999999 drops trailing zeros
  assert.equal(formatTime(t, "RFC3339Micro"), "2021-10-04T11:22:26.59901Z");
  assert.equal(formatTime("2021-10-04T11:22:26.400Z", "RFC3339Milli"), "2021-10-04T11:22:26.4Z");
  assert.equal(formatTime("2021-10-04T11:22:26.000Z", "RFC3339Milli"), "2021-10-04T11:22:26Z");
  assert.equal(formatTime(t, "YearMonthDay"), "2021-10-04");
  assert.equal(formatTime(t, "YearMonthDayHour"), "2021-10-04T11Z");
  assert.equal(formatTime(t, "YearMonthDayHourMinute"), "2021-10-04T11:22Z");
  assert.equal(timeFormatNamed("rfc3339milli"), "RFC3339Milli", "names compare case-insensitively");
  assert.equal(timeFormatNamed("Kitchen"), undefined);
  assert.equal(formatTime(t, "RFC3339Nano"), "2021-10-04T11:22:26.59901065Z");
  assert.equal(formatTime("2021-10-04T11:22:26Z", "RFC3339Nano"), "2021-10-04T11:22:26Z");
  assert.equal(formatTime("2021-10-04T13:22:26.5+02:00", "RFC1123Z"), "Mon, 04 Oct 2021 11:22:26 +0000");
  assert.equal(formatTime(undefined, "RFC3339"), "N/A");
});

test("identity 0 prints as (unknown), like the other reserved identities", () => {
  assert.equal(formatIdentity(0), "(unknown)");
  assert.equal(formatIdentity(2), "(world)");
  assert.equal(formatIdentity(12345), "(ID:12345)");
});

test("a large evidence bundle written to a slow reader leaves no listeners behind (no MaxListenersExceededWarning)", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    // 20,000 distinct lines, read in small bites: the gzip stream pushes back many times
    const lines = Array.from({ length: 20_000 }, (_, i) => EXAMPLES[i % EXAMPLES.length]!.replace('"verdict"', `"n${i}":${i},"verdict"`));
    const pt = new PassThrough({ highWaterMark: 1024 });
    let bytes = 0;
    pt.on("data", (c: Buffer) => {
      bytes += c.length;
      pt.pause();
      setImmediate(() => pt.resume());
    });
    await writeBundle(pt, { flows: lines, query: { whitelist: [], blacklist: [] }, policies: [], fqdnCache: {}, createdAt: new Date("2024-06-01T12:00:00Z") });
    await new Promise((r) => setImmediate(r));
    assert.ok(bytes > 0);
    assert.deepEqual(warnings.filter((w) => w === "MaxListenersExceededWarning"), []);
  } finally {
    process.off("warning", onWarning);
  }
});

test("evidence bundle: verify reads the archive as a stream and stops at what a bomb or a lying header would make it decompress", async () => {
  const good = await bundle(EXAMPLES.slice(0, 4));
  const entries = readTar(gunzipSync(good));
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const archive = (files: [string, Buffer, number?][], end = true) => {
    const parts: Buffer[] = [];
    for (const [name, data, size] of files) parts.push(tarHeader(name, size ?? data.length, 0), data, tarPadding(data.length));
    if (end) parts.push(TAR_END);
    return Buffer.concat(parts);
  };

  // zeros: the end of the archive comes first, and nothing after it is decompressed
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < 200_000, `a small file (${bomb.length} bytes)`);
  assert.deepEqual((await verifyBundle(bomb)).errors, ["manifest.json is missing"]);

  // a header that claims far more than the manifest lists is not read past (its data is never there)
  const claimed = gzipSync(archive([["manifest.json", byName.get("manifest.json")!], ["flows.ndjson", Buffer.alloc(0), 2 ** 34]], false));
  const lying = await verifyBundle(claimed);
  assert.equal(lying.ok, false);
  assert.match(lying.errors.join("; "), /more than 17179869184 bytes of files, far more than the \d+ its manifest lists: not read further/);

  // a large file the manifest does not list
  const unlisted = await verifyBundle(gzipSync(archive([["manifest.json", byName.get("manifest.json")!], ["extra.bin", Buffer.alloc(0), 2 ** 30]], false)));
  assert.match(unlisted.errors.join("; "), /extra\.bin is not listed in the manifest and is 1073741824 bytes/);

  // repacked with the manifest last (GNU tar sorts by name): the flow lines are read again once h0 is
  // known, so a clean bundle verifies and a changed line is still named
  const reordered = entries.filter((e) => e.name !== "manifest.json").map((e) => [e.name, e.data] as [string, Buffer]);
  const late = await verifyBundle(gzipSync(archive([...reordered, ["manifest.json", byName.get("manifest.json")!]])));
  assert.deepEqual(late.errors, []);
  assert.equal(late.lines, 4);
  const lateChanged = reordered.map(([n, d]) => [n, n === "flows.ndjson" ? Buffer.from(d.toString().replace("DROPPED", "FORWARDED")) : d] as [string, Buffer]);
  const lateBad = await verifyBundle(gzipSync(archive([...lateChanged, ["manifest.json", byName.get("manifest.json")!]])));
  assert.match(lateBad.errors.join("; "), /flows\.ndjson: line \d+ was altered/);

  // an entry that is no regular file, claiming far more than a bundle holds, is not read past
  const typed = archive([["manifest.json", byName.get("manifest.json")!]], false);
  const dirHeader = tarHeader("big/", 0, 0);
  dirHeader.write("5", 156, "ascii");
  dirHeader.write((2 ** 30).toString(8).padStart(11, "0") + "\0", 124, "ascii");
  let sum = 0;
  dirHeader.write("        ", 148, "ascii");
  for (const b of dirHeader) sum += b;
  dirHeader.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  const typedBomb = await verifyBundle(gzipSync(Buffer.concat([typed, dirHeader])));
  assert.match(typedBomb.errors.join("; "), /big\/ \(tar type "5"\) claims 1073741824 bytes: not a bundle's entry, not read past/);

  // a line split across gzip and tar chunk boundaries hashes the same: a bundle of long lines verifies
  const long = EXAMPLES.slice(0, 3).map((l, i) => l.replace('"flow":{', `"flow":{"node_labels":["${"x".repeat(70_000 + i)}"],`));
  const big = await verifyBundle(await bundle(long));
  assert.deepEqual(big.errors, []);
  assert.equal(big.lines, 3);
});
