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

/** one namespace and how many flows touch it (from it, to it, or both: counted once) */
export interface NamespaceCount {
  namespace: string;
  flows: number;
}

/**
 * Flows per namespace they touch, each flow counted once per namespace: its source's, and its
 * destination's when that differs. Two index scans plus the table rows of the second.
 */
export const NAMESPACE_COUNTS_SQL = `SELECT ns AS namespace, SUM(n) AS flows FROM (
    SELECT src_namespace AS ns, COUNT(*) AS n FROM flows WHERE src_namespace IS NOT NULL GROUP BY src_namespace
    UNION ALL
    SELECT dst_namespace AS ns, COUNT(*) AS n FROM flows WHERE dst_namespace IS NOT NULL AND dst_namespace IS NOT src_namespace GROUP BY dst_namespace)
  GROUP BY ns ORDER BY ns`;
