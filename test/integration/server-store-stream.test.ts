// The skeleton's promise: simulator → datapath → bus → SQLite + WebSocket → REST, with real sockets and
// a real database file, and flows that survive a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import WebSocket from "ws";
import type { FlowsPage, StoredFlow } from "../../lib/api-types";
import type { ServerMessage } from "../../lib/stream-protocol";
import { startTestServer, waitFor, getJson } from "../helpers/server";

function collect(ws: WebSocket): { flows: StoredFlow[]; messages: ServerMessage[] } {
  const out = { flows: [] as StoredFlow[], messages: [] as ServerMessage[] };
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString()) as ServerMessage;
    out.messages.push(msg);
    if (msg.type === "flows") out.flows.push(...msg.flows);
  });
  return out;
}

test("flows from the simulator reach a WebSocket client, SQLite and GET /api/flows, and survive a restart", async () => {
  const server = await startTestServer({ rate: 50 });
  let dbPath = server.dbPath;
  try {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/api/stream`);
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    const got = collect(ws);
    ws.send(JSON.stringify({ type: "subscribe" }));
    await waitFor("30 streamed flows", () => got.flows.length >= 30 || undefined);
    ws.close();

    // Every streamed flow is a Hubble envelope with a uuid, and is stored under the same id.
    for (const f of got.flows) {
      assert.ok(f.flow.uuid, "flow has a uuid");
      assert.ok(f.node_name && f.time, "envelope carries node_name and time");
    }
    const sample = got.flows.slice(0, 30);
    const page = await waitFor("flows in REST", async () => {
      const r = await getJson<FlowsPage>(`${server.url}/api/flows?limit=2000`);
      const ids = new Set(r.body.flows.map((f) => f.id));
      return sample.every((f) => ids.has(f.id)) ? r.body : undefined;
    });
    const byId = new Map(page.flows.map((f) => [f.id, f]));
    for (const f of sample) assert.deepEqual(byId.get(f.id), f, `flow ${f.id} from REST equals the streamed one`);

    // …and they are rows in the SQLite file itself.
    server.ctx.store.flush();
    const db = new Database(dbPath, { readonly: true });
    const row = db.prepare("SELECT uuid, verdict, body FROM flows WHERE id = ?").get(Number(sample[0]!.id)) as { uuid: string; verdict: string; body: string };
    // the record's shared parts (endpoints, policy lists) are references into the fragments table
    const fragment = db.prepare("SELECT json FROM fragments WHERE id = ?");
    const refs = [...row.body.matchAll(/\u0000([0-9a-z]+)\u0000/g)];
    assert.ok(refs.length >= 2, "source and destination are stored once, as fragments");
    const text = row.body.replace(/\u0000([0-9a-z]+)\u0000/g, (_, id: string) => (fragment.get(parseInt(id, 36)) as { json: string }).json);
    db.close();
    assert.equal(row.uuid, sample[0]!.flow.uuid);
    assert.equal(row.verdict, sample[0]!.flow.verdict);
    assert.deepEqual(JSON.parse(text).flow, sample[0]!.flow);

    // newest first, limit honoured
    const five = await getJson<FlowsPage>(`${server.url}/api/flows?limit=5`);
    assert.equal(five.status, 200);
    assert.equal(five.body.flows.length, 5);
    const ids = five.body.flows.map((f) => Number(f.id));
    assert.deepEqual([...ids].sort((a, b) => b - a), ids);
  } finally {
    await server.close();
  }

  // Restart on the same database: stored flows are still there and new ids continue after them.
  const again = await startTestServer({ dbPath, simulate: false });
  try {
    const r = await getJson<FlowsPage>(`${again.url}/api/flows?limit=1`);
    assert.equal(r.status, 200);
    assert.equal(r.body.flows.length, 1);
    assert.ok(again.ctx.store.storedFlows() >= 30);
    assert.equal(again.ctx.bus.lastId(), Number(r.body.flows[0]!.id));
  } finally {
    await again.close();
  }
});

test("bad requests get a 4xx answer naming the problem", async () => {
  const server = await startTestServer({ simulate: false });
  try {
    const bad = await getJson<{ error: string; field?: string }>(`${server.url}/api/flows?verdict=MAYBE`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /MAYBE/);
    assert.equal(bad.body.field, "verdict");
    const badLimit = await getJson<{ error: string; field?: string }>(`${server.url}/api/flows?limit=-3`);
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.field, "limit");
    const missing = await getJson<{ error: string }>(`${server.url}/api/nope`);
    assert.equal(missing.status, 404);
    const wrongMethod = await getJson<{ error: string }>(`${server.url}/api/flows`, { method: "DELETE" });
    assert.equal(wrongMethod.status, 405);
  } finally {
    await server.close();
  }
});
