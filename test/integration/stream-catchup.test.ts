// Catching up over stored history (subscribe with a cursor, resume) shares one bounded budget per tick
// between all clients, so that clients far behind the live edge, however many, neither stall the
// server nor delay live flows; and the number of connections is capped.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { StoredFlow } from "../../lib/api-types";
import type { FlowEnvelope } from "../../lib/flow/types";
import type { ServerMessage } from "../../lib/stream-protocol";
import { compileQuery } from "../../lib/filter/match";
import { parseSearchParams } from "../../lib/filter/params";
import { startTestServer, waitFor, type TestServer } from "../helpers/server";
import { makeFlow } from "../helpers/flows";
import { connect, type Client } from "../helpers/ws-client";


async function subscribe(c: Client, filter: string, cursor?: string): Promise<void> {
  const before = c.messages.filter((m) => m.type === "status").length;
  c.ws.send(JSON.stringify({ type: "subscribe", filter, ...(cursor !== undefined ? { cursor } : {}) }));
  await waitFor(`subscribed to ${JSON.stringify(filter)}`, () => c.messages.filter((m) => m.type === "status").length > before || undefined, 20_000, 10);
  const err = c.messages.find((m) => m.type === "error");
  assert.equal(err, undefined, `subscribe ${filter}`);
}

/** publishes n flows in batches, as the simulator would, and waits until they are in SQLite */
function storeFlows(s: TestServer, n: number, spec: (i: number) => Parameters<typeof makeFlow>[0] = () => ({})): { id: number; envelope: FlowEnvelope }[] {
  const out: { id: number; envelope: FlowEnvelope }[] = [];
  for (let done = 0; done < n; ) {
    const k = Math.min(1000, n - done);
    const batch = s.ctx.bus.publish(Array.from({ length: k }, (_, j) => makeFlow(spec(done + j))));
    for (const f of batch) out.push({ id: f.id, envelope: f.envelope });
    done += k;
  }
  s.ctx.store.flush();
  return out;
}

/** /api/status answers (how fast is the benchmark's business, not the test's: machines are noisy) */
async function statusAnswers(url: string): Promise<void> {
  const res = await fetch(`${url}/api/status`);
  await res.json();
  assert.equal(res.status, 200);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("clients catching up over 100k stored flows share one bounded budget per tick: the server keeps answering and live flows keep flowing", async () => {
  const rowsPerTick = 1000;
  // Rows alone bound a tick here: with the time limit in play too, a busy machine would hand out
  // shares by the clock, and the fairness checked below would depend on timing.
  const s = await startTestServer({ simulate: false, stream: { catchUpRowsPerTick: rowsPerTick, catchUpMsPerTick: 60_000 } });
  try {
    storeFlows(s, 100_000, (i) => ({ verdict: i % 10 === 0 ? "DROPPED" : "FORWARDED" }));
    const stream = s.ctx.stream;

    const live = await connect(s.url);
    await subscribe(live, "");

    // Filters matching none of the stored flows, from the first one: SQL can rule the first kind out
    // through an index; the second (an HTTP header: no column holds headers) only row by row in JS,
    // so its rows cost parsing.
    const behind: Client[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await connect(s.url);
      behind.push(c);
      c.ws.send(JSON.stringify({ type: "subscribe", filter: i % 2 === 0 ? "verdict=ERROR" : "http_header=x-never%3A1", cursor: "0" }));
    }
    await waitFor("all subscribed", () => behind.every((c) => c.messages.some((m) => m.type === "status")) || undefined, 20_000, 5);
    assert.ok(stream.catchingUpCount() > 0);

    // While they catch up, the server answers and a live flow reaches the unfiltered client.
    for (let i = 0; i < 8; i++) {
      await statusAnswers(s.url);
      await sleep(20);
    }
    const [published] = s.ctx.bus.publish([makeFlow({ verdict: "AUDIT" })]);
    await waitFor("live flow delivered", () => live.flows.some((f) => f.id === String(published!.id)) || undefined, 20_000, 5);
    assert.ok(stream.catchingUpCount() > 0, "the live flow arrived while clients were still catching up");

    const stats = stream.catchUpStats;
    assert.ok(stats.ticks > 1 && stats.rows > 0, `catch-up ran (${JSON.stringify(stats)})`);
    assert.ok(stats.maxRowsInTick <= rowsPerTick, `at most ${rowsPerTick} rows read per tick for all clients together, saw ${stats.maxRowsInTick}`);
    // Shared fairly: the four header clients (which read every row) are served alike.
    const regexCursors = () => stream.catchUpCursors().filter((c) => c.filter.startsWith("http_header")).map((c) => c.cursor);
    await waitFor("regex clients progressing", () => (regexCursors().length === 4 && Math.min(...regexCursors()) >= 3000) || undefined, 60_000);
    const regex = regexCursors();
    assert.ok(Math.min(...regex) * 2 >= Math.max(...regex), `round-robin keeps them together: ${regex.join(", ")}`);
    assert.ok(Math.max(...regex) < 100_000, "and none has finished");

    // None of the stored flows matched, and the live AUDIT flow matches neither filter.
    for (const c of behind) assert.equal(c.flows.length, 0);
    for (const c of [live, ...behind]) c.ws.close();
  } finally {
    await s.close();
  }
});

test("a client catching up under a tight budget gets every matching stored flow, then the live ones, in order, once", async () => {
  // A small ring and a tight per-tick budget: history is read from SQLite and from the ring, over many ticks.
  const rowsPerTick = 200;
  const s = await startTestServer({ simulate: false, stream: { ringCapacity: 1000, catchUpRowsPerTick: rowsPerTick } });
  try {
    const spec = (i: number) => ({
      verdict: i % 7 === 0 ? ("DROPPED" as const) : ("FORWARDED" as const),
      srcNs: i % 3 === 0 ? "payments" : "shop",
      srcPod: i % 5 === 0 ? "client-a" : "client-b",
    });
    const all = storeFlows(s, 6000, spec);
    const mid = String(all[2500]!.id);
    const subs: { filter: string; cursor: string }[] = [
      { filter: "", cursor: "0" }, // everything: no parsing at all
      { filter: "verdict=DROPPED", cursor: "0" }, // SQL decides, through an index
      { filter: "namespace=payments", cursor: "0" }, // SQL decides, an OR of two sides
      { filter: "label=app%3Dclient-a", cursor: "0" }, // SQL narrows, JS decides (a label of any source)
      { filter: "not.verdict=DROPPED&from_pod=shop%2Fclient", cursor: mid }, // from the middle, with a deny list
    ];
    const clients: Client[] = [];
    for (const sub of subs) {
      const c = await connect(s.url);
      clients.push(c);
      await subscribe(c, sub.filter, sub.cursor);
    }
    // Live flows arrive while they catch up.
    for (let round = 0; round < 3; round++) {
      await sleep(60);
      for (const f of s.ctx.bus.publish(Array.from({ length: 500 }, (_, j) => makeFlow(spec(j + round))))) all.push({ id: f.id, envelope: f.envelope });
    }
    for (let i = 0; i < subs.length; i++) {
      const { filter, cursor } = subs[i]!;
      const match = compileQuery(parseSearchParams(new URLSearchParams(filter)));
      const want = all.filter((f) => f.id > Number(cursor) && match(f.envelope.flow)).map((f) => String(f.id));
      assert.ok(want.length > 0 && want.length < all.length || filter === "", `filter ${filter} selects some flows`);
      const c = clients[i]!;
      await waitFor(`${filter}: ${want.length} flows`, () => c.flows.length >= want.length || undefined, 60_000);
      await sleep(150);
      assert.deepEqual(
        c.flows.map((f) => f.id),
        want,
        `${JSON.stringify(filter)} from ${cursor}: every match, in order, no gap, no duplicate`,
      );
      assert.equal(c.messages.filter((m) => m.type === "lost_events").length, 0);
    }
    assert.equal(s.ctx.stream.catchingUpCount(), 0);
    const stats = s.ctx.stream.catchUpStats;
    assert.ok(stats.ticks >= 10, `catching up took many ticks (${stats.ticks})`);
    assert.ok(stats.maxRowsInTick <= rowsPerTick, `at most ${rowsPerTick} rows per tick, saw ${stats.maxRowsInTick}`);
    for (const c of clients) c.ws.close();
  } finally {
    await s.close();
  }
});

test("connections beyond the cap are refused with 1013 and a reason; a freed slot is usable again", async () => {
  const s = await startTestServer({ simulate: false, stream: { maxClients: 3 } });
  try {
    const ok = [await connect(s.url), await connect(s.url), await connect(s.url)];
    const extra = await connect(s.url);
    await waitFor("refused", () => extra.closed, 10_000, 10);
    assert.equal(extra.closed!.code, 1013);
    assert.match(extra.closed!.reason, /try again later: 3 clients connected/);
    assert.equal(s.ctx.stream.clientCount, 3);
    assert.equal(s.ctx.stream.refusedConnections, 1);
    // the ones admitted still work
    await subscribe(ok[0]!, "");
    ok[2]!.ws.close();
    await waitFor("slot freed", () => s.ctx.stream.clientCount === 2 || undefined, 10_000, 10);
    const again = await connect(s.url);
    await subscribe(again, "verdict=DROPPED");
    assert.equal(again.closed, undefined);
    for (const c of [ok[0]!, ok[1]!, again]) c.ws.close();
  } finally {
    await s.close();
  }
});

test("FLOWSCOPE_STREAM_MAX_CLIENTS sets the cap", async () => {
  let s: TestServer | undefined;
  try {
    s = await startTestServer({ simulate: false, env: { FLOWSCOPE_STREAM_MAX_CLIENTS: "1" } });
    const first = await connect(s.url);
    const second = await connect(s.url);
    await waitFor("refused", () => second.closed, 10_000, 10);
    assert.equal(second.closed!.code, 1013);
    assert.match(second.closed!.reason, /limit 1\)/);
    first.ws.close();
  } finally {
    await s?.close();
  }
});
