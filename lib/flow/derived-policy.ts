// Cilium puts entries of its own into an endpoint's policy map: allow-localhost-ingress (the local node
// may reach its pods) and allow-any-ingress/-egress (a direction that policies select but none makes
// default-deny). Hubble's policy correlation lists them in *_allowed_by like any rule, as a Policy with
// no name, namespace or kind: only the reserved derived-from label and the revision.
import type { Policy } from "./types";

const DERIVED_FROM = "reserved:io.cilium.policy.derived-from=";

export type DerivedRule = "allow-localhost-ingress" | "allow-any-ingress" | "allow-any-egress";

export function derivedPolicy(rule: DerivedRule, revision: number): Policy {
  return { labels: [DERIVED_FROM + rule], revision: String(revision) };
}

/** The Cilium-made rule a Policy stands for ("allow-localhost-ingress"), or undefined for a real policy. */
export function derivedFrom(p: Policy): string | undefined {
  if (p.name) return undefined;
  const label = p.labels?.find((l) => l.startsWith(DERIVED_FROM));
  return label?.slice(DERIVED_FROM.length);
}
