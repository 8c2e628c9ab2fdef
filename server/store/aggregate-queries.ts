// Aggregate queries over the flow history that read every row of a window. They run on the aggregate
// thread (aggregate-worker.ts) so the main thread never waits for them; FlowReader uses the same text
// for callers already off the main thread (or that do not mind waiting).

/** one (policies column, verdict) combination and how many flows of the window have it */
export interface PolicyVerdictGroup {
  /** the deciding policies, "\n"-joined with a leading and trailing "\n" (fragments.ts joinList) */
  policies: string;
  verdict: string;
  n: number;
}

/**
 * Flows with time_ms in [?, ?] counted per (policies column, verdict). Grouping on the joined list keeps
 * the answer small (distinct policy combinations × verdicts); callers split it.
 */
export const POLICY_VERDICT_GROUPS_SQL =
  "SELECT policies, verdict, COUNT(*) AS n FROM flows WHERE time_ms >= ? AND time_ms <= ? AND policies IS NOT NULL GROUP BY policies, verdict";
