// Which of a pod's labels make up its security identity. Cilium does not use every Kubernetes label:
// hashes and generated names (pod-template-hash, statefulset.kubernetes.io/pod-name, …) would give
// every pod of a Deployment its own identity. The agent's label filter (pkg/labelsfilter, the
// `labels` option / Helm value) decides, and a policy can only select what it keeps: a selector on a
// filtered-out label selects nothing. Labels the filter drops are "information labels".
import RE2 from "re2";
import { parseLabel } from "./labels";

export interface LabelPattern {
  /** the pattern as written, for messages */
  text: string;
  /** empty: any source */
  source: string;
  /** `!pattern`: the keys it matches are left out */
  ignore: boolean;
  /** anchored at the key's start, as Cilium requires its matches to start there */
  regex: RE2;
}

export interface LabelFilter {
  patterns: readonly LabelPattern[];
  /** an inclusive pattern was configured: only labels an inclusive pattern matches are kept */
  inclusiveOnly: boolean;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One pattern in Cilium's syntax: `[source:][!]regex`; throws an Error naming the pattern. */
export function parseLabelPattern(text: string): LabelPattern {
  // the first colon ends the source, as parseLabelPrefix reads it
  const colon = text.indexOf(":");
  const source = colon >= 0 ? text.slice(0, colon) : "";
  let prefix = colon >= 0 ? text.slice(colon + 1) : text;
  if (prefix === "") throw new Error(`label pattern "${text}": nothing after the source`);
  const ignore = prefix.startsWith("!");
  if (ignore) prefix = prefix.slice(1);
  let regex: RE2;
  try {
    regex = new RE2(`^(?:${prefix})`);
  } catch (err) {
    throw new Error(`label pattern "${text}": invalid regular expression: ${(err as Error).message}`);
  }
  return { text, source, ignore, regex };
}

// Cilium's defaultLabelPrefixCfg: the label keys it keeps however the filter is configured, and the
// ones it leaves out unless a longer inclusive pattern matches them.
const DEFAULT_PATTERNS = [
  "reserved:.*",
  escapeRegex("io.kubernetes.pod.namespace"),
  escapeRegex("io.cilium.k8s.namespace.labels"),
  escapeRegex("app.kubernetes.io"),
  escapeRegex("io.cilium.k8s.policy.cluster"),
  "!io\\.kubernetes",
  "!kubernetes\\.io",
  "!" + escapeRegex("statefulset.kubernetes.io/pod-name"),
  "!" + escapeRegex("apps.kubernetes.io/pod-index"),
  "!" + escapeRegex("batch.kubernetes.io/job-completion-index"),
  // Job controller UIDs (cilium#31964, Cilium 1.16): every Job would get an identity of its own
  "!" + escapeRegex("batch.kubernetes.io/controller-uid"),
  "!controller-uid",
  "!.*beta\\.kubernetes\\.io",
  "!k8s\\.io",
  "!pod-template-generation",
  "!pod-template-hash",
  "!controller-revision-hash",
  "!annotation.*",
  "!etcd_node",
];

/**
 * The filter Cilium runs with `labels` set to `extra` (space-separated in the ConfigMap; here one
 * pattern per item). The defaults are always there; an inclusive pattern among `extra` turns on
 * inclusive-only mode, as in Cilium (so, e.g., the service-account label is then dropped unless
 * included). Throws an Error naming the first bad pattern.
 */
export function labelFilter(extra: readonly string[] = []): LabelFilter {
  const patterns = DEFAULT_PATTERNS.map(parseLabelPattern);
  let inclusiveOnly = false;
  for (const text of extra) {
    if (text === "") continue;
    const p = parseLabelPattern(text);
    if (!p.ignore) inclusiveOnly = true;
    patterns.push(p);
  }
  return { patterns, inclusiveOnly };
}

export const DEFAULT_LABEL_FILTER = labelFilter();

/**
 * Whether label `label` ("source:key=value") is identity-relevant. As filterLabels decides: the
 * longest inclusive match against the shortest ignoring match; with no inclusive pattern configured,
 * a label no ignoring pattern matches is kept.
 */
export function isIdentityLabel(filter: LabelFilter, label: string): boolean {
  const { source, key } = parseLabel(label);
  let included = 0;
  let ignored = 0;
  for (const p of filter.patterns) {
    if (p.source !== "" && p.source !== source) continue;
    const m = p.regex.exec(key);
    if (m === null) continue;
    const len = m[0].length;
    if (p.ignore) {
      if (ignored === 0 || len < ignored) ignored = len;
    } else if (len > included) included = len;
  }
  return (!filter.inclusiveOnly && ignored === 0) || included > ignored;
}

/** `labels` split into the identity labels and the information labels, each in the given order. */
export function filterIdentityLabels(filter: LabelFilter, labels: readonly string[]): { identity: string[]; information: string[] } {
  const identity: string[] = [];
  const information: string[] = [];
  for (const l of labels) (isIdentityLabel(filter, l) ? identity : information).push(l);
  return { identity, information };
}
