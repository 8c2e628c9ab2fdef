// Links to the endpoint inspection page (/endpoints?id=<Cilium endpoint ID>) from the flow details
// and the service map. Only pods have an endpoint page: reserved peers (world, host) carry no
// endpoint of their own, so a flow side links only when it has an ID, a namespace and a pod name.
import type { ServiceMapNode, StoredFlow } from "../api-types";
import type { Endpoint } from "../flow/types";
import { mapNodeIdOf } from "../flow/map-node";

export interface EndpointRef {
  id: number;
  namespace: string;
  pod: string;
}

export function endpointHref(id: number): string {
  return `/endpoints?id=${encodeURIComponent(String(id))}`;
}

/** The endpoint a flow side links to, or undefined when it is not a pod with an endpoint ID. */
export function podEndpoint(ep: Endpoint | undefined): EndpointRef | undefined {
  if (!ep || typeof ep.ID !== "number" || !Number.isInteger(ep.ID) || ep.ID <= 0) return undefined;
  if (!ep.namespace || !ep.pod_name) return undefined;
  return { id: ep.ID, namespace: ep.namespace, pod: ep.pod_name };
}

/** One row of GET /api/endpoints (only the fields the links need). */
export interface ApiEndpoint {
  id: number;
  pod?: string;
  namespace?: string;
  workload?: string;
}

function ofWorkload(node: ServiceMapNode, e: ApiEndpoint & { pod: string }): boolean {
  const slash = node.id.indexOf("/");
  const wl = slash >= 0 ? node.id.slice(slash + 1) : node.label;
  if (e.workload) return e.workload === wl;
  return e.pod === wl || e.pod.startsWith(wl + "-");
}

/** The endpoints of a workload node from GET /api/endpoints, sorted by pod name. */
export function nodeEndpointsFromApi(node: ServiceMapNode, endpoints: readonly ApiEndpoint[]): EndpointRef[] {
  if (node.kind !== "workload" || !node.namespace) return [];
  const out: EndpointRef[] = [];
  for (const e of endpoints) {
    if (typeof e.id !== "number" || !e.pod || e.namespace !== node.namespace) continue;
    if (ofWorkload(node, e as ApiEndpoint & { pod: string })) out.push({ id: e.id, namespace: e.namespace, pod: e.pod });
  }
  return out.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : a.id - b.id));
}

/**
 * The endpoints of a node as seen in flows (newest first, at most `scan` rows read), for when the
 * server has no endpoint list. Each endpoint ID once, sorted by pod name.
 */
export function nodeEndpointsFromFlows(node: ServiceMapNode, rowAt: (i: number) => StoredFlow | undefined, scan: number): EndpointRef[] {
  if (node.kind !== "workload") return [];
  const seen = new Map<number, EndpointRef>();
  for (let i = 0; i < scan; i++) {
    const row = rowAt(i);
    if (!row) break;
    const f = row.flow;
    for (const [ep, names] of [
      [f.source, f.source_names],
      [f.destination, f.destination_names],
    ] as const) {
      const ref = podEndpoint(ep);
      // the node the map draws this side as (lib/flow/map-node.ts), as the server grouped it
      if (ref && !seen.has(ref.id) && mapNodeIdOf(ep, names) === node.id) seen.set(ref.id, ref);
    }
  }
  return [...seen.values()].sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : a.id - b.id));
}
