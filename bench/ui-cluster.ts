// The cluster the UI benchmark runs the real server on: 300 workloads in 20 namespaces, each calling
// one other workload over HTTP, so the live service map has 300 workload nodes and 300 edges. Each
// namespace admits HTTP GETs under /api/ from the namespaces of its own team (namespaces carry one of
// four team labels) and default-denies the rest, so the map and table show forwarded L7 flows beside
// POLICY_DENIED drops, as a real multi-team cluster does.
import fs from "node:fs";
import path from "node:path";

export const NAMESPACES = 20;
export const PER_NAMESPACE = 15;
export const WORKLOADS = NAMESPACES * PER_NAMESPACE;
const TEAMS = 4;

const nsName = (n: number) => `team-${String(n).padStart(2, "0")}`;
const workload = (i: number) => ({ ns: nsName(Math.floor(i / PER_NAMESPACE)), name: `svc-${i % PER_NAMESPACE}` });

function scenarioYaml(): string {
  const out = ["apiVersion: flowscope/v1", "kind: Scenario", "metadata: { name: ui-bench }", "nodes:"];
  for (let n = 1; n <= 3; n++) out.push(`  - { name: node-${n}, ip: 192.168.1.${9 + n} }`);
  out.push("namespaces:");
  for (let n = 0; n < NAMESPACES; n++) out.push(`  - { name: ${nsName(n)}, labels: { team: t${n % TEAMS} } }`);
  out.push("workloads:");
  for (let i = 0; i < WORKLOADS; i++) {
    const w = workload(i);
    out.push(`  - { name: ${w.name}, namespace: ${w.ns}, labels: { app: ${w.name} }, ports: [{ name: http, port: 8080, protocol: TCP, app: http }] }`);
  }
  out.push("policies: [policies/]", "traffic:");
  // 13 is coprime with 300: every workload calls exactly one other and is called by exactly one.
  for (let i = 0; i < WORKLOADS; i++) {
    const a = workload(i);
    const b = workload((i * 13 + 1) % WORKLOADS);
    out.push(`  - { from: ${a.ns}/${a.name}, to: ${b.ns}/${b.name}, port: 8080, http: { method: GET, path: /api/items/${i % 50} }, rate: 1 }`);
  }
  return out.join("\n") + "\n";
}

function policiesYaml(): string {
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    docs.push(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: same-team-api, namespace: ${nsName(n)} }
spec:
  endpointSelector: {}
  ingress:
  - fromEndpoints:
    - matchLabels: { "k8s:io.cilium.k8s.namespace.labels.team": t${n % TEAMS} }
      matchExpressions: [{ key: "k8s:io.kubernetes.pod.namespace", operator: Exists }]
    toPorts:
    - ports: [{ port: "8080", protocol: TCP }]
      rules: { http: [{ method: GET, path: "/api/.*" }] }
`);
  }
  return docs.join("---\n");
}

/** Writes the scenario and its policies under `dir`; returns the scenario file. */
export function writeUiCluster(dir: string): string {
  fs.mkdirSync(path.join(dir, "policies"), { recursive: true });
  fs.writeFileSync(path.join(dir, "policies", "same-team.yaml"), policiesYaml());
  const file = path.join(dir, "scenario.yaml");
  fs.writeFileSync(file, scenarioYaml());
  return file;
}
