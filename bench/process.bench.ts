// Datapath.process() throughput over the default scenario's traffic entries (round robin, as the
// simulator sends them): requests/s, flow records/s, and a per-protocol breakdown. The store's
// end-to-end ingest (≥ 50,000 flows/s) spends most of its budget here. Prints figures, then one JSON
// line with the numbers. Profile with `node --cpu-prof --import tsx bench/process.bench.ts`.
import { performance } from "node:perf_hooks";
import { Datapath, type TrafficEntry } from "../server/datapath";
import { DEFAULT_SCENARIO } from "../server/config";

const SECONDS = Number(process.env.BENCH_PROCESS_SECONDS ?? 3);

function kindOf(t: TrafficEntry): string {
  if (t.toFQDN) return "fqdn";
  if (t.http) return "http";
  if (t.grpc) return "grpc";
  if (t.kafka) return "kafka";
  if (t.dns) return "dns";
  return "l3l4";
}

interface Rate {
  reqPerS: number;
  flowsPerS: number;
  flowsPerReq: number;
  /** per second of this process's CPU time: what one core would do, whatever else the machine runs */
  reqPerCpuS: number;
}

function run(dp: Datapath, entries: TrafficEntry[], ms: number): Rate {
  let reqs = 0;
  let flows = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let now = t0;
  // time checks every 64 requests keep the clock out of the measurement
  while (now - t0 < ms) {
    for (let k = 0; k < 64; k++) {
      const r = dp.process(entries[reqs % entries.length]!, new Date());
      flows += r.flows.length;
      reqs++;
    }
    now = performance.now();
  }
  const s = (now - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { reqPerS: reqs / s, flowsPerS: flows / s, flowsPerReq: flows / reqs, reqPerCpuS: reqs / cpuS };
}

export async function main(): Promise<Record<string, number>> {
  const dp = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const entries = dp.trafficEntries();
  const out: Record<string, number> = {};
  // warm up until the JIT has settled (the first second runs at a third of the steady rate), the
  // FQDN cache has learned and connection tracking is populated
  run(dp, entries, Number(process.env.BENCH_PROCESS_WARMUP_MS ?? 2500));
  const all = run(dp, entries, SECONDS * 1000);
  out.requests_per_s = Math.round(all.reqPerS);
  out.flows_per_s = Math.round(all.flowsPerS);
  out.flows_per_request = +all.flowsPerReq.toFixed(2);
  out.requests_per_cpu_s = Math.round(all.reqPerCpuS);
  out.flows_per_cpu_s = Math.round(all.reqPerCpuS * all.flowsPerReq);
  console.log(`process(): ${out.requests_per_s} requests/s, ${out.flows_per_s} flows/s (${out.flows_per_request} flows/request) over ${entries.length} traffic entries; per CPU-second ${out.requests_per_cpu_s} requests, ${out.flows_per_cpu_s} flows`);
  const kinds = new Map<string, TrafficEntry[]>();
  for (const e of entries) {
    const k = kindOf(e);
    if (!kinds.has(k)) kinds.set(k, []);
    kinds.get(k)!.push(e);
  }
  for (const [k, list] of kinds) {
    const r = run(dp, list, Math.max(300, (SECONDS * 1000) / 6));
    out[`requests_per_s_${k}`] = Math.round(r.reqPerS);
    out[`flows_per_s_${k}`] = Math.round(r.flowsPerS);
    out[`requests_per_cpu_s_${k}`] = Math.round(r.reqPerCpuS);
    console.log(`  ${k.padEnd(5)} (${list.length} entries): ${out[`requests_per_s_${k}`]} requests/s, ${out[`flows_per_s_${k}`]} flows/s; ${out[`requests_per_cpu_s_${k}`]} requests per CPU-second`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((r) => console.log(JSON.stringify(r)));
}
