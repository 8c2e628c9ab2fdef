// Per-policy verdict counters (flows a policy allowed, denied outright, or dropped through the
// default deny it enabled), kept per direction on the policy record so a changed policy, which is a
// new record, starts from zero. The increments run on every decision, so they are plain field stores.
import type { PolicyRecord } from "./policy/types";
import type { MapEntry } from "./policy-map";
import type { EntryStats } from "./entry-stats";

export interface DirectionCounters {
  allowed: number;
  denied: number;
  defaultDenied: number;
}

export interface PolicyCounters {
  ingress: DirectionCounters;
  egress: DirectionCounters;
}

export function zeroCounters(): PolicyCounters {
  return { ingress: { allowed: 0, denied: 0, defaultDenied: 0 }, egress: { allowed: 0, denied: 0, defaultDenied: 0 } };
}

export function countersOf(p: PolicyRecord): PolicyCounters {
  return (p.counters ??= zeroCounters());
}

/** one flow decided by entry `e`: the endpoint's counters of the entry and its policies' verdict counts */
export function countEntryHit(stats: EntryStats, e: MapEntry, dir: "ingress" | "egress", bytes: number, ms: number): void {
  stats.hit(e, bytes, ms);
  if (e.deny) {
    const ps = e.denyPolicies;
    for (let i = 0; i < ps.length; i++) countersOf(ps[i])[dir].denied++;
  } else {
    const ps = e.allowPolicies;
    for (let i = 0; i < ps.length; i++) countersOf(ps[i])[dir].allowed++;
  }
}

/** one flow dropped because no entry matched: it counts for the policies that enabled default deny */
export function countDefaultDeny(policies: readonly PolicyRecord[], dir: "ingress" | "egress"): void {
  for (let i = 0; i < policies.length; i++) countersOf(policies[i])[dir].defaultDenied++;
}
