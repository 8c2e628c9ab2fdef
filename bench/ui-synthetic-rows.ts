// Rows for the UI benchmark's in-page measurements of the table's filter and sort code over 100,000
// flows (300 workloads in 20 namespaces), built in the page itself: the live part of the benchmark
// runs against the real server. No Node-only imports, so the benchmark can bundle it into a page.
import type { ServiceMap, StoredFlow } from "../lib/api-types";

export const NS = 20;
export const PER_NS = 15;
let nextId = 1;

function workload(i: number): { ns: string; name: string; identity: number } {
  const ns = `team-${String(Math.floor(i / PER_NS) % NS).padStart(2, "0")}`;
  return { ns, name: `svc-${i % PER_NS}`, identity: 10000 + i };
}

export function syntheticFlow(): StoredFlow {
  const id = nextId++;
  const a = workload((id * 7) % (NS * PER_NS));
  const b = workload((id * 13 + 1) % (NS * PER_NS));
  const dropped = id % 9 === 0;
  const time = new Date().toISOString();
  const ep = (w: typeof a) => ({
    identity: w.identity,
    namespace: w.ns,
    pod_name: `${w.name}-6d8f-${(id % 97).toString(36)}`,
    labels: [`k8s:app=${w.name}`, `k8s:io.kubernetes.pod.namespace=${w.ns}`],
    workloads: [{ name: w.name, kind: "Deployment" }],
  });
  const pol = { name: `allow-${b.name}`, namespace: b.ns, kind: "CiliumNetworkPolicy", revision: "4", labels: [] };
  return {
    id: String(id),
    time,
    node_name: "kind-worker",
    flow: {
      time,
      uuid: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
      verdict: dropped ? "DROPPED" : "FORWARDED",
      ...(dropped ? { drop_reason: 133, drop_reason_desc: "POLICY_DENIED" } : {}),
      IP: { source: `10.0.${id % 200}.${id % 250}`, destination: `10.1.${id % 200}.${(id * 3) % 250}`, ipVersion: "IPv4" },
      l4: { TCP: { source_port: 30000 + (id % 20000), destination_port: 8080 } },
      source: ep(a),
      destination: ep(b),
      Type: id % 4 === 0 ? "L7" : "L3_L4",
      node_name: "kind-worker",
      ...(id % 4 === 0 ? { l7: { type: "REQUEST" as const, http: { method: "GET", url: `http://${b.name}/api/items/${id % 50}`, protocol: "HTTP/1.1" } } } : {}),
      event_type: { type: dropped ? 1 : 5 },
      traffic_direction: "INGRESS",
      is_reply: false,
      ...(dropped
        ? { extensions: { "@type": "type.googleapis.com/flowscope.v1.FlowDecision" as const, default_deny_by: [pol], explanation: [`${b.name} is selected by ${pol.name}`, "no ingress rule allows it"] } }
        : { ingress_allowed_by: [pol] }),
    },
  };
}

export function syntheticMap(): ServiceMap {
  const nodes: ServiceMap["nodes"] = [];
  const edges: ServiceMap["edges"] = [];
  for (let i = 0; i < NS * PER_NS; i++) {
    const w = workload(i);
    nodes.push({ id: `${w.ns}/${w.name}`, kind: "workload", label: w.name, namespace: w.ns, identity: w.identity, labels: [`k8s:app=${w.name}`], ports: ["8080/TCP"], l7: ["GET /api/items"], flows: 10 });
  }
  nodes.push({ id: "reserved:world", kind: "world", label: "world", identity: 2, labels: ["reserved:world"], ports: [], l7: [], flows: 5 });
  nodes.push({ id: "fqdn:api.github.com", kind: "fqdn", label: "api.github.com", identity: 16777217, labels: [], ports: ["443/TCP"], l7: [], flows: 5 });
  nodes.push({ id: "reserved:host", kind: "host", label: "host", identity: 1, labels: ["reserved:host"], ports: [], l7: [], flows: 5 });
  for (let i = 0; i < NS * PER_NS; i++) {
    const a = workload(i);
    const b = workload(i % PER_NS === 0 ? (i + PER_NS) % (NS * PER_NS) : i - (i % PER_NS));
    if (a === b) continue;
    const s = `${a.ns}/${a.name}`;
    const t = `${b.ns}/${b.name}`;
    if (s === t) continue;
    const v = i % 11 === 0 ? { DROPPED: 4 } : i % 7 === 0 ? { FORWARDED: 10, DROPPED: 2 } : { FORWARDED: 20 };
    edges.push({ id: `${s}->${t}`, source: s, target: t, verdicts: v, ports: ["8080/TCP"], l7: i % 3 ? ["http"] : [], policies: [`CiliumNetworkPolicy/${b.ns}/allow-${b.name}`], flows: 20, rate: (i % 13) + 0.5 });
  }
  edges.push({ id: "team-00/svc-3->fqdn:api.github.com", source: "team-00/svc-3", target: "fqdn:api.github.com", verdicts: { FORWARDED: 3 }, ports: ["443/TCP"], l7: [], policies: [], flows: 3, rate: 0.1 });
  const now = new Date().toISOString();
  return { since: now, until: now, nodes, edges };
}

