// CiliumCIDRGroup: a named, labelled set of external CIDRs that policies reference from
// fromCIDRSet/toCIDRSet with cidrGroupRef (by name) or cidrGroupSelector (by the group's labels).
// Its CIDRs become CIDR identities labelled with the group's name and labels, so Hubble flows to
// them are annotated with the group (docs: network/kubernetes/ciliumcidrgroup.rst).
import { parseCidr, type Cidr } from "../../cluster/ip";
import { indexLabels, formatLabel, type LabelIndex } from "../../cluster/labels";
import type { Checker } from "../../scenario/check";

export const CIDR_GROUP_KIND = "CiliumCIDRGroup";
export const CIDR_GROUP_API_VERSIONS = ["cilium.io/v2alpha1", "cilium.io/v2"];
/** the label every identity of a group's CIDRs carries (pkg/policy/api cidr group label) */
export const CIDR_GROUP_NAME_LABEL = "io.cilium.policy.cidrgroupname";

export interface CidrGroup {
  kind: typeof CIDR_GROUP_KIND;
  name: string;
  labels: Record<string, string>;
  /** the group's labels with source cidrgroup, for cidrGroupSelector */
  labelIndex: LabelIndex;
  cidrs: Cidr[];
  source: string;
  documentIndex: number;
  yaml: string;
}

/** labels a CIDR identity gets from the groups that list its prefix */
export function cidrGroupLabels(g: CidrGroup): string[] {
  return [formatLabel("cidrgroup", `${CIDR_GROUP_NAME_LABEL}/${g.name}`, ""), ...Object.entries(g.labels).map(([k, v]) => formatLabel("cidrgroup", k, v))];
}

/** the spec and labels of a CiliumCIDRGroup document whose metadata is already checked */
export function parseCidrGroupSpec(c: Checker, spec: unknown, name: string, labels: Record<string, string>, source: string, documentIndex: number, yaml: string): CidrGroup | undefined {
  if (spec === undefined) {
    c.err("spec", "is required");
    return undefined;
  }
  const s = c.obj(spec, "spec", ["externalCIDRs"], ["externalCIDRs"]);
  const cidrs: Cidr[] = [];
  c.arr(s.externalCIDRs, "spec.externalCIDRs").forEach((v, i) => {
    const p = `spec.externalCIDRs[${i}]`;
    const text = c.str(v, p);
    if (text === undefined) return;
    const r = parseCidr(text);
    if ("error" in r) c.err(p, r.error);
    else if (!cidrs.some((x) => x.text === r.text)) cidrs.push(r);
  });
  if (!c.ok) return undefined;
  const labelIndex = indexLabels(Object.entries(labels).map(([k, v]) => formatLabel("cidrgroup", k, v)));
  return { kind: CIDR_GROUP_KIND, name, labels, labelIndex, cidrs, source, documentIndex, yaml };
}
