// Flow history through the real server: Hubble-format export, evidence bundle round trip, import of a
// real Hubble export with bad lines, retention, the service map and policy flows, and the observe CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { FlowsPage, ServerStatus, ServiceMap, NamespacesResponse } from "../../lib/api-types";
import { toHubbleJson } from "../../lib/flow/json";
import { flowJsonLine } from "../../lib/ui/copy-flow";
import { verifyBundle } from "../../server/export";
import { readTar } from "../../server/export/tar";
import { startTestServer, waitFor, getJson } from "../helpers/server";
import { makeFlow } from "../helpers/flows";

const EXAMPLES = fs.readFileSync(path.resolve("test/export/hubble-examples.ndjson"), "utf8");

test("export streams exactly the stored flows as `hubble observe -o json` lines, filtered", async () => {
  const s = await startTestServer({ rate: 60 });
  try {
    await waitFor("some drops", async () => ((await getJson<FlowsPage>(`${s.url}/api/flows?verdict=DROPPED&limit=5`)).body.flows.length >= 5 ? true : undefined), 30_000);
    s.ctx.simulator!.stop();
    s.ctx.store.flush();
    const res = await fetch(`${s.url}/api/export?verdict=DROPPED`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /ndjson/);
    assert.match(res.headers.get("content-disposition") ?? "", /attachment/);
    const text = await res.text();
    const lines = text.split("\n").filter(Boolean);
    const page = await getJson<FlowsPage>(`${s.url}/api/flows?verdict=DROPPED&limit=10000&order=asc`);
    assert.equal(lines.length, page.body.flows.length);
    assert.ok(page.body.flows.some((f) => f.flow.extensions), "stored drops carry Flowscope's decision details");
    for (let i = 0; i < lines.length; i++) {
      const stored = page.body.flows[i]!;
      // Each line is the canonical Hubble encoding of the stored envelope, byte for byte, without the
      // extensions Any that Hubble's readers cannot resolve.
      const { extensions: _ext, ...hubbleFlow } = stored.flow;
      assert.equal(lines[i], toHubbleJson({ flow: hubbleFlow, node_name: stored.node_name, time: stored.time }));
      // the details panel's Copy JSON gives the same line for the flow the API handed it
      assert.equal(flowJsonLine(stored), lines[i]);
      assert.equal(JSON.parse(lines[i]!).flow.verdict, "DROPPED");
    }
    // extensions=true keeps them, byte for byte as stored
    const withExt = (await (await fetch(`${s.url}/api/export?verdict=DROPPED&extensions=true`)).text()).split("\n").filter(Boolean);
    assert.equal(withExt.length, lines.length);
    for (let i = 0; i < withExt.length; i++) {
      const stored = page.body.flows[i]!;
      assert.equal(withExt[i], toHubbleJson({ flow: stored.flow, node_name: stored.node_name, time: stored.time }));
    }
    // a filter SQL cannot fully answer (the IP version: no column holds it) is checked row by row,
    // then packed the same way
    const regexQuery = "ip_version=IPv4&verdict=FORWARDED";
    const viaRegex = (await (await fetch(`${s.url}/api/export?${regexQuery}`)).text()).split("\n").filter(Boolean);
    const regexPage = await getJson<FlowsPage>(`${s.url}/api/flows?${regexQuery}&limit=10000&order=asc`);
    assert.ok(viaRegex.length > 0);
    assert.deepEqual(viaRegex.map((l) => JSON.parse(l).flow.uuid), regexPage.body.flows.map((f) => f.flow.uuid));
    const bad = await getJson<{ error: string; field: string }>(`${s.url}/api/export?verdict=NOPE`);
    assert.equal(bad.status, 400);
    const badExt = await getJson<{ error: string; field: string }>(`${s.url}/api/export?extensions=maybe`);
    assert.equal(badExt.status, 400);
    assert.equal(badExt.body.field, "extensions");
  } finally {
    await s.close();
  }
});

test("an evidence bundle downloads, verifies offline, and tampering is caught with the line number", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const decided = { "@type": "type.googleapis.com/flowscope.v1.FlowDecision", default_deny_by: [{ name: "lockdown", namespace: "payments", kind: "CiliumNetworkPolicy" }] };
    s.ctx.bus.publish(
      Array.from({ length: 50 }, (_, i) => {
        const f = makeFlow({ srcNs: "payments", dstNs: "payments", verdict: i % 2 ? "DROPPED" : "FORWARDED" });
        if (i % 2) f.flow.extensions = decided;
        return f;
      }),
    );
    s.ctx.store.flush();
    // The bundle keeps the decision details (they are the evidence) unless told not to.
    const plain = readTar(zlib.gunzipSync(Buffer.from(await (await fetch(`${s.url}/api/export/bundle?namespace=payments&verdict=DROPPED&extensions=false`)).arrayBuffer())));
    assert.equal(plain.find((e) => e.name === "flows.ndjson")!.data.toString("utf8").includes('"extensions"'), false);
    const res = await fetch(`${s.url}/api/export/bundle?namespace=payments&verdict=DROPPED`);
    assert.equal(res.status, 200);
    const buf = Buffer.from(await res.arrayBuffer());
    const ok = await verifyBundle(buf);
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.ok, true);
    assert.equal(ok.lines, 25);
    const names = readTar(zlib.gunzipSync(buf)).map((e) => e.name);
    const kept = readTar(zlib.gunzipSync(buf)).find((e) => e.name === "flows.ndjson")!.data.toString("utf8").split("\n").filter(Boolean);
    assert.ok(kept.every((l) => JSON.parse(l).flow.extensions?.default_deny_by?.[0]?.name === "lockdown"), "every evidence line names the default-deny policy");
    for (const f of ["flows.ndjson", "query.json", "policies.json", "fqdn-cache.json", "manifest.json"]) assert.ok(names.includes(f), `bundle has ${f}`);

    // Change one flow line inside the archive and re-pack it: verify names that line.
    const entries = readTar(zlib.gunzipSync(buf));
    const flows = entries.find((e) => e.name === "flows.ndjson")!;
    const lines = flows.data.toString("utf8").split("\n");
    lines[6] = lines[6]!.replace('"DROPPED"', '"FORWARDED"');
    flows.data = Buffer.from(lines.join("\n"));
    const { tarHeader, tarPadding, TAR_END } = await import("../../server/export/tar");
    const parts: Buffer[] = [];
    for (const e of entries) parts.push(tarHeader(e.name, e.data.length, 0), e.data, tarPadding(e.data.length));
    parts.push(TAR_END);
    const tampered = zlib.gzipSync(Buffer.concat(parts));
    const bad = await verifyBundle(tampered);
    assert.equal(bad.ok, false);
    assert.match(bad.errors.join("\n"), /line 7/);
  } finally {
    await s.close();
  }
});

test("importing a real Hubble export keeps the good lines and names the bad ones", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const good = EXAMPLES.split("\n").filter((l) => l.includes('"flow"'));
    const body = [good[0], "{this is not json", good[1], '{"flow":{"verdict":"SOMETIMES"}}', '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"3"}}', ...good.slice(2)].join("\n") + "\n";
    const r = await getJson<{ imported: number; errors: { line: number; message: string }[]; skipped: Record<string, number> }>(`${s.url}/api/import`, { method: "POST", body, headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(r.status, 200);
    assert.equal(r.body.imported, good.length);
    assert.deepEqual(r.body.errors.map((e) => e.line), [2, 4]);
    assert.equal(r.body.skipped.lost_events, 1);
    // Imported flows are queryable like any other, and export as the same bytes.
    const page = await getJson<FlowsPage>(`${s.url}/api/flows?limit=100&order=asc`);
    assert.equal(page.body.flows.length, good.length);
    const exported = (await (await fetch(`${s.url}/api/export`)).text()).split("\n").filter(Boolean);
    // The flow records come back unchanged (a legacy line without envelope node_name/time gets them
    // filled in from the flow, so compare the flows).
    assert.deepEqual(exported.map((l) => JSON.parse(l).flow), good.map((l) => JSON.parse(l).flow));
    assert.deepEqual(exported.filter((l) => good.includes(l)).length, good.length - 1);
    // The status's time range covers imported history, however old (not just the first row's time).
    const oldest = Math.min(...good.map((l) => Date.parse((JSON.parse(l) as { flow: { time: string } }).flow.time)));
    const status = await getJson<ServerStatus>(`${s.url}/api/status`);
    assert.equal(status.body.oldestFlowTime, new Date(oldest).toISOString());
    // Importing the same file again stores nothing new, says so, and streams nothing twice.
    const streamedBefore = s.ctx.bus.lastId();
    const again = await getJson<{ imported: number; duplicates: number }>(`${s.url}/api/import`, { method: "POST", body, headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(again.status, 200);
    const withUuid = good.filter((l) => JSON.parse(l).flow.uuid).length;
    assert.equal(again.body.duplicates, withUuid);
    assert.equal(again.body.imported, good.length - withUuid);
    assert.equal(s.ctx.bus.lastId() - streamedBefore, good.length - withUuid, "only flows without a uuid are published again");
    // A line of megabytes is one bad line: the lines after it keep their numbers.
    const long = ["x".repeat(3 * 1024 * 1024), "{bad", good[0]].join("\n") + "\n";
    const numbered = await getJson<{ lines: number; errors: { line: number; message: string }[] }>(`${s.url}/api/import`, { method: "POST", body: long, headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(numbered.body.lines, 3);
    assert.deepEqual(numbered.body.errors.map((e) => e.line), [1, 2]);
    assert.match(numbered.body.errors[0]!.message, /line is longer than/);
    // Values protojson refuses are bad lines, not stored as something else: bytes that are not UTF-8
    // (they were kept as U+FFFD), times that do not exist (stored as 1970), out-of-range integers.
    const base = JSON.parse(good[0]!) as { flow: Record<string, unknown> };
    const variant = (patch: (f: Record<string, unknown>) => void) => {
      const v = structuredClone(base);
      v.flow.uuid = crypto.randomUUID();
      patch(v.flow);
      return Buffer.from(JSON.stringify(v));
    };
    const badUtf8 = Buffer.concat([Buffer.from('{"flow":{"source":{"pod_name":"INVALID-'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')]);
    const lines = [
      badUtf8,
      variant((f) => (f.time = "2024-02-30T25:61:61Z")),
      variant((f) => (f.l4 = { TCP: { source_port: -5, destination_port: 80 } })),
      variant((f) => (f.event_type = { type: 1e308 })),
      variant((f) => (f.source = { ...(f.source as object), pod_name: "caf\u00e9-0" })),
    ];
    const strict = await getJson<{ imported: number; errors: { line: number; message: string }[] }>(`${s.url}/api/import`, {
      method: "POST",
      body: Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])),
      headers: { "Content-Type": "application/x-ndjson" },
    });
    assert.deepEqual(strict.body.errors.map((e) => e.line), [1, 2, 3, 4], JSON.stringify(strict.body.errors));
    assert.match(strict.body.errors[0]!.message, /not valid UTF-8 \(at byte 40 of the line\)/);
    assert.match(strict.body.errors[1]!.message, /flow\.time: "2024-02-30T25:61:61Z" is not a real time/);
    assert.match(strict.body.errors[2]!.message, /source_port: -5 is out of range for a uint32/);
    assert.match(strict.body.errors[3]!.message, /event_type\.type: .* is out of range for a int32/);
    assert.equal(strict.body.imported, 1, "the valid line (UTF-8 text included) is kept");
  } finally {
    await s.close();
  }
});

test("retention deletes the oldest flows only, and status reports the store", async () => {
  const s = await startTestServer({ simulate: false, env: { FLOWSCOPE_RETENTION_FLOWS: "1000" } });
  try {
    const published = s.ctx.bus.publish(Array.from({ length: 1500 }, () => makeFlow()));
    s.ctx.store.flush();
    await waitFor("retention", () => (s.ctx.store.storedFlows() <= 1000 ? true : undefined), 10_000);
    const kept = await getJson<FlowsPage>(`${s.url}/api/flows?limit=10000&order=asc`);
    assert.equal(kept.body.flows.length, 1000);
    assert.deepEqual(kept.body.flows.map((f) => f.id), published.slice(500).map((f) => String(f.id)));
    const status = await getJson<ServerStatus>(`${s.url}/api/status`);
    assert.equal(status.body.storedFlows, 1000);
    assert.equal(status.body.retention.maxFlows, 1000);
    assert.ok(status.body.databaseBytes > 0);
  } finally {
    await s.close();
  }
});

test("service map, namespaces and a policy's flows come from the stored history", async () => {
  const s = await startTestServer({ rate: 60 });
  try {
    await waitFor("flows", async () => ((await getJson<FlowsPage>(`${s.url}/api/flows?limit=300`)).body.flows.length >= 300 ? true : undefined), 30_000);
    const ns = await getJson<NamespacesResponse>(`${s.url}/api/namespaces`);
    for (const n of ["production", "payments", "kube-system"]) assert.ok(ns.body.namespaces.some((x) => x.namespace === n), `namespace ${n}`);
    const map = await getJson<ServiceMap>(`${s.url}/api/service-map`);
    assert.equal(map.status, 200);
    // the window takes the same time forms as /api/flows (at least the nodes of a moment ago: the
    // simulator keeps running, and a peer seen for the first time meanwhile adds one)
    assert.ok((await getJson<ServiceMap>(`${s.url}/api/service-map?since=10m`)).body.nodes.length >= map.body.nodes.length);
    // a window from before 2001 (and before 1970) is a window, not a 500
    for (const since of ["1970-01-01T00:00:00Z", "1969-12-31T00:00:00Z"]) {
      const old = await getJson<ServiceMap>(`${s.url}/api/service-map?since=${since}`);
      assert.equal(old.status, 200, since);
      assert.ok(old.body.nodes.length >= map.body.nodes.length, since);
    }
    const badWindow = await getJson<{ field: string }>(`${s.url}/api/service-map?until=2024-13-45T99:99:99Z`);
    assert.equal(badWindow.status, 400);
    assert.equal(badWindow.body.field, "until");
    assert.ok(map.body.nodes.length >= 5, `${map.body.nodes.length} map nodes`);
    assert.ok(map.body.edges.length >= 5, `${map.body.edges.length} map edges`);
    const ids = new Set(map.body.nodes.map((n) => n.id));
    for (const e of map.body.edges) assert.ok(ids.has(e.source) && ids.has(e.target), "edges join known nodes");
    const edgeTotal = map.body.edges.reduce((n, e) => n + e.flows, 0);
    assert.equal(edgeTotal, map.body.edges.reduce((n, e) => n + Object.values(e.verdicts).reduce((a, b) => a + (b ?? 0), 0), 0));
    // The first policy that decided something: its flows all name it.
    // Cilium's own entries (allow-any-*, allow-localhost-ingress) carry no name: they are no policy to ask about
    const named = (f: FlowsPage["flows"][number]) => [...(f.flow.ingress_allowed_by ?? []), ...(f.flow.egress_allowed_by ?? [])].find((p) => p.name && p.kind);
    const withPolicy = (await getJson<FlowsPage>(`${s.url}/api/flows?limit=5000&type=policy-verdict`)).body.flows.find((f) => named(f) !== undefined);
    assert.ok(withPolicy, "some flow was allowed by a named policy");
    const pol = named(withPolicy)!;
    // Kind/namespace/name: the first such flow may be a clusterwide policy's, which has no namespace
    const ref = `${pol.kind}/${pol.namespace ?? ""}/${pol.name}`;
    const byPolicy = await getJson<FlowsPage>(`${s.url}/api/policies/${encodeURIComponent(ref)}/flows?limit=50`);
    assert.ok(byPolicy.body.flows.length > 0, `flows of ${ref}`);
    for (const f of byPolicy.body.flows) {
      const all = [...(f.flow.ingress_allowed_by ?? []), ...(f.flow.egress_allowed_by ?? []), ...(f.flow.ingress_denied_by ?? []), ...(f.flow.egress_denied_by ?? []), ...(((f.flow.extensions as { default_deny_by?: { name?: string }[]; l7_decided_by?: { name?: string }[] }) ?? {}).default_deny_by ?? []), ...(((f.flow.extensions as { l7_decided_by?: { name?: string }[] }) ?? {}).l7_decided_by ?? []), ...(((f.flow.extensions as { l7_allow_all_by?: { name?: string }[] }) ?? {}).l7_allow_all_by ?? [])];
      assert.ok(all.some((p) => p.name === pol.name), "every flow returned names the policy");
    }
    // a policy parameter would widen the answer to a second policy: refused
    const both = await getJson<{ field: string }>(`${s.url}/api/policies/${encodeURIComponent(ref)}/flows?policy=other`);
    assert.equal(both.status, 400);
    assert.equal(both.body.field, "policy");
  } finally {
    await s.close();
  }
});

test("namespace counts are the flows touching each namespace, a flow within one namespace counted once", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    s.ctx.bus.publish([
      ...Array.from({ length: 5 }, () => makeFlow({ srcNs: "a", dstNs: "a", srcPod: "x-1", dstPod: "y-1" })),
      ...Array.from({ length: 3 }, () => makeFlow({ srcNs: "a", dstNs: "b", srcPod: "x-1", dstPod: "z-1" })),
    ]);
    const ns = await getJson<NamespacesResponse>(`${s.url}/api/namespaces`);
    assert.deepEqual(ns.body.namespaces, [{ namespace: "a", flows: 8 }, { namespace: "b", flows: 3 }]);
  } finally {
    await s.close();
  }
});

test("an evidence bundle fetched with ?token= does not record the token in its query", async () => {
  const s = await startTestServer({ simulate: false, env: { FLOWSCOPE_TOKEN: "s3cret-bundle-token" } });
  try {
    s.ctx.bus.publish([makeFlow({ srcNs: "shop", dstNs: "shop" })]);
    s.ctx.store.flush();
    const res = await fetch(`${s.url}/api/export/bundle?namespace=shop&token=s3cret-bundle-token`);
    assert.equal(res.status, 200);
    const tar = readTar(zlib.gunzipSync(Buffer.from(await res.arrayBuffer())));
    const query = tar.find((e) => e.name.endsWith("query.json"));
    assert.ok(query, "the bundle has query.json");
    const text = query!.data.toString("utf8");
    assert.match(text, /"namespace": "shop"/);
    for (const e of tar) assert.ok(!e.data.toString("utf8").includes("s3cret-bundle-token"), `${e.name} holds no token`);
  } finally {
    await s.close();
  }
});

test("a large import stores and streams each uuid once, also when lines repeat flows from earlier parts of it", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    // 45,000 lines: 40,000 distinct flows, then 5,000 repeats, half of them of the first 20,000 and half
    // of the next 20,000 (the import waits for the writer thread every 20,000 flows: a repeat is found
    // in the database or among the flows published since the last wait)
    const t0 = Date.parse("2024-05-01T10:00:00Z");
    const lines: string[] = [];
    for (let i = 0; i < 40_000; i++) lines.push(toHubbleJson(makeFlow({ srcPod: `p-${i % 50}`, time: new Date(t0 + i) })));
    for (let i = 0; i < 2500; i++) lines.push(lines[i * 7]!, lines[20_000 + i * 7]!);
    const body = lines.join("\n") + "\n";
    const r = await getJson<{ imported: number; duplicates: number; lines: number }>(`${s.url}/api/import`, { method: "POST", body, headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.lines, r.body.imported, r.body.duplicates], [45_000, 40_000, 5000]);
    s.ctx.store.flush();
    assert.equal(s.ctx.store.storedFlows(), 40_000);
    assert.equal(s.ctx.bus.lastId(), 40_000, "each flow streamed once");
  } finally {
    await s.close();
  }
});
