// Live stream under load: 50 concurrent WebSocket clients with different filters (in a separate
// process; filters drawn from the scenario's namespaces, workloads, labels, verdicts and L7) while the
// simulator decides 10,000 flows/s through the datapath, into SQLite and the stream; delivery latency
// p50/p99 (flow decided → client received). Then the server's peak RSS over 60 s with one client
// that never reads (it must level off, not grow), beside the same 60 s without it.
import { spawn } from "node:child_process";
import net from "node:net";
import crypto from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import { startTestServer } from "../test/helpers/server";
import { CT_DEFAULTS } from "../server/datapath/conntrack";

v8.setFlagsFromString("--expose-gc");
const collect = vm.runInNewContext("gc") as () => void;

const FLOWS_PER_S = Number(process.env.BENCH_STREAM_RATE ?? 10_000);
const CLIENTS = Number(process.env.BENCH_STREAM_CLIENTS ?? 50);
const LOAD_S = Number(process.env.BENCH_STREAM_SECONDS ?? 15);
const STALL_S = Number(process.env.BENCH_STALL_SECONDS ?? 60);

/** Simulator requests per second that make `flowsPerS` flows per second, measured on the scenario itself. */
async function calibrate(flowsPerS: number): Promise<number> {
  // Flows per request depends on the traffic mix (a DNS lookup makes fewer records than an HTTP call
  // through the proxy): measured over enough requests that the mix is the scenario's, and counted
  // against the requests actually made rather than the rate asked for.
  const probeRate = 2000;
  const s = await startTestServer({ rate: probeRate });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const p0 = s.ctx.bus.published;
    const r0 = s.ctx.simulator!.requests;
    await new Promise((r) => setTimeout(r, 4000));
    const flowsPerRequest = (s.ctx.bus.published - p0) / (s.ctx.simulator!.requests - r0);
    return Math.round(flowsPerS / flowsPerRequest);
  } finally {
    await s.close();
  }
}

/**
 * Like a team of users on the scenario's cluster: a couple watch everything, a few watch all drops or
 * audits, most watch one namespace (its traffic, its drops, one direction of it), one workload, one
 * label or one kind of L7 traffic. Distinct filters, cycled if more clients are asked for.
 */
function clientFilters(namespaces: string[], workloads: { namespace: string; name: string; app?: string }[], n: number): string[] {
  const out = ["", "", "verdict=DROPPED", "verdict=AUDIT", "verdict=DROPPED&type=policy-verdict", "type=l7", "protocol=UDP", "http_status=4+"];
  for (const ns of namespaces) out.push(`namespace=${ns}`, `namespace=${ns}&verdict=DROPPED`, `from_pod=${ns}/`, `to_pod=${ns}/`);
  for (const w of workloads) out.push(`pod=${w.namespace}/${w.name}`);
  for (const w of workloads) if (w.app) out.push(`to_label=k8s:app=${w.app}`);
  return Array.from({ length: n }, (_, i) => out[i % out.length]!);
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
  const rate = await calibrate(FLOWS_PER_S);
  // stuckTimeoutMs beyond the stall window: the stalled client stays connected the whole time.
  const server = await startTestServer({ rate, stream: { stuckTimeoutMs: (STALL_S + 30) * 1000 } });
  const wsUrl = server.url.replace("http", "ws") + "/api/stream";
  try {
    const sim = server.ctx.simulator!;
    const workloads = new Map<string, { namespace: string; name: string; app?: string }>();
    for (const e of sim.datapath.endpoints()) {
      if (!e.workload || !e.namespace) continue;
      const name = e.workload;
      const app = e.labels.find((l) => l.startsWith("k8s:app="))?.slice("k8s:app=".length);
      workloads.set(`${e.namespace}/${name}`, { namespace: e.namespace, name, app });
    }
    const filters = clientFilters(sim.namespaces(), [...workloads.values()], CLIENTS);
    const child = spawn(process.execPath, ["--import", "tsx", "bench/stream-clients.ts", wsUrl, JSON.stringify(filters), String(LOAD_S)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const exited = new Promise((r) => child.on("exit", r));
    // the window starts when every client is subscribed (the child says "ready")
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("ready\n")) resolve();
      });
      void exited.then(() => resolve());
    });
    const p0 = server.ctx.bus.published;
    const r0 = sim.requests;
    const k0 = sim.skippedRequests;
    const t0 = Date.now();
    const c0 = process.cpuUsage();
    await exited;
    const dt = (Date.now() - t0) / 1000;
    const produced = (server.ctx.bus.published - p0) / dt;
    const requests = (sim.requests - r0) / dt;
    const skipped = sim.skippedRequests - k0;
    const c1 = process.cpuUsage(c0);
    const serverCpu = (c1.user + c1.system) / 1e6 / dt;
    const lat = JSON.parse(out.trim().split("\n").pop()!);
    console.log(`stream: ${CLIENTS} clients (${new Set(filters).size} distinct filters), simulator asked for ${rate} requests/s, made ${requests.toFixed(0)} requests/s (${skipped} given up for lack of time) = ${produced.toFixed(0)} flows/s for ${dt.toFixed(1)}s: delivered ${lat.received} flow messages; latency p50 ${lat.p50} ms, p99 ${lat.p99} ms (target p99 < 200 ms); CPU: server process ${(serverCpu * 100).toFixed(0)}%, clients process ${(lat.cpuShare * 100).toFixed(0)}% (2 cores = 200%)`);

    // RSS also moves with V8's heap sizing, SQLite's page cache and the conntrack table filling to its
    // bound, none of which the stalled client causes. So the same window is first measured without
    // it (the control), then with it; the live heap after a full collection at the start and end of
    // each window shows whether anything accumulates.
    const liveHeapMb = () => {
      collect();
      return process.memoryUsage().heapUsed / 1e6;
    };
    const watch = async () => {
      const live0 = liveHeapMb();
      const rss: number[] = [];
      let deepest = 0;
      for (let s = 0; s < STALL_S; s++) {
        await new Promise((r) => setTimeout(r, 1000));
        rss.push(process.memoryUsage().rss / 1e6);
        deepest = Math.max(deepest, ...server.ctx.stream.queueDepths());
      }
      const half = Math.ceil(rss.length / 2);
      const first = Math.max(...rss.slice(0, half));
      const second = Math.max(...rss.slice(half));
      return { rss, peak: Math.max(...rss), first, second, live0, live1: liveHeapMb(), deepest, conntrack: sim.datapath.connectionCount() };
    };
    const show = (name: string, w: Awaited<ReturnType<typeof watch>>) => {
      console.log(`stream: RSS each second, ${name} (MB): ${w.rss.map((x) => x.toFixed(0)).join(" ")}`);
      console.log(`stream: ${name}, ${STALL_S}s at ${rate} requests/s: peak RSS ${w.peak.toFixed(0)} MB (first half ${w.first.toFixed(0)}, second half ${w.second.toFixed(0)}, ratio ${(w.second / w.first).toFixed(2)}); live heap after a full GC ${w.live0.toFixed(0)} → ${w.live1.toFixed(0)} MB; conntrack entries ${w.conntrack} (bound ${CT_DEFAULTS.maxEntries}); deepest client queue ${w.deepest} flows`);
    };
    const control = await watch();
    show("no stalled client (control)", control);
    const lost0 = server.ctx.stream.lostEventsTotal;
    const stalled = await stalledSocket(server.url);
    const stall = await watch();
    stalled.destroy();
    show("one stalled client", stall);
    console.log(`stream: the stalled client's cost: peak RSS ${(stall.peak - control.peak).toFixed(0)} MB over the control, live heap ${(stall.live1 - stall.live0).toFixed(0)} MB over its window (control ${(control.live1 - control.live0).toFixed(0)} MB); its queue stayed at ${stall.deepest} flows (the bound) and it was told of ${server.ctx.stream.lostEventsTotal - lost0} lost events`);
    return {
      stream_clients: CLIENTS,
      stream_rate: Math.round(produced),
      stream_requests_given_up: skipped,
      stream_latency_p50_ms: lat.p50,
      stream_latency_p99_ms: lat.p99,
      stream_control_peak_rss_mb: Math.round(control.peak),
      stream_stalled_peak_rss_mb: Math.round(stall.peak),
      stream_stalled_rss_second_half_over_first: Math.round((stall.second / stall.first) * 100) / 100,
      stream_stalled_over_control_peak_rss: Math.round((stall.peak / control.peak) * 100) / 100,
      stream_stalled_live_heap_growth_mb: Math.round(stall.live1 - stall.live0),
      stream_control_live_heap_growth_mb: Math.round(control.live1 - control.live0),
      stream_stalled_deepest_queue: stall.deepest,
      stream_lost_events: server.ctx.stream.lostEventsTotal - lost0,
    };
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((r) => console.log(JSON.stringify(r)));
}
