// The command line against a running server: observe (compact and json, filters, --not), export of an
// evidence bundle and its offline verification, and observe --input-file over an export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startTestServer } from "../helpers/server";
import { makeFlow } from "../helpers/flows";
import { tempDir } from "../helpers/tmp";

const exec = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ["--import", "tsx", "server/cli/main.ts", ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("observe, export --bundle and verify work against a running server", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const flows = [
      ...Array.from({ length: 10 }, () => makeFlow({ srcNs: "payments", dstNs: "payments", srcPod: "api-1", dstPod: "db-1", verdict: "DROPPED" })),
      ...Array.from({ length: 10 }, () => makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: "web-1", dstPod: "cart-1", verdict: "FORWARDED" })),
    ];
    s.ctx.bus.publish(flows);
    s.ctx.store.flush();

    const compact = await cli(["observe", "--server", s.url, "--namespace", "payments", "--verdict", "DROPPED", "--last", "5"]);
    assert.equal(compact.code, 0, compact.stderr);
    const lines = compact.stdout.trim().split("\n");
    assert.equal(lines.length, 5);
    for (const l of lines) assert.match(l, /payments\/api-1.*payments\/db-1.*DROPPED/);

    const json = await cli(["observe", "--server", s.url, "--not", "--namespace", "payments", "--all", "-o", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const objs = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(objs.length, 10);
    for (const o of objs) assert.equal(o.flow.source.namespace, "shop");

    const bad = await cli(["observe", "--server", s.url, "--verdict", "MAYBE"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MAYBE/);
    // combinations hubble refuses
    assert.match((await cli(["observe", "--server", s.url, "--first", "3", "--follow"])).stderr, /cannot set both --first and --follow/);
    assert.match((await cli(["observe", "--server", s.url, "-o", "table", "--follow"])).stderr, /table output format is not compatible with follow mode/);

    const bundle = path.join(s.tmpDir, "evidence.tar.gz");
    const exp = await cli(["export", "--server", s.url, "--namespace", "payments", "--bundle", bundle]);
    assert.equal(exp.code, 0, exp.stderr);
    const ver = await cli(["verify", bundle]);
    assert.equal(ver.code, 0, ver.stderr);
    assert.match(ver.stdout, /OK: .* 10 flow lines/);
    // A damaged bundle fails verification.
    const buf = fs.readFileSync(bundle);
    buf[buf.length - 20] ^= 0xff;
    fs.writeFileSync(bundle, buf);
    const ver2 = await cli(["verify", bundle]);
    assert.equal(ver2.code, 1);

    // Offline: observe over an NDJSON export file.
    const ndjson = path.join(s.tmpDir, "flows.json");
    const exp2 = await cli(["export", "--server", s.url, "-f", ndjson]);
    assert.equal(exp2.code, 0, exp2.stderr);
    const off = await cli(["observe", "--input-file", ndjson, "--to-pod", "shop/cart", "--all", "-o", "json"]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout.trim().split("\n").length, 10);
  } finally {
    await s.close();
  }
});

test("observe --input-file refuses what is not an export, and bounds a line that never ends", async () => {
  const dev = await cli(["observe", "--input-file", "/dev/zero"]);
  assert.equal(dev.code, 2);
  assert.match(dev.stderr, /^observe: --input-file: \/dev\/zero is not a file \(a device\)$/m);
  const dir = await cli(["observe", "--input-file", os.tmpdir()]);
  assert.match(dir.stderr, /is not a file \(a folder\)/);
  const missing = await cli(["observe", "--input-file", path.join(os.tmpdir(), "no-such-export.json")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
  const endless = path.join(tempDir("observe-"), "endless.json");
  fs.writeFileSync(endless, "x".repeat(3 * 1024 * 1024));
  const long = await cli(["observe", "--input-file", endless]);
  assert.equal(long.code, 0, "bad lines are warnings, as hubble's --input-file reader logs them and goes on");
  assert.match(long.stderr, /endless\.json:1: line is longer than 1048576 bytes/);
  // import refuses the same, before it reaches for a server
  const importDir = await cli(["import", os.tmpdir()]);
  assert.equal(importDir.code, 2);
  assert.match(importDir.stderr, /^import: .* is not a file \(a folder\)$/m);
  const importDev = await cli(["import", "/dev/zero"]);
  assert.equal(importDev.code, 2);
  assert.match(importDev.stderr, /^import: \/dev\/zero is not a file \(a device\)$/m);
});

test("observe output flags: dict records separated as hubble does, --print-node-name, --numeric, --print-policy-names", async () => {
  const file = "test/export/hubble-examples.ndjson";
  const dict = await cli(["observe", "--input-file", file, "--last", "3", "-o", "dict", "--print-node-name"]);
  assert.equal(dict.code, 0, dict.stderr);
  const records = dict.stdout.trimEnd().split("\n------------\n");
  assert.equal(records.length, 3);
  for (const r of records) assert.match(r, /^ {2}TIMESTAMP: .*\n {7}NODE: \S+\n {5}SOURCE: /);
  const numeric = await cli(["observe", "--input-file", file, "--last", "1", "--numeric"]);
  const named = await cli(["observe", "--input-file", file, "--last", "1"]);
  assert.match(named.stdout, /kube-system\/kube-dns-b4f5c58c7-vnx5s:53/);
  assert.match(numeric.stdout, /10\.156\.2\.2:59102 \(ID:1563\) <- 10\.156\.2\.3:53 \(ID:796\)/);
  assert.equal((await cli(["observe", "--input-file", file, "--last", "1", "--ip-translation=false"])).stdout, numeric.stdout);
  const bad = await cli(["observe", "--input-file", file, "--ip-translation=maybe"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--ip-translation: expected true or false/);

  // a policy-verdict record that names its policy
  const pv = makeFlow({ verdict: "DROPPED" });
  pv.flow.event_type = { type: 5 };
  pv.flow.traffic_direction = "INGRESS";
  pv.flow.ingress_denied_by = [{ name: "deny-all", namespace: "shop", kind: "CiliumNetworkPolicy" }];
  const one = path.join(tempDir("observe-"), "pv.json");
  fs.writeFileSync(one, JSON.stringify(pv) + "\n");
  const names = await cli(["observe", "--input-file", one, "--print-policy-names"]);
  assert.equal(names.code, 0, names.stderr);
  assert.match(names.stdout, /DENIED BY deny-all \(CiliumNetworkPolicy\)/);
});

test("import sends a Hubble export to the running server and reports bad lines by number; a second run finds duplicates", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const file = path.join(s.tmpDir, "hubble.json");
    const good = Array.from({ length: 3 }, () => JSON.stringify(makeFlow({ srcNs: "shop", dstNs: "shop" })));
    fs.writeFileSync(file, [good[0], "not json at all", good[1], '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"2"}}', good[2]].join("\n") + "\n");
    const r = await cli(["import", "--server", s.url, file]);
    assert.equal(r.code, 1, "a bad line makes the exit status 1, although the good lines are kept");
    assert.match(r.stdout, /imported 3 flows from 5 lines; skipped 1 lost_events; 1 bad line$/m);
    assert.match(r.stderr, /^line 2: /m);
    s.ctx.store.flush();
    assert.equal(s.ctx.store.storedFlows(), 3);
    const again = await cli(["import", "--server", s.url, file]);
    assert.match(again.stdout, /imported 0 flows from 5 lines; 3 already stored \(same uuid\)/);
    const clean = path.join(s.tmpDir, "one.json");
    fs.writeFileSync(clean, JSON.stringify(makeFlow({ srcNs: "shop", dstNs: "shop" })) + "\n");
    const one = await cli(["import", "--server", s.url, clean]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^imported 1 flow from 1 line$/m);
    // a file larger than one request goes in parts cut at line ends; bad lines keep their numbers in the file
    const parted = path.join(s.tmpDir, "parted.json");
    const many = Array.from({ length: 7 }, () => JSON.stringify(makeFlow({ srcNs: "shop", dstNs: "shop" })));
    fs.writeFileSync(parted, [many[0], many[1], "{", many[2], "", many[3], many[4], "[1]", many[5], many[6]].join("\n") + "\n");
    const lineBytes = Buffer.byteLength(many[0]!) + 1;
    const inParts = await cli(["import", "--server", s.url, "--part-bytes", String(lineBytes * 2), parted]);
    assert.match(inParts.stdout, /^imported 7 flows from 10 lines; 2 bad lines$/m, inParts.stderr);
    assert.match(inParts.stderr, /^line 3: invalid JSON/m);
    assert.match(inParts.stderr, /^line 8: expected a JSON object, got array/m);
    assert.equal((await cli(["import", "--server", s.url, "--part-bytes", "0", parted])).code, 2);
    // repeats of flows from earlier batches of the same request, which the writer may not have committed yet
    const repeats = path.join(s.tmpDir, "repeats.json");
    const batchOf = Array.from({ length: 2000 }, () => JSON.stringify(makeFlow({ srcNs: "shop", dstNs: "shop" })));
    fs.writeFileSync(repeats, [...batchOf, ...batchOf.slice(100, 400)].join("\n") + "\n");
    const before = s.ctx.store.storedFlows();
    const rep = await cli(["import", "--server", s.url, repeats]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout, /^imported 2,000 flows from 2,300 lines; 300 already stored \(same uuid\)$/m);
    s.ctx.store.flush();
    assert.equal(s.ctx.store.storedFlows() - before, 2000);
    // every bad line is counted, also past the ones listed
    const bad = path.join(s.tmpDir, "bad.json");
    fs.writeFileSync(bad, Array.from({ length: 1500 }, (_, i) => `{"flow": ${i}}`).join("\n") + "\n");
    const bads = await cli(["import", "--server", s.url, bad]);
    assert.equal(bads.code, 1);
    assert.match(bads.stdout, /^imported 0 flows from 1,500 lines; 1,500 bad lines$/m);
    assert.match(bads.stderr, /^… and 1400 more$/m);
    const usage = await cli(["import"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected one FILE/);
    assert.equal((await cli(["import", "--server", s.url, path.join(s.tmpDir, "missing.json")])).code, 2);
  } finally {
    await s.close();
  }
});

test("observe prints the last 20 only when nothing bounds it, as hubble observe does", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    s.ctx.bus.publish(Array.from({ length: 45 }, (_, i) => makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: `web-${i}`, dstPod: "cart-1", verdict: "FORWARDED" })));
    s.ctx.store.flush();
    const count = async (...args: string[]) => {
      const r = await cli(["observe", "--server", s.url, "-o", "json", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { flow: { source: { pod_name: string } } });
    };
    assert.equal((await count()).length, 20, "vanilla: the last 20");
    assert.equal((await count("--last", "0")).length, 20, "--last 0 is unset");
    const all = await count("--all");
    assert.equal(all.length, 45);
    assert.deepEqual(all.map((o) => o.flow.source.pod_name).slice(0, 2), ["web-0", "web-1"], "oldest first");
    assert.equal((await count("--since", "1h")).length, 45, "a window without --last prints all of it");
    assert.equal((await count("--since", "1h", "--last", "7")).length, 7);
    const first = await count("--first", "3");
    assert.deepEqual(first.map((o) => o.flow.source.pod_name), ["web-0", "web-1", "web-2"]);
  } finally {
    await s.close();
  }
});

test("observe takes --last/--first N from each node and merges them in time order, as through Hubble Relay", async () => {
  const dbPath = path.join(tempDir("per-node-"), "flows.db");
  let s = await startTestServer({ simulate: false, dbPath });
  try {
    // node-a sees a flow every second, node-b one in every six of those seconds
    const t0 = Date.now() - 60_000;
    const flows = [];
    for (let i = 0; i < 36; i++) {
      flows.push(makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: `a-${i}`, time: new Date(t0 + i * 1000), node: "node-a" }));
      if (i % 6 === 5) flows.push(makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: `b-${i}`, time: new Date(t0 + i * 1000 + 500), node: "node-b" }));
    }
    s.ctx.bus.publish(flows);
    s.ctx.store.flush();
    const observe = async (...args: string[]) => {
      const r = await cli(["observe", "--server", s.url, "-o", "json", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { flow: { source: { pod_name: string }; node_name: string } });
    };
    const pods = (lines: { flow: { source: { pod_name: string } } }[]) => lines.map((o) => o.flow.source.pod_name);
    // the default 20: node-a's newest 20 (a-16…a-35) and all 6 of node-b's, in time order
    const vanilla = await observe();
    assert.equal(vanilla.length, 26);
    assert.deepEqual(pods(vanilla).slice(0, 6), ["b-5", "b-11", "a-16", "a-17", "b-17", "a-18"]);
    assert.deepEqual(pods(await observe("--last", "2")), ["b-29", "a-34", "a-35", "b-35"]);
    assert.deepEqual(pods(await observe("--first", "2")), ["a-0", "a-1", "b-5", "b-11"]);
    // filters still apply on each node; --all and a window are not counted per node
    assert.deepEqual(pods(await observe("--node-name", "node-b", "--last", "2")), ["b-29", "b-35"]);
    assert.deepEqual(pods(await observe("--not", "--pod", "shop/b-35", "--last", "1")), ["b-29", "a-35"]);
    assert.equal((await observe("--all")).length, 42);
    // Hubble's CEL filter, decided row by row on the server
    assert.deepEqual(pods(await observe("--cel-expression", "_flow.source.pod_name.startsWith('b-') && _flow.time > timestamp('2000-01-01T00:00:00Z')", "--all")), ["b-5", "b-11", "b-17", "b-23", "b-29", "b-35"]);
    const badCel = await cli(["observe", "--server", s.url, "--cel-expression", "_flow.l4.TCP.destination_port == 80"]);
    assert.equal(badCel.code, 2);
    assert.match(badCel.stderr, /--cel-expression: invalid CEL expression: found no matching overload for '_==_' applied to '\(uint, int\)'/);
    assert.equal((await observe("--since", "1h", "--last", "3")).length, 6);

    // the REST side: the nodes, and node= ANDed with the other parameters
    assert.deepEqual(await (await fetch(`${s.url}/api/nodes`)).json(), { nodes: ["node-a", "node-b"], complete: true });
    const page = (await (await fetch(`${s.url}/api/flows?node=node-b&pod=shop/b-&limit=100`)).json()) as { flows: { node_name: string }[] };
    assert.equal(page.flows.length, 6);
    assert.equal((await (await fetch(`${s.url}/api/flows?node=node-b&pod=shop/a-&limit=100`)).json()).flows.length, 0);
    const twice = await fetch(`${s.url}/api/flows?node=node-a&node=node-b`);
    assert.equal(twice.status, 400);
    assert.match(await twice.text(), /node/);
  } finally {
    await s.close();
  }
  // after a restart, the nodes come from the stored rows
  s = await startTestServer({ simulate: false, dbPath });
  try {
    assert.deepEqual(await (await fetch(`${s.url}/api/nodes`)).json(), { nodes: ["node-a", "node-b"], complete: true });
    const r = await cli(["observe", "--server", s.url, "--last", "1", "--print-node-name"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 2);
  } finally {
    await s.close();
  }
});

test("CLI usage errors: flags are checked the same way everywhere, and export refuses counts instead of ignoring them", async () => {
  // no server is needed to be told how to use a command
  const help = await cli(["fqdn-cache", "list", "--help", "--server", "http://127.0.0.1:1"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /usage: .*fqdn-cache list/);
  const yaml = await cli(["fqdn-cache", "list", "-o", "yaml", "--server", "http://127.0.0.1:1"]);
  assert.equal(yaml.code, 2);
  assert.match(yaml.stderr, /-o must be json or table, got "yaml"/);
  assert.equal((await cli(["verify", "--help"])).code, 0);
  assert.equal((await cli(["verify"])).code, 2);
  const both = await cli(["export", "--bundle", "a.tgz", "-f", "b.json", "--server", "http://127.0.0.1:1"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /choose one of --bundle FILE/);
  const last = await cli(["export", "--last", "3", "--server", "http://127.0.0.1:1"]);
  assert.equal(last.code, 2);
  assert.match(last.stderr, /--last and --first are not supported/);

  const s = await startTestServer({ simulate: false });
  try {
    for (const k of ["limit=3", "cursor=5", "order=asc", "first=true"]) {
      const res = await fetch(`${s.url}/api/export?${k}`);
      assert.equal(res.status, 400, k);
      assert.equal(((await res.json()) as { field: string }).field, k.split("=")[0]);
    }
  } finally {
    await s.close();
  }
});
