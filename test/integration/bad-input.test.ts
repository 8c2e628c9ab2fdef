// Bad input to the server gets a clear error naming the problem (scratch/audit-input.md items 4, 7, 11,
// 13, 14 and the low ones): never a 500, never a parameter silently ignored, never a silent choice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { startTestServer, getJson, waitFor, type TestServer } from "../helpers/server";
import { connect, type Client } from "../helpers/ws-client";
import { tempDir } from "../helpers/tmp";
import type { ServerMessage } from "../../lib/stream-protocol";
import { combinePolicyFiles, parsePolicyText } from "../../server/datapath/policy/documents";

type ErrorBody = { error: string; field?: string };

async function expect400(s: TestServer, pathAndQuery: string, field: string, status = 400): Promise<ErrorBody> {
  const r = await getJson<ErrorBody>(`${s.url}${pathAndQuery}`);
  assert.equal(r.status, status, `${pathAndQuery}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.field, field, `${pathAndQuery}: ${JSON.stringify(r.body)}`);
  assert.ok(typeof r.body.error === "string" && r.body.error.length > 0, pathAndQuery);
  return r.body;
}

/** the next error message a client gets after `send` */
async function errorAfter(c: Client, msg: unknown): Promise<Extract<ServerMessage, { type: "error" }>> {
  const before = c.messages.length;
  c.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  return waitFor("an answer", () => {
    const m = c.messages.slice(before).find((x) => x.type === "error" || x.type === "status");
    if (!m) return undefined;
    assert.equal(m.type, "error", `expected an error for ${JSON.stringify(msg)}, got ${JSON.stringify(m)}`);
    return m as Extract<ServerMessage, { type: "error" }>;
  }, 5000, 10);
}

test("snat_ip and out-of-range times are a 400 naming the field on every route", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    for (const route of ["/api/flows", "/api/export", "/api/export/bundle", "/api/service-map"]) {
      await expect400(s, `${route}?snat_ip=bad`, "snat_ip");
      await expect400(s, `${route}?not.snat_ip=bad`, "not.snat_ip");
      // past what a Date holds, a duration reaching before year 0, and a year RFC 3339 cannot write
      await expect400(s, `${route}?until=99999999999999999999`, "until");
      await expect400(s, `${route}?since=99999999999999999999h`, "since");
      await expect400(s, `${route}?until=300000000000000`, "until");
    }
    await expect400(s, "/api/policies/stats?until=99999999999999999999", "until");
    await expect400(s, "/api/policies/stats?since=99999999999999999999h", "since");
    // a valid snat_ip still works
    assert.equal((await getJson(`${s.url}/api/flows?snat_ip=10.0.0.0/8`)).status, 200);

    const c = await connect(s.url);
    try {
      assert.equal((await errorAfter(c, { type: "subscribe", filter: "until=99999999999999999999" })).field, "until");
      assert.equal((await errorAfter(c, { type: "subscribe", filter: "since=99999999999999999999h" })).field, "since");
      assert.equal((await errorAfter(c, { type: "subscribe", filter: "snat_ip=bad" })).field, "snat_ip");
    } finally {
      c.ws.close();
    }
  } finally {
    await s.close();
  }
});

test("a parameter without a name, and more than 256 values of one, are a 400 on every route, the service map included", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const many = Array.from({ length: 257 }, (_, i) => `ip=10.0.${i >> 8}.${i & 255}`).join("&");
    for (const route of ["/api/flows", "/api/export", "/api/export/bundle", "/api/service-map"]) {
      await expect400(s, `${route}?=1`, "(empty name)");
      await expect400(s, `${route}?not.=1`, "not.");
      await expect400(s, `${route}?${many}`, "ip");
    }
    // 256 of them are fine
    const enough = Array.from({ length: 256 }, (_, i) => `ip=10.0.0.${i}`).join("&");
    assert.equal((await getJson(`${s.url}/api/service-map?${enough}`)).status, 200);
    const c = await connect(s.url);
    try {
      assert.equal((await errorAfter(c, { type: "subscribe", filter: "=1" })).field, "(empty name)");
      // bytes that are no UTF-8 are refused as REST refuses them, not turned into U+FFFD that matches nothing
      const bad = await errorAfter(c, { type: "subscribe", filter: "verdict=DROPPED&namespace=%ff%fe" });
      assert.equal(bad.field, "namespace");
      assert.match(bad.error, /parameter "namespace" is not valid percent-encoded UTF-8/);
      assert.equal((await errorAfter(c, { type: "subscribe", filter: "%ff=1" })).field, "%ff");
    } finally {
      c.ws.close();
    }
  } finally {
    await s.close();
  }
});

test("repeated single-valued parameters, parameters a route ignores, and `in ()` are a 400 naming them", async () => {
  const s = await startTestServer({ rate: 0 });
  try {
    await expect400(s, "/api/flows?limit=1&limit=abc", "limit");
    await expect400(s, "/api/flows?cursor=5&cursor=abc", "cursor");
    await expect400(s, "/api/flows?order=asc&order=bogus", "order");
    await expect400(s, "/api/flows?since=5m&since=1h", "since");
    await expect400(s, "/api/export?extensions=true&extensions=false", "extensions");
    await expect400(s, "/api/ipcache?node=a&node=b", "node");

    await expect400(s, "/api/service-map?limit=abc", "limit");
    await expect400(s, "/api/service-map?cursor=abc", "cursor");
    await expect400(s, "/api/flows?extensions=maybe", "extensions");
    await expect400(s, "/api/flows?follow=true", "follow");
    await expect400(s, "/api/endpoints?node=ghost", "node");
    await expect400(s, "/api/fqdn-cache?node=ghost", "node");
    await expect400(s, "/api/ipcache?node=ghost", "node");
    await expect400(s, "/api/status?verbose=1", "verbose");
    // what they do take still works, and the token never counts as unknown
    assert.equal((await getJson(`${s.url}/api/endpoints?token=x`)).status, 200);
    assert.equal((await getJson(`${s.url}/api/service-map?since=10m`)).status, 200);
    assert.equal((await getJson(`${s.url}/api/export?extensions=true`)).status, 200);

    // numbers are digits, percent-encoding is UTF-8, and a query stays within SQLite's reach
    await expect400(s, "/api/flows?limit=1e3", "limit");
    await expect400(s, "/api/flows?limit=0x10", "limit");
    await expect400(s, "/api/flows?namespace=%ff%fe", "namespace");
    const many = await expect400(s, `/api/flows?q=${encodeURIComponent(Array.from({ length: 600 }, (_, i) => `!label=a${i}`).join(" "))}`, "blacklist");
    assert.match(many.error, /at most 256/);
    await expect400(s, `/api/flows?${Array.from({ length: 300 }, (_, i) => `policy=p${i}`).join("&")}`, "policy");
    const bogus = await getJson<ErrorBody>(`${s.url}/api/import?bogus=1`, { method: "POST", body: "" });
    assert.equal(bogus.status, 400);
    assert.equal(bogus.body.field, "bogus");
    // HEAD reads like GET, without the body
    const head = await fetch(`${s.url}/api/status`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");

    const inEmpty = await expect400(s, `/api/flows?label=${encodeURIComponent("a in ()")}`, "label");
    assert.match(inEmpty.error, /at least one value/);
    await expect400(s, `/api/flows?to_label=${encodeURIComponent("a notin ( )")}`, "to_label");
    assert.equal((await getJson(`${s.url}/api/flows?label=${encodeURIComponent("a in (x)")}`)).status, 200);
  } finally {
    await s.close();
  }
});

test("the stream refuses unknown message fields and paging parameters in its filter, naming them", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    let c = await connect(s.url);
    try {
      const typo = await errorAfter(c, { type: "subscribe", filtr: "verdict=DROPPED" });
      assert.equal(typo.field, "filtr");
      assert.match(typo.error, /unknown field "filtr"/);
      assert.equal((await errorAfter(c, { type: "ping", id: "1", extra: 1 })).field, "extra");
      // names of Object's own properties are unknown types, not a crash
      for (const type of ["constructor", "__proto__", "toString"]) assert.equal((await errorAfter(c, `{"type":"${type}","x":1}`)).field, "type");
    } finally {
      c.ws.close();
    }
    // a fresh connection: ten bad messages on one close it (maxBadMessages)
    c = await connect(s.url);
    try {
      for (const p of ["limit=1", "first=true", "order=asc", "cursor=abc", "follow=true"]) {
        const e = await errorAfter(c, { type: "subscribe", filter: `verdict=DROPPED&${p}` });
        assert.equal(e.field, p.split("=")[0], JSON.stringify(e));
      }
      assert.equal((await errorAfter(c, { type: "subscribe", filter: "since=5m&since=1h" })).field, "since");
      // a correct subscribe still works after all that (fewer than maxBadMessages so far)
      const before = c.messages.length;
      c.ws.send(JSON.stringify({ type: "subscribe", filter: "verdict=DROPPED&since=5m", cursor: "0" }));
      const status = await waitFor("status", () => c.messages.slice(before).find((m) => m.type === "status"), 5000, 10);
      assert.equal(status.type === "status" && status.subscribed, true);
    } finally {
      c.ws.close();
    }
  } finally {
    await s.close();
  }
});

test("a WebSocket frame over the server's limit is closed 1009 with a reason", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const c = await connect(s.url);
    c.ws.send(Buffer.alloc(1024 * 1024 + 10, 0x20), { binary: false });
    await waitFor("close", () => c.closed, 10_000, 20);
    assert.equal(c.closed!.code, 1009);
    assert.match(c.closed!.reason, /larger than the 1048576-byte limit/);
  } finally {
    await s.close();
  }
});

test("policy bodies: invalid UTF-8 is a 400 naming the byte, a compressed body a 415, duplicate names a warning", async () => {
  const s = await startTestServer({ rate: 0 });
  try {
    const doc = (name: string, value: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: ${name}
  namespace: default
spec:
  endpointSelector: { matchLabels: { app: x } }
  ingress: [ { fromEndpoints: [ { matchLabels: { app: ${value} } } ] } ]
`;
    const text = doc("utf8", "PLACEHOLDER");
    const at = Buffer.byteLength(text.slice(0, text.indexOf("PLACEHOLDER")));
    const bad = Buffer.concat([Buffer.from(text.slice(0, text.indexOf("PLACEHOLDER"))), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(text.indexOf("PLACEHOLDER") + 11))]);
    for (const route of ["/api/policies", "/api/policies/preview"]) {
      const r = await getJson<ErrorBody>(`${s.url}${route}`, { method: route.endsWith("preview") ? "POST" : "PUT", body: bad });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.field, "body");
      assert.match(r.body.error, new RegExp(`not valid UTF-8 \\(at byte ${at + 1} `));
    }
    const names = (await getJson<{ policies: { name: string }[] }>(`${s.url}/api/policies`)).body.policies.map((p) => p.name);
    assert.ok(!names.includes("utf8"), "the policy with bad bytes was not applied");

    const gz = await getJson<ErrorBody>(`${s.url}/api/policies`, { method: "PUT", body: gzipSync(doc("gz", "y")), headers: { "Content-Encoding": "gzip" } });
    assert.equal(gz.status, 415);
    assert.match(gz.body.error, /compressed bodies are not supported/);

    // Two documents of the same name in one PUT: the second replaces the first, as kubectl apply would, and says so.
    const dup = await getJson<{ applied: { name: string }[]; warnings: { document: number; message: string; text: string }[] }>(`${s.url}/api/policies`, {
      method: "PUT",
      body: `${doc("dupe", "first")}---\n${doc("other", "z")}---\n${doc("dupe", "second")}`,
    });
    assert.equal(dup.status, 200, JSON.stringify(dup.body));
    assert.deepEqual(dup.body.applied.map((p) => p.name).sort(), ["dupe", "other"]);
    assert.equal(dup.body.warnings.length, 1, JSON.stringify(dup.body.warnings));
    assert.equal(dup.body.warnings[0]!.document, 1);
    assert.match(dup.body.warnings[0]!.text, /document 1 \(CiliumNetworkPolicy default\/dupe\).*document 3 replaces this document.*document 3 is the one in force/);
    const inForce = s.ctx.simulator!.datapath.policies().find((p) => p.name === "dupe")!;
    assert.match(inForce.yaml, /app: second/);
  } finally {
    await s.close();
  }
});

test("a gzip import is a 415, and a request line over the header limit a 431 with a body naming the limit", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const gz = await getJson<ErrorBody>(`${s.url}/api/import`, { method: "POST", body: gzipSync('{"flow":{}}\n'), headers: { "Content-Encoding": "gzip" } });
    assert.equal(gz.status, 415);
    assert.match(gz.body.error, /compressed bodies are not supported/);
    // a form upload or a binary file is no export
    for (const type of ["multipart/form-data; boundary=x", "image/png"]) {
      const r = await getJson<ErrorBody>(`${s.url}/api/import`, { method: "POST", body: '{"flow":{}}\n', headers: { "Content-Type": type } });
      assert.equal(r.status, 415, type);
      assert.match(r.body.error, /is not an export/);
    }
    assert.equal(s.ctx.store.storedFlows(), 0);

    // a record too large to store whole is kept trimmed, and both the answer and the record say so
    const bigUrl = `http://web/${"a".repeat(1_000_000)}`;
    const big = JSON.stringify({ flow: { uuid: "big-url-1", time: "2026-01-01T00:00:00Z", verdict: "FORWARDED", Type: "L7", l7: { type: "REQUEST", http: { method: "GET", url: bigUrl, protocol: "HTTP/1.1" } }, Summary: "HTTP/1.1 GET" } });
    const imp = await getJson<{ imported: number; notes: string[] }>(`${s.url}/api/import`, { method: "POST", body: `${big}\n`, headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(imp.status, 200);
    assert.equal(imp.body.imported, 1);
    assert.ok(imp.body.notes.some((n) => /^1 record was larger than a stored record may be .*stored trimmed/.test(n)), JSON.stringify(imp.body.notes));
    const stored = (await getJson<{ flow: { Summary?: string; l7?: { http?: { url?: string } } } }>(`${s.url}/api/flows/big-url-1`)).body.flow;
    assert.equal(stored.l7?.http?.url, bigUrl.slice(0, 4096));
    assert.match(stored.Summary ?? "", /^HTTP\/1\.1 GET \[flowscope: record trimmed to fit, \d+ bytes\]$/);

    const long = await getJson<ErrorBody>(`${s.url}/api/flows?q=${"a".repeat(20_000)}`);
    assert.equal(long.status, 431);
    assert.match(long.body.error, /16384-byte limit/);

    // a request the parser cannot read gets a body too
    const raw = await new Promise<string>((resolve) => {
      const sock = net.connect(s.port, "127.0.0.1");
      let out = "";
      sock.on("data", (d) => (out += d));
      sock.on("close", () => resolve(out));
      sock.on("error", () => resolve(out));
      sock.write("G@T / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /malformed HTTP request/);
  } finally {
    await s.close();
  }
});

test("the same policy name in two files: the warning is about the replaced file and names the one in force", async () => {
  const doc = (method: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: web-ingress, namespace: shop }
spec:
  endpointSelector: { matchLabels: { app: web } }
  ingress: [ { toPorts: [ { ports: [ { port: "8080", protocol: TCP } ], rules: { http: [ { method: ${method} } ] } } ] } ]
`;
  const r = combinePolicyFiles([
    { file: "p/a.yaml", text: parsePolicyText(doc("GET"), "p/a.yaml") },
    { file: "p/b.yaml", text: parsePolicyText(doc("POST"), "p/b.yaml") },
  ], []);
  assert.equal(r.policies.length, 1);
  assert.equal(r.policies[0]!.source, "p/b.yaml");
  assert.equal(r.warnings.length, 1);
  const w = r.warnings[0]!;
  assert.equal(w.file, "p/a.yaml", "the warning (printed as 'policy rejected') is about the file that is not in force");
  assert.match(w.text, /^p\/a\.yaml: document 1 .*replaced by .* in p\/b\.yaml document 1, which is the one in force/);

  // and trace says so
  const dir = tempDir("dupp-");
  fs.mkdirSync(path.join(dir, "pol"));
  fs.writeFileSync(path.join(dir, "pol", "a.yaml"), doc("GET"));
  fs.writeFileSync(path.join(dir, "pol", "b.yaml"), doc("POST"));
  fs.writeFileSync(path.join(dir, "scenario.yaml"), `apiVersion: flowscope/v1
kind: Scenario
metadata: { name: shop }
nodes: [ { name: node-1, ip: 192.168.1.10 } ]
namespaces: [ { name: shop } ]
workloads:
  - { name: web, namespace: shop, labels: { app: web }, ports: [ { name: http, port: 8080, protocol: TCP, app: http } ] }
  - { name: client, namespace: shop, labels: { app: client } }
policies: [ pol/ ]
`);
  const out = await promisify(execFile)(process.execPath, ["--import", "tsx", "server/cli/main.ts", "trace", "--scenario", path.join(dir, "scenario.yaml"), "--from", "shop/client", "--to", "shop/web", "--port", "8080", "--http-method", "POST"]).catch((e: { stdout: string; stderr: string }) => e);
  assert.match(out.stderr, /policy rejected: \S*a\.yaml: document 1 .*replaced by .*b\.yaml document 1, which is the one in force/, out.stderr);
});
