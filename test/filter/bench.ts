// Throughput of the compiled matcher and the Hubble JSON encoder (run: node --import tsx test/filter/bench.ts).
// Prints figures, then one JSON line with the numbers. Not a test: no thresholds.
import { compileQuery } from "../../lib/filter/match";
import { fromSearchParams } from "../../lib/filter/parse-params";
import { toHubbleJson } from "../../lib/flow/json";
import { FLOWS } from "./flows";

const N = 300_000;
const flows = Array.from({ length: N }, (_, i) => ({ ...FLOWS[i % FLOWS.length] }));

function rate(label: string, fn: () => number): number {
  const t0 = performance.now();
  const n = fn();
  const ms = performance.now() - t0;
  const r = Math.round((n / ms) * 1000);
  console.log(`${label}: ${n} in ${ms.toFixed(0)} ms = ${r.toLocaleString()}/s`);
  return r;
}

const simple = compileQuery(fromSearchParams("namespace=payments&verdict=DROPPED"));
const complex = compileQuery(fromSearchParams("label=app%20in%20(web,api)&not.to_ip=10.0.1.0/24&http_path=%5E/orders&policy=web-egress"));
const results = {
  match_simple_per_s: rate("match namespace+verdict", () => flows.reduce((n, f) => n + (simple(f) ? 1 : 0), 0) * 0 + N),
  match_complex_per_s: rate("match labels+CIDR+regex+policy", () => flows.reduce((n, f) => n + (complex(f) ? 1 : 0), 0) * 0 + N),
  to_hubble_json_per_s: rate("toHubbleJson", () => {
    let bytes = 0;
    for (let i = 0; i < 100_000; i++) bytes += toHubbleJson({ flow: flows[i], node_name: "n", time: flows[i].time! }).length;
    return bytes > 0 ? 100_000 : 0;
  }),
};
console.log(JSON.stringify(results));
