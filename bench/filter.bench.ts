// Throughput of the compiled flow matcher and of the Hubble JSON encoder that serialises every flow on
// the server's hot path (run: node --import tsx bench/filter.bench.ts). Prints figures, then one JSON
// line with the numbers. Not a test: no thresholds. Rates are per second of this process's CPU time,
// so other work on a shared machine skews them less than wall-clock rates would.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileQuery } from "../lib/filter/match";
import { fromSearchParams } from "../lib/filter/parse-params";
import { toHubbleJson } from "../lib/flow/json";
import type { FlowEnvelope } from "../lib/flow/types";
import { FLOWS } from "../test/filter/flows";
import { makeFlow } from "../test/helpers/flows";

const N = 300_000;
const JSON_N = 200_000;

function rate(label: string, n: number, fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  const r = Math.round((n / ms) * 1000);
  console.log(`${label}: ${n} in ${ms.toFixed(0)} ms CPU = ${r.toLocaleString()}/s`);
  return r;
}

// Keeps the result observable so the loop cannot be optimised away.
let sink = 0;

function jsonRate(label: string, envs: FlowEnvelope[]): number {
  for (let i = 0; i < 20_000; i++) sink += toHubbleJson(envs[i % envs.length]).length; // warm-up
  return rate(label, JSON_N, () => {
    for (let i = 0; i < JSON_N; i++) sink += toHubbleJson(envs[i % envs.length]).length;
  });
}

export async function main(): Promise<Record<string, number>> {
  const flows = Array.from({ length: N }, (_, i) => ({ ...FLOWS[i % FLOWS.length] }));
  const simple = compileQuery(fromSearchParams("namespace=payments&verdict=DROPPED"));
  const complex = compileQuery(fromSearchParams("label=app%20in%20(web,api)&not.to_ip=10.0.1.0/24&http_path=%5E/orders&policy=web-egress"));

  const filterEnvs: FlowEnvelope[] = flows.slice(0, 1000).map((f) => ({ flow: f, node_name: "n", time: f.time! }));
  const verdicts = ["FORWARDED", "FORWARDED", "FORWARDED", "DROPPED"] as const;
  const typical: FlowEnvelope[] = Array.from({ length: 1000 }, (_, i) =>
    makeFlow({ srcPod: `web-${i % 7}`, dstPod: `api-${i % 5}`, srcNs: "shop", dstNs: i % 3 ? "shop" : "payments", verdict: verdicts[i % 4], port: 8000 + (i % 50) }),
  );
  const examplesPath = fileURLToPath(new URL("../test/export/hubble-examples.ndjson", import.meta.url));
  const examples = readFileSync(examplesPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as FlowEnvelope);

  const results = {
    match_simple_per_s: rate("match namespace+verdict", N, () => {
      for (const f of flows) sink += simple(f) ? 1 : 0;
    }),
    match_complex_per_s: rate("match labels+CIDR+regex+policy", N, () => {
      for (const f of flows) sink += complex(f) ? 1 : 0;
    }),
    to_hubble_json_per_s: jsonRate("toHubbleJson (test/filter flows, L7 + extensions)", filterEnvs),
    to_hubble_json_make_flow_per_s: jsonRate("toHubbleJson (makeFlow L3/L4 flows)", typical),
    to_hubble_json_examples_per_s: jsonRate("toHubbleJson (real hubble examples)", examples),
  };
  if (sink === -1) console.log("unreachable");
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((r) => console.log(JSON.stringify(r)));
}
