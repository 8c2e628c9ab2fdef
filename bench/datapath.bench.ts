// L3/L4 decision rate of the compiled policy maps vs a naive evaluator that walks every rule per
// packet (the iptables-like chain), over 500 endpoints with 10, 1,000 and 10,000 rules; plus a full
// compile of 1,000 policies × 500 endpoints and one incremental update. Prints figures, then one
// JSON line with the numbers.
//
// The three rule counts are compared on equal terms: every endpoint is selected by some rule in each
// case (policies select a "shard" label, one tenth of the endpoints each), so every map is populated;
// the same tenth of the endpoints carries deny rules; peers are in the policy's namespace (11·k has
// the same last digit as k), since fromEndpoints is implicitly limited to it; and half of the packets are built from a real
// entry of the endpoint's map (a hit) and half use a peer with entries in that map on a port no rule covers (a miss).
// The 500 endpoints are 100 workloads × 5 replicas; the engine compiles one map per set of endpoints
// with the same compile inputs (the identity, plus ingress named ports and the like), as Cilium
// shares an identity's policy, so the packets, spread over all 500 endpoints, read 100 maps.
// A decision reads the packed verdict from the map's table (PolicyMapDir.verdict), as Cilium's BPF
// program reads the policy map value; the entry with its rules is looked at only when a flow record
// names the deciding policy, which the datapath does after deciding.
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { parseScenario } from "../server/scenario/load";
import { Datapath } from "../server/datapath/datapath";
import { parsePolicyText } from "../server/datapath/policy/documents";
import { PROTO_TCP, VERDICT_DENY, VERDICT_MATCHED, type MapEntry } from "../server/datapath/policy-map";
import type { Identity } from "../server/cluster/identities";
import { selectorMatches } from "../server/datapath/selector";
import type { Pod } from "../server/cluster/model";
import type { PolicyRecord } from "../server/datapath/policy/types";

const ENDPOINTS = 500;
const APPS = 100;
const SHARDS = 10;
/** a port that no rule covers: the misses */
const MISS_PORT = 999;

function scenarioText(): string {
  const lines = ["apiVersion: flowscope/v1", "kind: Scenario", "nodes: [{ name: n1, ip: 192.168.0.1 }, { name: n2, ip: 192.168.0.2 }]", "workloads:"];
  for (let i = 0; i < ENDPOINTS / 5; i++) lines.push(`  - { name: w${i}, namespace: ns${i % 10}, labels: { app: a${i % APPS}, tier: t${i % 7}, shard: s${i % SHARDS} }, replicas: 5 }`);
  return lines.join("\n");
}

function policiesYaml(n: number, seed = 0): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i + seed;
    docs.push(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: p${k}, namespace: ns${k % 10} }
spec:
  endpointSelector: { matchLabels: { shard: s${k % SHARDS} } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: a${(k * 11) % APPS} } }]
    toPorts: [{ ports: [{ port: "${1000 + (k % 300)}", protocol: TCP }${k % 5 === 0 ? `, { port: "2000", endPort: 2100, protocol: TCP }` : ""}] }]
${k % SHARDS === 0 ? `  ingressDeny:\n  - fromEndpoints: [{ matchLabels: { tier: t${k % 7} } }]\n    toPorts: [{ ports: [{ port: "${1000 + (k % 300)}", protocol: TCP }] }]\n` : ""}`);
  }
  return docs.join("---\n");
}

// A full compile leaves a lot of garbage (YAML, parse trees); collecting it before timing keeps a
// major GC from landing inside the decision loop and being charged to the larger rule set.
v8.setFlagsFromString("--expose-gc");
const collect = vm.runInNewContext("gc") as () => void;

interface Pkt {
  ep: Pod;
  peer: Identity;
  port: number;
}

/** half hits on a real (identity, port) entry of the endpoint's ingress map, half misses */
function packets(dp: Datapath, n: number): Pkt[] {
  // the scenario's 500 workload pods (the cluster adds kube-dns of its own)
  const eps = dp.cluster.endpoints.filter((e) => e.namespace.startsWith("ns"));
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const real = new Map<number, MapEntry[]>();
  for (const ep of eps) {
    const entries = dp.engine.compiled.get(ep.endpointId)!.ingress.all().filter((e) => e.identity !== 0 && !e.wildcardPort && !e.deny);
    if (entries.length === 0) throw new Error(`bench setup: endpoint ${ep.name} has no ingress entries`);
    real.set(ep.endpointId, entries);
  }
  return Array.from({ length: n }, (_, i) => {
    const ep = pick(eps);
    const e = pick(real.get(ep.endpointId)!);
    // a miss: a peer the map has entries for, on a port none of them covers
    if (i % 2 === 1) return { ep, peer: dp.cluster.identities.get(e.identity)!, port: MISS_PORT };
    return { ep, peer: dp.cluster.identities.get(e.identity)!, port: e.portLo + Math.floor(rnd() * (e.portHi - e.portLo + 1)) };
  });
}

function compiledRate(dp: Datapath, pkts: Pkt[], rounds: number): { rate: number; allowed: number; matched: number } {
  const maps = pkts.map((p) => dp.engine.compiled.get(p.ep.endpointId)!.ingress);
  let allowed = 0;
  let matched = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < pkts.length; i++) {
      const m = maps[i];
      // the decision as the datapath takes it: the packed verdict, as a BPF policy map value holds it
      const v = m.verdict(pkts[i].peer.id, PROTO_TCP, pkts[i].port);
      if (v & VERDICT_MATCHED ? !(v & VERDICT_DENY) : !m.enforced) allowed++;
      if (v & VERDICT_MATCHED) matched++;
    }
  }
  const ms = performance.now() - t0;
  return { rate: (pkts.length * rounds) / (ms / 1000), allowed: allowed / rounds, matched: matched / rounds };
}

function naiveRate(policies: PolicyRecord[], pkts: Pkt[], budgetMs: number): { rate: number; allowed: number } {
  const rules = policies.flatMap((p) => p.rules);
  let allowed = 0;
  let done = 0;
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < budgetMs || done === 0; i = (i + 1) % pkts.length) {
    const p = pkts[i];
    let selected = false;
    let allow = false;
    let deny = false;
    for (const r of rules) {
      if (!selectorMatches(r.subject, p.ep.identity.index)) continue;
      selected = true;
      for (const pr of r.ingress) {
        if (pr.empty || pr.peers === "all") continue;
        const peerOk = pr.peers.some((peer) => peer.kind === "selector" && selectorMatches(peer.sel, p.peer.index));
        if (!peerOk) continue;
        const portOk = !pr.toPorts || pr.toPorts.some((tp) => tp.ports.some((s) => s.port === p.port || (typeof s.port === "number" && s.endPort !== undefined && p.port >= s.port && p.port <= s.endPort)));
        if (!portOk) continue;
        if (pr.deny) deny = true;
        else allow = true;
      }
    }
    if (!deny && (allow || !selected)) allowed++;
    done++;
  }
  const ms = performance.now() - t0;
  return { rate: done / (ms / 1000), allowed: (allowed / done) * pkts.length };
}

export async function main(): Promise<Record<string, number>> {
  const scenario = parseScenario(scenarioText(), "/bench/scenario.yaml");
  const out: Record<string, number> = {};
  const pktCount = 100_000;
  const sizes = [10, 1000, 10000];
  const setups = sizes.map((n) => {
    const dp = new Datapath(scenario);
    const { policies } = parsePolicyText(policiesYaml(n), "bench");
    const t0 = performance.now();
    dp.engine.apply(policies);
    return { n, dp, policies, compileMs: performance.now() - t0, pkts: packets(dp, pktCount) };
  });
  collect();
  // the rule sets are timed in turns, several times, and each keeps its median: load from other
  // processes on a shared machine then hits every size alike instead of skewing the ratio
  const rates = new Map<number, number[]>(sizes.map((n) => [n, []]));
  const allowedBy = new Map<number, number>();
  const matchedBy = new Map<number, number>();
  for (const s of setups) compiledRate(s.dp, s.pkts, 2); // warm up
  // turns of ~50 ms or more, and garbage collected before each, so a blip of machine load or a GC
  // left over by one rule set is not charged to the next
  for (let turn = 0; turn < 9; turn++) {
    for (const s of setups) {
      collect();
      const c = compiledRate(s.dp, s.pkts, 10);
      rates.get(s.n)!.push(c.rate);
      allowedBy.set(s.n, c.allowed);
      matchedBy.set(s.n, c.matched);
    }
  }
  for (const s of setups) {
    const sorted = rates.get(s.n)!.sort((a, b) => a - b);
    const rate = sorted[Math.floor(sorted.length / 2)]!;
    const naive = naiveRate(s.policies, s.pkts, s.n >= 1000 ? 1500 : 500);
    const n = s.n;
    out[`compiled_decisions_per_s_${n}`] = Math.round(rate);
    out[`naive_decisions_per_s_${n}`] = Math.round(naive.rate);
    out[`naive_over_compiled_slowdown_${n}`] = +(rate / naive.rate).toFixed(1);
    console.log(`${String(n).padStart(5)} rules: compiled ${(rate / 1e6).toFixed(2)} M decisions/s (median of 9 turns, compile ${s.compileMs.toFixed(0)} ms, ${matchedBy.get(n)} of ${pktCount} matched an entry, ${allowedBy.get(n)} allowed), naive ${(naive.rate / 1e3).toFixed(1)} k/s → ${(rate / naive.rate).toFixed(1)}× faster`);
  }
  out.rate_ratio_10_over_10000 = +(out.compiled_decisions_per_s_10 / out.compiled_decisions_per_s_10000).toFixed(2);
  // Diagnostic, not a target: the same packets confined to 50 of the 500 endpoints (10 maps). The
  // lookup code path is the same for every rule count; what grows with the rules is the maps' memory
  // (~60 entries per map at 10,000 rules). If the confined ratio is near 1 while the full one is
  // not, the gap is cache capacity, not work.
  const few = setups.filter((s) => s.n === 10 || s.n === 10000).map((s) => {
    const keep = new Set(s.dp.cluster.endpoints.filter((e) => e.namespace.startsWith("ns")).slice(0, 50).map((e) => e.endpointId));
    return { n: s.n, dp: s.dp, pkts: s.pkts.filter((p) => keep.has(p.ep.endpointId)) };
  });
  const fewRates = new Map<number, number[]>(few.map((s) => [s.n, []]));
  for (let turn = 0; turn < 7; turn++) for (const s of few) fewRates.get(s.n)!.push(compiledRate(s.dp, s.pkts, Math.ceil(300_000 / s.pkts.length)).rate);
  const fewMedian = (n: number) => fewRates.get(n)!.sort((a, b) => a - b)[3]!;
  out.compiled_decisions_per_s_10_on_50_endpoints = Math.round(fewMedian(10));
  out.compiled_decisions_per_s_10000_on_50_endpoints = Math.round(fewMedian(10000));
  out.rate_ratio_10_over_10000_on_50_endpoints = +(fewMedian(10) / fewMedian(10000)).toFixed(2);
  console.log(`packets confined to 50 endpoints (diagnostic): 10 rules ${(fewMedian(10) / 1e6).toFixed(2)} M/s, 10,000 rules ${(fewMedian(10000) / 1e6).toFixed(2)} M/s → ratio ${out.rate_ratio_10_over_10000_on_50_endpoints}`);
  setups.length = 0;

  const dp = new Datapath(scenario);
  const { policies } = parsePolicyText(policiesYaml(1000), "bench");
  const t0 = performance.now();
  dp.engine.apply(policies);
  out.full_compile_1000_policies_500_endpoints_ms = Math.round(performance.now() - t0);
  const one = parsePolicyText(policiesYaml(1, 7), "bench-update").policies;
  const t1 = performance.now();
  const stats = dp.engine.apply(one);
  out.incremental_update_ms = +(performance.now() - t1).toFixed(2);
  out.incremental_update_endpoints_recompiled = stats.recompiledEndpoints;
  out.incremental_update_maps_compiled = stats.compiledMaps;
  out.compiled_maps_500_endpoints = dp.engine.sharedMapCount;
  console.log(`full compile 1,000 policies × ${ENDPOINTS} endpoints (${dp.engine.sharedMapCount} shared maps): ${out.full_compile_1000_policies_500_endpoints_ms} ms; one incremental update: ${out.incremental_update_ms} ms (${stats.recompiledEndpoints} endpoints got ${stats.compiledMaps} recompiled maps)`);
  console.log(JSON.stringify(out));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
