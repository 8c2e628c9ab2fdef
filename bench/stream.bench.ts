// Live stream under load: 50 concurrent WebSocket clients with different filters (in a separate
// process: 2 unfiltered, 4 on all drops, the rest on one of 20 namespaces) while 10,000 flows/s are
// published; delivery latency p50/p99 (flow decided → client received). Then the server's peak RSS
// over 60 s with one client that never reads (it must level off, not grow).
import { spawn } from "node:child_process";
import net from "node:net";
import crypto from "node:crypto";
import { startTestServer } from "../test/helpers/server";
import { makeFlow } from "../test/helpers/flows";

const FLOWS_PER_S = Number(process.env.BENCH_STREAM_RATE ?? 10_000);
const CLIENTS = Number(process.env.BENCH_STREAM_CLIENTS ?? 50);
const LOAD_S = Number(process.env.BENCH_STREAM_SECONDS ?? 15);
const STALL_S = Number(process.env.BENCH_STALL_SECONDS ?? 60);

function publisher(publish: (n: number) => void): () => void {
  const tickMs = 10;
  let credit = 0;
  let last = Date.now();
  const t = setInterval(() => {
    const now = Date.now();
    credit += ((now - last) / 1000) * FLOWS_PER_S;
    last = now;
    const n = Math.floor(credit);
    credit -= n;
    if (n > 0) publish(n);
  }, tickMs);
  return () => clearInterval(t);
}

const namespaces = Array.from({ length: 20 }, (_, i) => `ns-${i}`);
function batch(n: number) {
  const now = new Date();
  return Array.from({ length: n }, (_, i) => {
    const ns = namespaces[i % namespaces.length]!;
    return makeFlow({ srcNs: ns, dstNs: namespaces[(i * 7 + 3) % namespaces.length], srcPod: `client-${i % 13}`, dstPod: `server-${i % 7}`, verdict: i % 5 === 0 ? "DROPPED" : "FORWARDED", time: now });
  });
}

async function stalledSocket(url: string): Promise<net.Socket> {
  const u = new URL(url);
  const sock = net.connect(Number(u.port), u.hostname);
  await new Promise((r) => sock.once("connect", r));
  sock.write(`GET /api/stream HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise((r) => sock.once("data", r));
  const payload = Buffer.from(JSON.stringify({ type: "subscribe" }));
  const mask = crypto.randomBytes(4);
  sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
  sock.pause();
  return sock;
}

export async function main(): Promise<Record<string, number>> {
  // stuckTimeoutMs beyond the stall window: the stalled client stays connected the whole time.
  const server = await startTestServer({ simulate: false, stream: { stuckTimeoutMs: (STALL_S + 30) * 1000 } });
  const wsUrl = server.url.replace("http", "ws") + "/api/stream";
  try {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/stream-clients.ts", wsUrl, String(CLIENTS), String(LOAD_S)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    await new Promise((r) => setTimeout(r, 1500));
    const stop = publisher((n) => server.ctx.bus.publish(batch(n)));
    await new Promise((r) => child.on("exit", r));
    stop();
    const lat = JSON.parse(out.trim().split("\n").pop()!);
    console.log(`stream: ${CLIENTS} clients, ${FLOWS_PER_S} flows/s for ${LOAD_S}s: delivered ${lat.received} flow messages; latency p50 ${lat.p50} ms, p99 ${lat.p99} ms (target p99 < 200 ms)`);

    const stalled = await stalledSocket(server.url);
    const stopStall = publisher((n) => server.ctx.bus.publish(batch(n)));
    const rss: number[] = [];
    for (let s = 0; s < STALL_S; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      rss.push(process.memoryUsage().rss / 1e6);
    }
    stopStall();
    stalled.destroy();
    const firstHalf = Math.max(...rss.slice(0, Math.ceil(rss.length / 2)));
    const secondHalf = Math.max(...rss.slice(Math.ceil(rss.length / 2)));
    console.log(`stream: one stalled client for ${STALL_S}s at ${FLOWS_PER_S} flows/s: peak RSS ${Math.max(...rss).toFixed(0)} MB (first half ${firstHalf.toFixed(0)} MB, second half ${secondHalf.toFixed(0)} MB, ratio ${(secondHalf / firstHalf).toFixed(2)}); lost events ${server.ctx.stream.lostEventsTotal}`);
    return {
      stream_clients: CLIENTS,
      stream_rate: FLOWS_PER_S,
      stream_latency_p50_ms: lat.p50,
      stream_latency_p99_ms: lat.p99,
      stream_stalled_peak_rss_mb: Math.round(Math.max(...rss)),
      stream_stalled_rss_second_half_over_first: Math.round((secondHalf / firstHalf) * 100) / 100,
      stream_lost_events: server.ctx.stream.lostEventsTotal,
    };
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((r) => console.log(JSON.stringify(r)));
}
