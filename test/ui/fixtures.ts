// Small flow builders for the UI's pure-logic tests.
import type { ServiceMapEdge, ServiceMapNode, StoredFlow } from "../../lib/api-types";
import type { Flow } from "../../lib/flow/types";

export function stored(id: number, flow: Partial<Flow> = {}): StoredFlow {
  const time = new Date(Date.UTC(2025, 0, 1, 12, 0, 0, id)).toISOString();
  return {
    id: String(id),
    time,
    node_name: "node-1",
    flow: {
      time,
      uuid: `u-${id}`,
      verdict: "FORWARDED",
      IP: { source: "10.0.0.1", destination: "10.0.0.2", ipVersion: "IPv4" },
      l4: { TCP: { source_port: 40000 + (id % 1000), destination_port: 80 } },
      source: { identity: 1000, namespace: "shop", pod_name: "frontend-7d9c-abcde", labels: ["k8s:app=frontend"], workloads: [{ name: "frontend", kind: "Deployment" }] },
      destination: { identity: 2000, namespace: "shop", pod_name: "api-5f6b-xyz12", labels: ["k8s:app=api"], workloads: [{ name: "api", kind: "Deployment" }] },
      Type: "L3_L4",
      node_name: "node-1",
      traffic_direction: "INGRESS",
      ...flow,
    },
  };
}

export function node(id: string, over: Partial<ServiceMapNode> = {}): ServiceMapNode {
  const slash = id.indexOf("/");
  const isWl = slash > 0 && !id.includes(":");
  return {
    id,
    kind: isWl ? "workload" : "world",
    label: isWl ? id.slice(slash + 1) : id,
    namespace: isWl ? id.slice(0, slash) : undefined,
    labels: [],
    ports: [],
    l7: [],
    flows: 1,
    ...over,
  };
}

export function edge(source: string, target: string, over: Partial<ServiceMapEdge> = {}): ServiceMapEdge {
  return { id: `${source}->${target}`, source, target, verdicts: { FORWARDED: 1 }, ports: ["80/TCP"], l7: [], policies: [], flows: 1, rate: 1, ...over };
}
