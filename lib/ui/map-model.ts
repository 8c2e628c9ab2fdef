// What the service map shows: which nodes and edges are visible and how an edge looks. Pure functions
// over the server's ServiceMap. (Which flows belong to a clicked edge or node the server decides:
// map_edge / map_node, lib/flow/map-node.ts.)
import type { ServiceMapEdge, ServiceMapNode } from "../api-types";
import type { HiddenPeers } from "./view-state";

export type EdgeTone = "forwarded" | "dropped" | "audit" | "mixed" | "error";

/** The map legend: every tone an edge can take, and what it means (shown as the legend's tooltips). */
export const EDGE_TONES: readonly { tone: EdgeTone; meaning: string }[] = [
  { tone: "forwarded", meaning: "every flow allowed" },
  { tone: "dropped", meaning: "every connection denied (the source's own egress verdict may have let the packets out)" },
  { tone: "audit", meaning: "a policy in audit mode would have denied some flows and let them through (the rest allowed); nothing dropped" },
  { tone: "mixed", meaning: "some flows allowed, some dropped" },
  { tone: "error", meaning: "the datapath reported errors; nothing dropped" },
];

/**
 * Forwarded-only is green, dropped-only red. Audit verdicts are allowed traffic a policy in audit mode
 * would have denied; an audited connection also produces forwarded events, so forwarded + audit is
 * "audit", not "mixed". "mixed" is for allowed and dropped together. A path whose drops are all that
 * reached the far side is blocked (red), even though the source's own egress verdict allowed the
 * packets out.
 */
export function edgeTone(e: Pick<ServiceMapEdge, "verdicts" | "delivered">): EdgeTone {
  const v = e.verdicts;
  const ok = (v.FORWARDED ?? 0) + (v.REDIRECTED ?? 0);
  const dropped = v.DROPPED ?? 0;
  const audit = v.AUDIT ?? 0;
  const error = v.ERROR ?? 0;
  if (dropped > 0) {
    if (ok === 0 && audit === 0) return "dropped";
    if (audit === 0 && e.delivered === 0) return "dropped";
    return "mixed";
  }
  if (audit) return "audit";
  if (error) return "error";
  return "forwarded";
}

/** Stroke width from rate on a log scale, so one chatty edge does not flatten the rest. */
export function edgeWidth(rate: number, maxRate: number): number {
  if (!(rate > 0) || !(maxRate > 0)) return 1.25;
  const t = Math.log1p(rate) / Math.log1p(maxRate);
  return 1.25 + Math.min(1, Math.max(0, t)) * 5.75;
}

export function edgeLabel(e: Pick<ServiceMapEdge, "ports" | "l7">, max = 3): string {
  const parts = [...e.ports.slice(0, max)];
  if (e.ports.length > max) parts.push(`+${e.ports.length - max}`);
  const l7 = e.l7.map((x) => x.toUpperCase());
  return [parts.join(" "), l7.join("/")].filter(Boolean).join(" · ");
}

const KUBE_DNS = /(^|:)k8s-app=kube-dns$/;

export function isKubeDns(n: ServiceMapNode): boolean {
  return n.labels.some((l) => KUBE_DNS.test(l)) || (n.namespace === "kube-system" && /(^|\/)(kube-dns|coredns)$/.test(n.id));
}

export function isHidden(n: ServiceMapNode, hide: HiddenPeers): boolean {
  if (hide.host && n.kind === "host") return true;
  if (hide.remoteNode && n.kind === "remote-node") return true;
  if (hide.world && (n.kind === "world" || n.kind === "fqdn" || n.kind === "cidr")) return true;
  if (hide.kubeDns && isKubeDns(n)) return true;
  return false;
}

export interface VisibleGraph {
  nodes: ServiceMapNode[];
  edges: ServiceMapEdge[];
}

export function visibleGraph(nodes: readonly ServiceMapNode[], edges: readonly ServiceMapEdge[], hide: HiddenPeers): VisibleGraph {
  const shown = nodes.filter((n) => !isHidden(n, hide));
  const ids = new Set(shown.map((n) => n.id));
  return { nodes: shown, edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

export type GroupKind = "namespace" | "outside" | "cluster";

/** Which island a node sits in: its namespace, "outside" (world/FQDN/CIDR) or "cluster" (host, nodes…). */
export function groupOf(n: ServiceMapNode): { id: string; label: string; kind: GroupKind } {
  if (n.kind === "world" || n.kind === "fqdn" || n.kind === "cidr") return { id: "~outside", label: "Outside the cluster", kind: "outside" };
  if (n.namespace && n.kind === "workload") return { id: `ns:${n.namespace}`, label: n.namespace, kind: "namespace" };
  if (n.namespace) return { id: `ns:${n.namespace}`, label: n.namespace, kind: "namespace" };
  return { id: "~cluster", label: "Cluster", kind: "cluster" };
}

function workloadName(node: ServiceMapNode): string {
  const slash = node.id.indexOf("/");
  return slash >= 0 ? node.id.slice(slash + 1) : node.label;
}

/** Policies that select a workload node, from GET /api/policies' `selects`. */
export function policiesSelecting<P extends { selects: { pod: string; namespace: string }[] }>(node: ServiceMapNode, policies: readonly P[]): P[] {
  if (node.kind !== "workload") return [];
  const wl = workloadName(node);
  return policies.filter((p) => p.selects.some((s) => s.namespace === node.namespace && (s.pod === wl || s.pod.startsWith(wl + "-"))));
}
