// Policy references and per-policy flow counts for the policies page.
import type { PolicyStatsResponse, PolicySummary } from "../api-types";

/** "Kind/namespace/name" ("Kind//name" when cluster-wide): the form `policy=` filters take. */
export function policyRefOf(p: Pick<PolicySummary, "kind" | "namespace" | "name">): string {
  return `${p.kind}/${p.namespace ?? ""}/${p.name}`;
}

export interface PolicyCounts {
  flows: number;
  /** FORWARDED: what the table lists under verdict=FORWARDED */
  allowed: number;
  denied: number;
  /** allowed at L3/L4 and handed to the L7 proxy (its own decision is a separate flow) */
  redirected: number;
  audit: number;
}

/** The counts the page shows for `ref`; zero when the policy decided nothing in the window. */
export function countsOf(stats: PolicyStatsResponse, ref: string): PolicyCounts {
  const s = stats.policies.find((p) => p.policy === ref);
  const v = s?.verdicts ?? {};
  return { flows: s?.flows ?? 0, allowed: v.FORWARDED ?? 0, denied: v.DROPPED ?? 0, redirected: v.REDIRECTED ?? 0, audit: v.AUDIT ?? 0 };
}
