// Which service map node a flow endpoint is drawn as. One definition for the map the server aggregates
// (server/store/service-map.ts), the `map_node` / `map_edge` filters (lib/filter) and their SQL
// translation (server/store/filter-sql.ts), so a clicked edge's table, export and evidence bundle hold
// exactly the flows the edge was counted from.
//
// A node is decided from what the store keeps in columns: namespace and workload name (the first
// workload, else the one the pod name was generated for; each cut to 253 characters), identity, the
// endpoint's labels and the side's DNS names, as "\n"-joined lists.
import type { ServiceMapNode, ServiceMapNodeKind } from "../api-types";
import type { Endpoint } from "./types";

/** a node as the map names it ("ns/workload", "ns/(unknown)", "reserved:host", "fqdn:…", "cidr:…", "reserved:world"), without its counts */
export type MapNodeRef = Pick<ServiceMapNode, "id" | "kind" | "label" | "namespace" | "identity" | "labels">;

/** cluster-wide security identities (pods') lie in [256, 2^24); reserved ones below, node-local ones (CIDR, FQDN) above */
export function isClusterIdentity(id: number): boolean {
  return id >= 256 && id < 1 << 24;
}
const POD_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace=";

/** the longest namespace, pod or workload name a column holds */
export const MAX_NAME_COLUMN = 253;
/** the longest labels list an endpoint fragment's `labels` column holds */
export const MAX_LABELS_TEXT = 4096;
/** the longest names list a `*_names` column holds (a stored record's JSON limit) */
export const MAX_NAMES_TEXT = 64 * 1024;

/**
 * A list as one text column: items "\n"-joined between a leading and a trailing "\n", so that one item
 * matches LIKE '%\nitem\n%'. An item's own newlines become spaces; items past `max` characters are left out.
 */
export function joinList(items: readonly string[] | undefined, max: number): string | null {
  if (!items || items.length === 0) return null;
  let out = "\n";
  for (const it of items) {
    const piece = it.replace(/\n/g, " ") + "\n";
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out;
}

/** joinList's items back, without empty ones */
export function splitList(s: string | null | undefined): string[] {
  return s ? s.split("\n").filter(Boolean) : [];
}

const RESERVED: Record<number, { id: string; kind: ServiceMapNodeKind; label: string }> = {
  1: { id: "reserved:host", kind: "host", label: "host" },
  6: { id: "reserved:remote-node", kind: "remote-node", label: "remote-node" },
  7: { id: "reserved:kube-apiserver", kind: "kube-apiserver", label: "kube-apiserver" },
  4: { id: "reserved:health", kind: "reserved", label: "health" },
  8: { id: "reserved:ingress", kind: "reserved", label: "ingress" },
};

/** The node of one side of a flow, from the store's columns for it (NULL for empty). */
export function mapNodeOf(ns: string | null, workload: string | null, identity: number | null, labels: string | null, names: string | null): MapNodeRef {
  const labelList = splitList(labels);
  if (ns && workload) return { id: `${ns}/${workload}`, kind: "workload", label: workload, namespace: ns, identity: identity ?? undefined, labels: labelList };
  const id = identity ?? 0;
  if (RESERVED[id]) return { ...RESERVED[id], identity: id, labels: labelList };
  // an API server outside the nodes has a CIDR identity that carries the kube-apiserver label
  if (labelList.includes("reserved:kube-apiserver")) return { ...RESERVED[7]!, identity: id, labels: labelList };
  const fqdn = splitList(names)[0];
  if (fqdn) return { id: `fqdn:${fqdn}`, kind: "fqdn", label: fqdn, identity: id, labels: labelList };
  const cidr = labelList.find((l) => l.startsWith("cidr:"));
  if (cidr) return { id: cidr, kind: "cidr", label: cidr.slice(5), identity: id, labels: labelList };
  // A pod's identity on an address that is no pod's: Hubble keeps the datapath's identity for packets a
  // proxy sends from the node on a pod's behalf (the ingress proxy's upstream connection), and leaves
  // the namespace empty since the address has none. The identity's labels still name the namespace.
  const podNs = ns ?? (isClusterIdentity(id) ? labelList.find((l) => l.startsWith(POD_NAMESPACE_LABEL))?.slice(POD_NAMESPACE_LABEL.length) || null : null);
  if (podNs) return { id: `${podNs}/(unknown)`, kind: "workload", label: "(no workload)", namespace: podNs, identity: id, labels: labelList };
  return { id: "reserved:world", kind: "world", label: "world", identity: 2, labels: labelList };
}

// Kubernetes' generated name suffixes use k8s.io/apimachinery's rand alphabet (no vowels, no 0, 1, 3),
// so an ordinary word in a workload's name ("primary", "v1") is not taken for one.
const POD_SUFFIX = /^(?:[bcdfghjklmnpqrstvwxz2456789]{5}|\d+)$/;
const TEMPLATE_HASH = /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/;

/**
 * The workload a pod name was generated for: `api-7d4b9c8f6-x2x9z` (Deployment: template hash and
 * random suffix) and `web-0` (StatefulSet ordinal) give `api` and `web`; a name with no generated
 * suffix is its own. Hubble fills `workloads` only for endpoints on the node that took the record
 * (and releases before 1.14 never do): the map still groups such a side with its workload's other pods.
 */
export function workloadFromPodName(pod: string): string {
  const parts = pod.split("-");
  if (parts.length < 2 || !POD_SUFFIX.test(parts[parts.length - 1]!)) return pod;
  parts.pop();
  if (parts.length >= 2 && TEMPLATE_HASH.test(parts[parts.length - 1]!)) parts.pop();
  return parts.join("-");
}

/** The workload name the map groups a side by: the record's first workload, else its pod's. */
export function mapWorkloadOf(ep: Endpoint | undefined): string | undefined {
  const named = ep?.workloads?.[0]?.name;
  if (named) return named;
  return ep?.namespace && ep.pod_name ? workloadFromPodName(ep.pod_name) : undefined;
}

function column(s: string | undefined): string | null {
  if (s === undefined || s === "") return null;
  return s.length > MAX_NAME_COLUMN ? s.slice(0, MAX_NAME_COLUMN) : s;
}

/** The node id of a record's source or destination, as the store's columns for it decide it. */
export function mapNodeIdOf(ep: Endpoint | undefined, names: readonly string[] | undefined): string {
  const ns = column(ep?.namespace);
  const workload = column(mapWorkloadOf(ep));
  // most endpoints are workloads, named by these two alone: the lists are not built for them
  if (ns && workload) return `${ns}/${workload}`;
  return mapNodeOf(
    ns,
    workload,
    ep?.identity ?? null,
    joinList(ep?.labels, MAX_LABELS_TEXT),
    joinList(names, MAX_NAMES_TEXT),
  ).id;
}

/**
 * Ids only a workload node has: "ns/workload" with one "/", which no other kind of node is named like
 * (those start "reserved:", "fqdn:" or "cidr:", or end "/(unknown)"). The store decides these on its
 * namespace and workload columns alone.
 */
export function workloadNodeParts(id: string): { namespace: string; workload: string } | undefined {
  const i = id.indexOf("/");
  if (i <= 0 || i === id.length - 1 || id.indexOf("/", i + 1) >= 0) return undefined;
  if (/^(reserved|fqdn|cidr):/.test(id) || id.endsWith("/(unknown)")) return undefined;
  return { namespace: id.slice(0, i), workload: id.slice(i + 1) };
}

/** The two node ids of a service map edge id ("source->target"), or undefined when it is not one. */
export function splitEdgeId(edge: string): { source: string; target: string } | undefined {
  const i = edge.indexOf("->");
  if (i <= 0 || i + 2 >= edge.length || edge.indexOf("->", i + 2) >= 0) return undefined;
  return { source: edge.slice(0, i), target: edge.slice(i + 2) };
}
