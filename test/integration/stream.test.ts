// The live stream under real sockets: filtered subscriptions, resume without gaps or duplicates,
// a client that stops reading, malformed messages, and the token when exposed.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import crypto from "node:crypto";
import type { StoredFlow } from "../../lib/api-types";
import type { ServerMessage } from "../../lib/stream-protocol";
import { startTestServer, waitFor, getJson } from "../helpers/server";
import { makeFlow } from "../helpers/flows";
import { connect, type Client } from "../helpers/ws-client";


test("a filtered subscription receives exactly the matching flows", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const drops = await connect(s.url);
    const payments = await connect(s.url);
    drops.ws.send(JSON.stringify({ type: "subscribe", filter: "verdict=DROPPED" }));
    payments.ws.send(JSON.stringify({ type: "subscribe", filter: "namespace=payments" }));
    await waitFor("both subscribed", () => drops.messages.some((m) => m.type === "status") && payments.messages.some((m) => m.type === "status"));
    const published = [];
    for (let i = 0; i < 200; i++) {
      const ns = i % 3 === 0 ? "payments" : "shop";
      published.push(makeFlow({ srcNs: ns, dstNs: ns, verdict: i % 4 === 0 ? "DROPPED" : "FORWARDED" }));
    }
    const seq = s.ctx.bus.publish(published);
    const wantDrops = seq.filter((f) => f.envelope.flow.verdict === "DROPPED").map((f) => String(f.id));
    const wantPayments = seq.filter((f) => f.envelope.flow.source?.namespace === "payments").map((f) => String(f.id));
    await waitFor("drops delivered", () => drops.flows.length >= wantDrops.length || undefined);
    await waitFor("payments delivered", () => payments.flows.length >= wantPayments.length || undefined);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(drops.flows.map((f) => f.id), wantDrops);
    assert.deepEqual(payments.flows.map((f) => f.id), wantPayments);
    drops.ws.close();
    payments.ws.close();
  } finally {
    await s.close();
  }
});

test("resuming with a cursor after a disconnect yields every missed flow once, in order, also from SQLite", async () => {
  // A tiny ring forces the resume to be served from SQLite.
  const s = await startTestServer({ simulate: false, stream: { ringCapacity: 50 } });
  try {
    const c1 = await connect(s.url);
    c1.ws.send(JSON.stringify({ type: "subscribe" }));
    await waitFor("subscribed", () => c1.messages.some((m) => m.type === "status"));
    s.ctx.bus.publish(Array.from({ length: 100 }, () => makeFlow()));
    await waitFor("first 100", () => c1.flows.length >= 100 || undefined);
    const cursor = c1.flows[c1.flows.length - 1]!.id;
    c1.ws.terminate();

    // Missed while away: more than the ring holds.
    const missed = s.ctx.bus.publish(Array.from({ length: 700 }, () => makeFlow()));
    const c2 = await connect(s.url);
    c2.ws.send(JSON.stringify({ type: "subscribe", cursor }));
    await new Promise((r) => setTimeout(r, 30));
    const live = s.ctx.bus.publish(Array.from({ length: 20 }, () => makeFlow()));
    const want = [...missed, ...live].map((f) => String(f.id));
    await waitFor("missed + live", () => c2.flows.length >= want.length || undefined);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(c2.flows.map((f) => f.id), want, "no gap, no duplicate, in order");
    c2.ws.close();
  } finally {
    await s.close();
  }
});

/** A WebSocket client that completes the handshake and then never reads another byte. */
async function stalledClient(url: string): Promise<net.Socket> {
  const u = new URL(url);
  const sock = net.connect(Number(u.port), u.hostname);
  await new Promise((r) => sock.once("connect", r));
  const key = crypto.randomBytes(16).toString("base64");
  sock.write(`GET /api/stream HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      if (buf.includes("\r\n\r\n")) {
        sock.off("data", onData);
        resolve();
      }
    };
    sock.on("data", onData);
  });
  // Subscribe (a masked client frame), then stop reading.
  const payload = Buffer.from(JSON.stringify({ type: "subscribe" }));
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  sock.pause();
  return sock;
}

test("a client that stops reading loses flows (lost_events) while another keeps receiving everything", async () => {
  // The queue bound is eight publishes' worth (8 × 250 flows): the healthy client reads in this process, on
  // the server's own event loop, and a bound of 500 (two publishes) cut it off now and then for not
  // draining 175 KB within 20 ms. The stalled client, which never reads, still overflows it 5 times over.
  const s = await startTestServer({ simulate: false, stream: { highWaterBytes: 64 * 1024, maxQueue: 2000, stuckTimeoutMs: 1500 } });
  try {
    const stalled = await stalledClient(s.url);
    const healthy = await connect(s.url);
    healthy.ws.send(JSON.stringify({ type: "subscribe" }));
    await waitFor("subscribed", () => healthy.messages.some((m) => m.type === "status"));
    let published = 0;
    for (let i = 0; i < 40; i++) {
      published += s.ctx.bus.publish(Array.from({ length: 250 }, () => makeFlow())).length;
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor("healthy client has all flows", () => healthy.flows.length >= published || undefined, 30_000);
    assert.equal(healthy.flows.length, published);
    assert.equal(new Set(healthy.flows.map((f) => f.id)).size, published);
    // The stalled client's queue stayed bounded and the loss was counted, then it was cut off.
    assert.ok(s.ctx.stream.lostEventsTotal > 0, "lost events were counted for the stalled client");
    await waitFor("stalled client disconnected", () => s.ctx.stream.disconnectedSlow > 0 || undefined, 15_000);
    assert.ok(Math.max(0, ...s.ctx.stream.queueDepths()) <= 2000);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /flowscope_websocket_slow_disconnects_total [1-9]/);
    stalled.destroy();
    healthy.ws.close();
  } finally {
    await s.close();
  }
});

test("a slow client that reads again is told how many flows it lost", async () => {
  const s = await startTestServer({ simulate: false, stream: { highWaterBytes: 16 * 1024, maxQueue: 100, stuckTimeoutMs: 60_000 } });
  try {
    const c = await connect(s.url);
    c.ws.send(JSON.stringify({ type: "subscribe" }));
    await waitFor("subscribed", () => c.messages.some((m) => m.type === "status"));
    // Stop reading at the socket level, publish far more than the queue holds, then read again.
    (c.ws as unknown as { _socket: net.Socket })._socket.pause();
    for (let i = 0; i < 20; i++) {
      s.ctx.bus.publish(Array.from({ length: 250 }, () => makeFlow()));
      await new Promise((r) => setTimeout(r, 20));
    }
    (c.ws as unknown as { _socket: net.Socket })._socket.resume();
    const lost = await waitFor("lost_events notice", () => c.messages.find((m) => m.type === "lost_events") as Extract<ServerMessage, { type: "lost_events" }> | undefined);
    assert.ok(lost.num_events_lost > 0);
    assert.ok(Number(lost.first) <= Number(lost.last));
    // Received + lost accounts for every flow published after subscribing.
    await new Promise((r) => setTimeout(r, 500));
    const lostTotal = c.messages.filter((m) => m.type === "lost_events").reduce((n, m) => n + (m as { num_events_lost: number }).num_events_lost, 0);
    assert.equal(c.flows.length + lostTotal, 5000);
    c.ws.close();
  } finally {
    await s.close();
  }
});

test("malformed messages get an error naming the problem; repeated abuse closes the socket; the server survives", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const c = await connect(s.url);
    c.ws.send("{not json");
    c.ws.send(JSON.stringify({ type: "teleport" }));
    c.ws.send(JSON.stringify({ type: "subscribe", filter: "verdict=SOMETIMES" }));
    c.ws.send(JSON.stringify({ type: "subscribe", cursor: "abc" }));
    c.ws.send(JSON.stringify({ type: "subscribe", cursor: true }));
    c.ws.send(JSON.stringify({ type: "subscribe", cursor: [5] }));
    await waitFor("six errors", () => c.messages.filter((m) => m.type === "error").length >= 6 || undefined);
    const errors = c.messages.filter((m) => m.type === "error") as Extract<ServerMessage, { type: "error" }>[];
    assert.match(errors[0]!.error, /not valid JSON/);
    assert.match(errors[1]!.error, /unknown message type "teleport"/);
    assert.equal(errors[2]!.field, "verdict");
    assert.equal(errors[3]!.field, "cursor");
    assert.match(errors[4]!.error, /cursor must be a flow id .* got true/, "true is not read as 1");
    assert.match(errors[5]!.error, /got \[5\]/);
    for (let i = 0; i < 10; i++) c.ws.send("garbage");
    await waitFor("closed for abuse", () => c.closed);
    assert.equal(c.closed!.code, 1008);
    assert.match(c.closed!.reason, /invalid messages/);

    // Oversized message: refused by the server, socket closed, server still fine.
    const big = await connect(s.url);
    big.ws.send("x".repeat(100_000));
    await waitFor("oversized closed", () => big.closed);
    assert.equal(big.closed!.code, 1009);
    assert.match(big.closed!.reason, /message of 100000 bytes is larger than the 16384-byte limit/);
    const ok = await getJson(`${s.url}/api/status`);
    assert.equal(ok.status, 200);
  } finally {
    await s.close();
  }
});

test("exposed beyond loopback, the token is required for REST and WebSocket", async () => {
  const s = await startTestServer({ simulate: false, env: { FLOWSCOPE_TOKEN: "s3cret-token" } });
  try {
    assert.equal((await fetch(`${s.url}/api/status`)).status, 401);
    assert.equal((await fetch(`${s.url}/api/status`, { headers: { Authorization: "Bearer wrong" } })).status, 401);
    assert.equal((await fetch(`${s.url}/api/status`, { headers: { Authorization: "Bearer s3cret-token" } })).status, 200);
    await assert.rejects(connect(s.url), /401/);
    const c = await connect(s.url, { Authorization: "Bearer s3cret-token" });
    c.ws.close();
  } finally {
    await s.close();
  }
});

test("pausing and resuming over and over while flows arrive skips none and repeats none", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    const c = await connect(s.url);
    c.ws.send(JSON.stringify({ type: "subscribe" }));
    await waitFor("subscribed", () => (c.messages.some((m) => m.type === "status") ? true : undefined));
    const ids: number[] = [];
    for (let round = 0; round < 40; round++) {
      ids.push(...s.ctx.bus.publish(Array.from({ length: 250 }, () => makeFlow())).map((f) => f.id));
      c.ws.send(JSON.stringify({ type: round % 2 === 0 ? "pause" : "resume" }));
      await new Promise((r) => setTimeout(r, 15));
    }
    c.ws.send(JSON.stringify({ type: "resume" }));
    await waitFor("every flow", () => (c.flows.length >= ids.length ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(c.flows.map((f) => Number(f.id)), ids, "each published flow once, in order");
    assert.equal(c.messages.filter((m) => m.type === "lost_events").length, 0);
    c.ws.close();
  } finally {
    await s.close();
  }
});

test("a client that answers no ping is dropped after the next one, and counted as a slow disconnect", async () => {
  const s = await startTestServer({ simulate: false, stream: { heartbeatMs: 150 } });
  try {
    const { default: WebSocket } = await import("ws");
    const mute = new WebSocket(s.url.replace(/^http/, "ws") + "/api/stream", { autoPong: false });
    const closed = new Promise<number>((resolve) => mute.on("close", (code) => resolve(code)));
    await new Promise((r) => mute.once("open", r));
    const answering = await connect(s.url);
    assert.equal(await closed, 1006, "the connection just ends");
    await waitFor("counted", () => (s.ctx.stream.disconnectedSlow >= 1 ? true : undefined), 5000, 20);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(answering.closed, undefined, "a client that answers pings stays");
    answering.ws.close();
  } finally {
    await s.close();
  }
});

test("a filter that spends a whole window's allowance early is closed then, not at the window's end, and is refused when it comes back", async () => {
  // a one-minute window: only the early close can end this test's wait
  const s = await startTestServer({ simulate: false, stream: { filterWindowMs: 60_000, maxFilterShare: 0.005 } });
  try {
    const ten = "[0,1,2,3,4,5,6,7,8,9]";
    const heavy = new URLSearchParams({ cel_expression: `${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, _flow.verdict == Verdict.DROPPED))))` }).toString();
    const expensive = await connect(s.url);
    expensive.ws.send(JSON.stringify({ type: "subscribe", filter: heavy }));
    await waitFor("subscribed", () => expensive.messages.some((m) => m.type === "status"));
    const feed = setInterval(() => s.ctx.bus.publish(Array.from({ length: 100 }, () => makeFlow({ verdict: "DROPPED" }))), 50);
    try {
      await waitFor("the expensive filter's client closed", () => expensive.closed, 20_000);
    } finally {
      clearInterval(feed);
    }
    assert.equal(expensive.closed!.code, 4009);
    // the same filter again is refused at once, naming why; another filter is welcome
    const again = await connect(s.url);
    again.ws.send(JSON.stringify({ type: "subscribe", filter: heavy }));
    const refused = await waitFor("an answer", () => again.messages.find((m) => m.type === "error" || m.type === "status"));
    assert.equal(refused.type, "error");
    assert.match((refused as { error: string }).error, /closed as too expensive \(4009\) less than 60 s ago/);
    again.ws.send(JSON.stringify({ type: "subscribe", filter: "verdict=DROPPED" }));
    await waitFor("subscribed with a cheap filter", () => again.messages.find((m) => m.type === "status" && (m as { subscribed?: boolean }).subscribed));
    again.ws.close();
  } finally {
    await s.close();
  }
});

test("a client whose filter takes more than its share of the main thread is closed with 4009; a cheap filter keeps its flows", async () => {
  const s = await startTestServer({ simulate: false, stream: { filterWindowMs: 300 } });
  try {
    const ten = "[0,1,2,3,4,5,6,7,8,9]";
    // about 10^4 steps a flow, well inside Hubble's cost limit: a valid filter, a millisecond a flow
    const heavy = `${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, _flow.verdict == Verdict.DROPPED))))`;
    const expensive = await connect(s.url);
    const cheap = await connect(s.url);
    expensive.ws.send(JSON.stringify({ type: "subscribe", filter: new URLSearchParams({ cel_expression: heavy }).toString() }));
    cheap.ws.send(JSON.stringify({ type: "subscribe", filter: new URLSearchParams({ cel_expression: "_flow.verdict == Verdict.DROPPED" }).toString() }));
    await waitFor("both subscribed", () => expensive.messages.some((m) => m.type === "status") && cheap.messages.some((m) => m.type === "status"));
    let published = 0;
    const feed = setInterval(() => {
      s.ctx.bus.publish(Array.from({ length: 100 }, (_, i) => makeFlow({ verdict: i % 2 ? "DROPPED" : "FORWARDED" })));
      published += 100;
    }, 50);
    try {
      await waitFor("the expensive filter's client closed", () => expensive.closed, 20_000);
    } finally {
      clearInterval(feed);
    }
    assert.equal(expensive.closed!.code, 4009);
    assert.match(expensive.closed!.reason, /filter too expensive: checking flows against it took \d+ ms of the last \d+ ms/);
    assert.equal(cheap.closed, undefined);
    await waitFor("the cheap filter's flows", () => (cheap.flows.length >= published / 2 ? true : undefined));
    assert.equal(cheap.flows.length, published / 2);
    cheap.ws.close();
  } finally {
    await s.close();
  }
});
