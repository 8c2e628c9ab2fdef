// A page on another site (or one that rebinds its DNS name to 127.0.0.1) must not read or change
// anything: Host must name this machine, and WebSocket upgrades and state-changing requests must not come
// from a foreign Origin. Clients that are not browsers send no Origin and are unaffected.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import WebSocket from "ws";
import { startTestServer } from "../helpers/server";

function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

function upgrade(url: string, headers: Record<string, string>): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", () => undefined);
  });
}

test("a rebinding Host, a cross-site WebSocket and a cross-site import are refused; local clients are not", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const port = new URL(s.url).port;
    const rebound = await request(`${s.url}/api/status`, { headers: { Host: `attacker.example:${port}` } });
    assert.equal(rebound.status, 403);
    assert.match(JSON.parse(rebound.body).error, /unexpected Host "attacker\.example:\d+"/);
    assert.equal((await request(`${s.url}/api/status`, { headers: { Host: `localhost:${port}` } })).status, 200);
    assert.equal((await request(`${s.url}/api/status`, {})).status, 200);

    const line = JSON.stringify({ flow: { time: "2024-05-01T10:00:00Z", uuid: "x-site-1", verdict: "FORWARDED" }, time: "2024-05-01T10:00:00Z" });
    const crossImport = await request(`${s.url}/api/import`, { method: "POST", headers: { Origin: "https://evil.example", "Content-Type": "text/plain" }, body: line });
    assert.equal(crossImport.status, 403);
    assert.match(JSON.parse(crossImport.body).error, /cross-site request from "https:\/\/evil\.example" refused/);
    // the UI's own origin, and a client with no Origin at all
    assert.equal((await request(`${s.url}/api/import`, { method: "POST", headers: { Origin: s.url }, body: line })).status, 200);
    assert.equal((await request(`${s.url}/api/import`, { method: "POST", body: line.replace("x-site-1", "x-site-2") })).status, 200);

    const ws = s.url.replace("http", "ws") + "/api/stream";
    assert.equal(await upgrade(ws, { Origin: "https://evil.example" }), 403);
    assert.equal(await upgrade(ws, { Origin: s.url }), "open");
    assert.equal(await upgrade(ws, {}), "open");
  } finally {
    await s.close();
  }
});
