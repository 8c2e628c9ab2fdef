// Which endpoints can share one compiled policy map. Cilium resolves policy per security identity
// (the SelectorPolicy cache, "distillery"): every endpoint of an identity is selected by the same
// rules, so they share the resolved policy. What can still differ between them is what the compiler
// reads of the endpoint itself, and the key names exactly that:
//  - ingress named ports, resolved against the endpoint's own container ports (egress named ports
//    resolve against every pod of the cluster, the same for all endpoints);
//  - the node, where a rule uses the kube-apiserver entity (does the local node run the API server) or
//    toFQDNs (each node's DNS proxy learns its own addresses);
//  - for host endpoints, the node labels that host policies select them by (their identity,
//    reserved:host, is the same on every node).
// Endpoints with equal keys compile to equal maps, so one map serves them all.
import type { Pod } from "../cluster/model";
import type { Rule } from "./policy/types";

/** the endpoint-specific inputs a set of rules makes the compiler read */
export interface EndpointInputs {
  node: boolean;
  /** names of ingress named ports, sorted */
  ingressNamedPorts: string[];
}

/** what decides which rules select the endpoint: its identity, or a host endpoint's node labels */
export function subjectKey(ep: Pod): string {
  return ep.hostEndpoint ? `host:${ep.hostEndpoint.labels.join(",")}` : `id:${ep.identity.id}`;
}

export function inputsOf(rules: readonly Rule[]): EndpointInputs {
  let node = false;
  const names = new Set<string>();
  for (const r of rules) {
    for (const pr of r.ingress) {
      for (const tp of pr.toPorts ?? []) for (const sel of tp.ports) if (typeof sel.port === "string") names.add(sel.port);
    }
    for (const pr of [...r.ingress, ...r.egress]) {
      if (pr.peers !== "all" && pr.peers.some((p) => (p.kind === "entity" && p.entity === "kube-apiserver") || p.kind === "fqdn")) node = true;
    }
  }
  return { node, ingressNamedPorts: [...names].sort() };
}

/** the sharing key of an endpoint whose selecting rules need `inputs` */
export function shareKey(ep: Pod, subject: string, inputs: EndpointInputs): string {
  let key = subject;
  if (inputs.node) key += `|node:${ep.node}`;
  for (const name of inputs.ingressNamedPorts) {
    key += `|${name}=`;
    for (const p of ep.ports) if (p.name === name) key += `${p.protocol}/${p.port},`;
  }
  return key;
}
