// Label selectors as Cilium evaluates them against identity labels (§1.2–1.3 of policy-semantics).
import { LABEL_NAMESPACE, NS_LABEL_PREFIX, type LabelIndex } from "../cluster/labels";
import type { Op, Requirement, Selector } from "./policy/types";

export const LABEL_SOURCES = ["k8s", "reserved", "cidr", "fqdn", "container", "any", "unspec", "cni", "cidrgroup", "node"];

/** "k8s:app" → {k8s, app}; "$host" → {reserved, host}; "app" → {any, app} */
export function parseSelectorKey(raw: string): { source: string; key: string } {
  if (raw.startsWith("$")) return { source: "reserved", key: raw.slice(1) };
  const colon = raw.indexOf(":");
  if (colon > 0) {
    const src = raw.slice(0, colon);
    if (LABEL_SOURCES.includes(src)) return { source: src, key: raw.slice(colon + 1) };
  }
  return { source: "any", key: raw };
}

export function makeSelector(reqs: Requirement[]): Selector {
  const sorted = [...reqs].sort((a, b) => (reqText(a) < reqText(b) ? -1 : 1));
  return { reqs: sorted, text: sorted.length ? sorted.map(reqText).join(", ") : "{} (all)" };
}

function reqText(r: Requirement): string {
  const k = `${r.source}:${r.key}`;
  switch (r.op) {
    case "In":
      return r.values.length === 1 ? `${k}=${r.values[0]}` : `${k} in (${r.values.join(",")})`;
    case "NotIn":
      return `${k} notin (${r.values.join(",")})`;
    case "Exists":
      return `${k} exists`;
    case "DoesNotExist":
      return `!${k}`;
  }
}

function reqMatches(r: Requirement, idx: LabelIndex): boolean {
  const list = idx.get(r.key);
  let present = false;
  let inValues = false;
  if (list) {
    for (const l of list) {
      if (r.source !== "any" && l.source !== r.source) continue;
      present = true;
      if (r.values.includes(l.value)) inValues = true;
    }
  }
  switch (r.op) {
    case "In":
      return inValues;
    case "NotIn":
      return !inValues;
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
  }
}

export function selectorMatches(sel: Selector, idx: LabelIndex): boolean {
  for (const r of sel.reqs) if (!reqMatches(r, idx)) return false;
  return true;
}

/** the first requirement that fails, for "why did this not match" explanations */
export function firstMismatch(sel: Selector, idx: LabelIndex): Requirement | undefined {
  return sel.reqs.find((r) => !reqMatches(r, idx));
}

export function describeRequirement(r: Requirement): string {
  return reqText(r);
}

export function isNamespaceKey(r: Requirement): boolean {
  return r.key === LABEL_NAMESPACE && (r.source === "k8s" || r.source === "any");
}

export function nsRequirement(ns: string): Requirement {
  return { source: "k8s", key: LABEL_NAMESPACE, op: "In", values: [ns] };
}

export function nsExistsRequirement(): Requirement {
  return { source: "k8s", key: LABEL_NAMESPACE, op: "Exists", values: [] };
}

/**
 * Peer selectors without a namespace (or reserved) key get the policy's namespace in a CNP, and
 * "any namespace" (i.e. pods only) in a CCNP (utils.go getEndpointSelector). A CNP selector keyed on
 * namespace labels may reach other namespaces, so it gets no namespace match (follow the code).
 */
export function scopePeerSelector(reqs: Requirement[], policyNs: string | undefined): Requirement[] {
  if (reqs.some((r) => isNamespaceKey(r) || r.source === "reserved")) return reqs;
  if (policyNs === undefined) return [...reqs, nsExistsRequirement()];
  if (reqs.some((r) => r.key.startsWith(NS_LABEL_PREFIX))) return reqs;
  return [...reqs, nsRequirement(policyNs)];
}

/** CNP subjects: always this namespace; a different namespace match written by the user is dropped. */
export function scopeSubjectSelector(reqs: Requirement[], policyNs: string | undefined): { reqs: Requirement[]; dropped: Requirement[] } {
  if (policyNs === undefined) return { reqs, dropped: [] };
  if (reqs.some((r) => r.source === "reserved" && r.key === "init")) return { reqs, dropped: [] };
  // Cilium sets the k8s: namespace label of the subject to the policy's namespace (ParseToCiliumRule's
  // AddMatch): a k8s: namespace value is replaced, while any other namespace requirement (an unprefixed
  // key, which is any:, or an expression) stays and is ANDed, so one naming another namespace selects nothing.
  const overridden = (r: Requirement) => r.source === "k8s" && r.key === LABEL_NAMESPACE && r.op === "In" && r.values.length === 1;
  const dropped = reqs.filter((r) => overridden(r) && r.values[0] !== policyNs);
  const kept = reqs.filter((r) => !overridden(r));
  return { reqs: [...kept, nsRequirement(policyNs)], dropped };
}

export function normalizeOp(s: string): Op | undefined {
  const m: Record<string, Op> = { in: "In", notin: "NotIn", exists: "Exists", doesnotexist: "DoesNotExist" };
  return m[s.toLowerCase()];
}
