// What the inspection counters cost: the datapath's decision rate (full process() of L3/L4 requests:
// policy lookups at both ends, counters, flow records) with counting on vs off, side by side on the
// same requests. Target: off/on ≤ 1.10. Prints figures, then one JSON line with the numbers.
import v8 from "node:v8";
import vm from "node:vm";
import { performance } from "node:perf_hooks";
import { parseScenario } from "../server/scenario/load";
import { Datapath } from "../server/datapath/datapath";
import type { TrafficRequest } from "../server/scenario/types";

v8.setFlagsFromString("--expose-gc");
const collect = vm.runInNewContext("gc") as () => void;

const SCENARIO = `apiVersion: flowscope/v1
kind: Scenario
metadata: { name: inspect-bench }
nodes: [{ name: n1, ip: 192.168.0.1 }, { name: n2, ip: 192.168.0.2 }]
workloads:
${Array.from({ length: 20 }, (_, i) => `  - { name: w${i}, namespace: ns${i % 4}, labels: { app: a${i}, tier: t${i % 3} }, replicas: 3 }`).join("\n")}
`;

function policies(): string {
  const docs: string[] = [];
  for (let i = 0; i < 20; i++) {
    docs.push(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: p${i}, namespace: ns${i % 4} }
spec:
  endpointSelector: { matchLabels: { app: a${i} } }
  ingress:
  - fromEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": ns${(i + 1) % 4} } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }, { port: "8000", endPort: 8100, protocol: TCP }] }]
  egress:
  - toEndpoints: [{ matchLabels: { tier: t${i % 3} } }]
  - toEndpoints: [{}]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }, { port: "8000", endPort: 8100, protocol: TCP }] }]
${i % 5 === 0 ? `  ingressDeny:\n  - fromEndpoints: [{ matchLabels: { tier: t${(i + 1) % 3} } }]\n    toPorts: [{ ports: [{ port: "8050", protocol: TCP }] }]\n` : ""}`);
  }
  return docs.join("---\n");
}

function requests(n: number): TrafficRequest[] {
  let x = 7;
  const rnd = (m: number) => ((x = (x * 1103515245 + 12345) >>> 0) % m);
  const workload = (i: number) => `ns${i % 4}/w${i}`;
  return Array.from({ length: n }, () => ({ from: workload(rnd(20)), to: workload(rnd(20)), port: [80, 8050, 8080, 443][rnd(4)]! }));
}

function rate(dp: Datapath, reqs: TrafficRequest[], rounds: number): number {
  const now = new Date("2024-05-01T10:00:00Z");
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const q of reqs) dp.process(q, now);
  return (reqs.length * rounds) / ((performance.now() - t0) / 1000);
}

export async function main(): Promise<Record<string, number>> {
  const scenario = parseScenario(SCENARIO, "/bench/inspect-scenario.yaml");
  const on = new Datapath(scenario, { counters: true });
  const off = new Datapath(scenario, { counters: false });
  on.upsertPolicyYaml(policies(), "bench");
  off.upsertPolicyYaml(policies(), "bench");
  const reqs = requests(2000);
  for (let w = 0; w < 3; w++) {
    rate(on, reqs, 1);
    rate(off, reqs, 1); // warm up both
  }
  // alternate on/off in turns and keep each side's median: load from other processes hits both
  // alike; garbage is collected before each turn, so a major GC left over by one side does not
  // land in the other's timing
  const onRates: number[] = [];
  const offRates: number[] = [];
  for (let turn = 0; turn < 9; turn++) {
    collect();
    onRates.push(rate(on, reqs, 10));
    collect();
    offRates.push(rate(off, reqs, 10));
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const rOn = median(onRates);
  const rOff = median(offRates);
  let hits = 0;
  for (const [id, c] of on.engine.compiled) {
    for (const dir of ["ingress", "egress"] as const) {
      const stats = on.engine.statsOf(id, dir)!;
      for (const e of c[dir].all()) hits += stats.packets(e);
    }
  }
  const out = {
    decisions_per_s_counters_on: Math.round(rOn),
    decisions_per_s_counters_off: Math.round(rOff),
    off_over_on: +(rOff / rOn).toFixed(3),
    entry_hits_counted: hits,
  };
  console.log(`datapath decisions (process(), L3/L4, ${reqs.length} requests × 10 per turn, median of 9, garbage collected before each turn): counters on ${(rOn / 1e3).toFixed(1)} k/s, off ${(rOff / 1e3).toFixed(1)} k/s → off/on ${out.off_over_on} (target ≤ 1.10); ${hits} entry hits counted`);
  console.log(JSON.stringify(out));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
