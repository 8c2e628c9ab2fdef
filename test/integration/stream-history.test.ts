// A page resumes the stream after the last flow id it has. Flow ids start again at 1 in a new
// database, so after a server restart on a new database that cursor means nothing: the stream names
// its flow history, the same across restarts on one database and another on a new one, and the
// page's stream client (lib/ui/stream-client.ts, run here over a real socket) reports the change.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import type { FlowsPage, ServerStatus, StoredFlow } from "../../lib/api-types";
import { StreamClient } from "../../lib/ui/stream-client";
import { makeFlow } from "../helpers/flows";
import { getJson, startTestServer, waitFor } from "../helpers/server";
import { connect } from "../helpers/ws-client";

test("the stream and /api/status name the database's flow history: kept across a restart, new with a new database", async () => {
  const first = await startTestServer({ simulate: false });
  const port = first.port;
  const dbPath = first.dbPath;
  const history = (await getJson<ServerStatus>(`${first.url}/api/status`)).body.historyId;
  assert.match(history, /^[0-9a-f-]{36}$/);
  // a page of flows names it too: a stream resuming after those flows must be on the same history
  assert.equal((await getJson<FlowsPage>(`${first.url}/api/flows?limit=1`)).body.history, history);
  const c = await connect(first.url);
  c.ws.send(JSON.stringify({ type: "subscribe", filter: "" }));
  const status = await waitFor("a status", () => c.messages.find((m) => m.type === "status"));
  assert.equal(status.type === "status" && status.history, history);
  c.ws.close();
  await first.close();

  // the same database again: the same history
  const again = await startTestServer({ simulate: false, dbPath, env: { PORT: String(port) } });
  try {
    assert.equal((await getJson<ServerStatus>(`${again.url}/api/status`)).body.historyId, history);
  } finally {
    await again.close();
  }
  // a new database: another one
  const fresh = await startTestServer({ simulate: false });
  try {
    assert.notEqual((await getJson<ServerStatus>(`${fresh.url}/api/status`)).body.historyId, history);
  } finally {
    await fresh.close();
  }
});

test("the page's stream client reports a server that came back on a new database, not one that came back on its own", async () => {
  const g = globalThis as unknown as { WebSocket?: unknown };
  const had = g.WebSocket;
  g.WebSocket = WebSocket;
  let server = await startTestServer({ simulate: false });
  const port = server.port;
  const dbPath = server.dbPath;
  const flows: StoredFlow[] = [];
  let changes = 0;
  const states: string[] = [];
  const client = new StreamClient(`ws://127.0.0.1:${port}/api/stream`, {
    onFlows: (f) => flows.push(...f),
    onState: (s) => states.push(s),
    onHistoryChanged: () => changes++,
  });
  try {
    client.subscribe("");
    await waitFor("the stream", () => (states.includes("live") ? true : undefined));
    // the subscribe is answered before any flow published after it
    await new Promise((r) => setTimeout(r, 300));
    server.ctx.bus.publish([makeFlow({ srcNs: "shop" }), makeFlow({ srcNs: "shop" })]);
    await waitFor("two flows", () => (flows.length >= 2 ? true : undefined));

    // a restart on the same database: the client resumes, and nothing changed
    await server.close();
    await waitFor("the client to notice", () => (states.includes("reconnecting") ? true : undefined));
    server = await startTestServer({ simulate: false, dbPath, env: { PORT: String(port) } });
    server.ctx.bus.publish([makeFlow({ srcNs: "shop" })]);
    await waitFor("the flow after the restart", () => (flows.length >= 3 ? true : undefined), 20_000);
    assert.equal(changes, 0);

    // a restart on a new database: reported
    await server.close();
    states.length = 0;
    await waitFor("the client to notice", () => (states.includes("reconnecting") ? true : undefined));
    server = await startTestServer({ simulate: false, env: { PORT: String(port) } });
    await waitFor("the history change", () => (changes === 1 ? true : undefined), 20_000);

    // a first page read from one database, and a stream that reaches another (the server restarted in
    // between): the page's history is the one the cursor belongs to, so the first status already differs
    let late = 0;
    const other = new StreamClient(`ws://127.0.0.1:${port}/api/stream`, { onFlows: () => undefined, onState: () => undefined, onHistoryChanged: () => late++ });
    try {
      other.subscribe("", "12345", "the-history-of-a-database-that-is-gone");
      await waitFor("the change, at the first status", () => (late === 1 ? true : undefined), 20_000);
      // the page's own history: nothing to report
      const same = (await getJson<FlowsPage>(`${server.url}/api/flows?limit=1`)).body.history!;
      let none = 0;
      const ok = new StreamClient(`ws://127.0.0.1:${port}/api/stream`, { onFlows: () => undefined, onState: () => undefined, onHistoryChanged: () => none++ });
      ok.subscribe("", undefined, same);
      ok.setPaused(true);
      ok.setPaused(false);
      await new Promise((r) => setTimeout(r, 1000));
      ok.close();
      assert.equal(none, 0);
    } finally {
      other.close();
    }
  } finally {
    client.close();
    await server.close();
    g.WebSocket = had;
  }
});
