// Test helpers: build a scenario + policy files in a temp folder and trace requests through it.
import { writeFileSync, mkdirSync } from "node:fs";
import { tempDir } from "../helpers/tmp";
import { join } from "node:path";
import { Datapath, type DatapathOptions, type TraceResult, type TrafficRequest } from "../../server/datapath";

export function makeDatapath(scenarioYaml: string, policies: Record<string, string> = {}, opts: DatapathOptions = {}): Datapath {
  const dir = tempDir("dp-");
  mkdirSync(join(dir, "policies"));
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(dir, "policies", name), text);
  const file = join(dir, "scenario.yaml");
  writeFileSync(file, scenarioYaml.includes("policies:") ? scenarioYaml : `${scenarioYaml}\npolicies: [policies/]\n`);
  return Datapath.fromScenarioFile(file, opts);
}

export const NOW = new Date("2024-05-01T10:00:00Z");

export function trace(dp: Datapath, req: TrafficRequest): TraceResult {
  return dp.process(req, NOW);
}

/** the policy-verdict flows (event type 5) of a result */
export function verdictEvents(r: TraceResult) {
  return r.flows.filter((f) => f.flow.event_type?.type === 5).map((f) => f.flow);
}
export function dropEvents(r: TraceResult) {
  return r.flows.filter((f) => f.flow.event_type?.type === 1).map((f) => f.flow);
}

export const STAR_WARS = `
apiVersion: flowscope/v1
kind: Scenario
metadata: { name: sw }
namespaces: [{ name: default }]
workloads:
  - { name: deathstar, namespace: default, labels: { org: empire, class: deathstar }, replicas: 2, ports: [{ name: http, port: 80, protocol: TCP, app: http }] }
  - { name: tiefighter, namespace: default, labels: { org: empire, class: tiefighter } }
  - { name: xwing, namespace: default, labels: { org: alliance, class: xwing } }
services:
  - { name: deathstar, namespace: default, selector: { org: empire, class: deathstar }, ports: [{ port: 80, targetPort: 80 }] }
`;

export const P_A1 = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: rule1, namespace: default }
spec:
  endpointSelector: { matchLabels: { org: empire, class: deathstar } }
  ingress:
  - fromEndpoints: [{ matchLabels: { org: empire } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]
`;

export function pA2(path = "/v1/request-landing"): string {
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: rule1, namespace: default }
spec:
  endpointSelector: { matchLabels: { org: empire, class: deathstar } }
  ingress:
  - fromEndpoints: [{ matchLabels: { org: empire } }]
    toPorts:
    - ports: [{ port: "80", protocol: TCP }]
      rules: { http: [{ method: "POST", path: "${path}" }] }
`;
}

export const P_A3 = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: empire-default-deny, namespace: default }
spec:
  endpointSelector: { matchLabels: { org: empire } }
  ingress: [{}]
`;

/** a CiliumNetworkPolicy in namespace default selecting `subject` (matchLabels YAML), with `spec` lines below */
export function cnp(name: string, subject: string, spec: string): string {
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: default }
spec:
  endpointSelector: { matchLabels: ${subject} }
${spec}`;
}

/** the start of a scenario with two nodes, node-1 (192.168.1.10) and node-2 (192.168.1.11) */
export const TWO_NODES = `apiVersion: flowscope/v1
kind: Scenario
nodes:
  - { name: node-1, ip: 192.168.1.10 }
  - { name: node-2, ip: 192.168.1.11 }
`;
