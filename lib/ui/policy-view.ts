// Policy references and per-policy flow counts for the policies page.
import type { PolicySummary, StoredFlow } from "../api-types";
import { decisionOf, policyKey } from "./flow-view";

/** "Kind/namespace/name" ("Kind//name" when cluster-wide): the form `policy=` filters take. */
export function policyRefOf(p: Pick<PolicySummary, "kind" | "namespace" | "name">): string {
  return `${p.kind}/${p.namespace ?? ""}/${p.name}`;
}

/** How many of these flows the policy allowed and denied (deny rules and default deny). */
export function countDecisions(flows: readonly StoredFlow[], ref: string): { allowed: number; denied: number } {
  let allowed = 0;
  let denied = 0;
  for (const s of flows) {
    const d = decisionOf(s.flow);
    const mine = d.policies.filter((x) => policyKey(x.policy) === ref);
    if (mine.length === 0) continue;
    if (s.flow.verdict === "DROPPED") denied++;
    else if (s.flow.verdict === "FORWARDED" || s.flow.verdict === "REDIRECTED" || s.flow.verdict === "AUDIT") allowed++;
  }
  return { allowed, denied };
}
