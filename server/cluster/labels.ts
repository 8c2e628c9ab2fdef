// Identity labels in Cilium's "source:key=value" form, and a per-identity index for selector matching.

export const LABEL_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_SERVICEACCOUNT = "io.cilium.k8s.policy.serviceaccount";
export const LABEL_CLUSTER = "io.cilium.k8s.policy.cluster";
export const NS_LABEL_PREFIX = "io.cilium.k8s.namespace.labels.";

export interface ParsedLabel {
  source: string;
  key: string;
  value: string;
}

export function parseLabel(s: string): ParsedLabel {
  const colon = s.indexOf(":");
  const eq = s.indexOf("=");
  // a colon after "=" belongs to the value; no colon before the key means source "unspec"
  const hasSource = colon >= 0 && (eq < 0 || colon < eq);
  const source = hasSource ? s.slice(0, colon) : "unspec";
  const rest = hasSource ? s.slice(colon + 1) : s;
  const e = rest.indexOf("=");
  return e < 0 ? { source, key: rest, value: "" } : { source, key: rest.slice(0, e), value: rest.slice(e + 1) };
}

export function formatLabel(source: string, key: string, value: string): string {
  return value === "" ? `${source}:${key}` : `${source}:${key}=${value}`;
}

/** key → list of (source, value); selectors look up by key and then check the source */
export type LabelIndex = Map<string, { source: string; value: string }[]>;

export function indexLabels(labels: readonly string[]): LabelIndex {
  const idx: LabelIndex = new Map();
  for (const l of labels) {
    const p = parseLabel(l);
    let list = idx.get(p.key);
    if (!list) idx.set(p.key, (list = []));
    list.push({ source: p.source, value: p.value });
  }
  return idx;
}

/** Every label Cilium derives for a pod, before the identity-label filter (label-filter.ts) picks. */
export function podLabelSet(opts: {
  podLabels: Record<string, string>;
  namespace: string;
  namespaceLabels: Record<string, string>;
  serviceAccount: string;
  cluster: string;
}): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(opts.podLabels)) out.push(formatLabel("k8s", k, v));
  const nsLabels = { "kubernetes.io/metadata.name": opts.namespace, ...opts.namespaceLabels };
  for (const [k, v] of Object.entries(nsLabels)) out.push(formatLabel("k8s", NS_LABEL_PREFIX + k, v));
  out.push(formatLabel("k8s", LABEL_SERVICEACCOUNT, opts.serviceAccount));
  out.push(formatLabel("k8s", LABEL_CLUSTER, opts.cluster));
  out.push(formatLabel("k8s", LABEL_NAMESPACE, opts.namespace));
  return [...new Set(out)].sort();
}
