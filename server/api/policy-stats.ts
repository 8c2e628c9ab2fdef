// GET /api/policies/stats: how many flows each deciding policy appears on over a window, by verdict.
// SQLite counts per (policies list, verdict) over the time index, on the store's aggregate thread (it
// reads every row of the window: 350-500 ms at ~500k flows, which the main thread must not spend); the
// lists are split here, which stays cheap because distinct combinations are few even at ~600k flows an hour.
import type { PolicyStatsResponse } from "../../lib/api-types";
import { FilterError } from "../../lib/filter/types";
import { parseTimeArg } from "../../lib/filter/time";
import type { PolicyVerdictGroup } from "../store/aggregate-queries";
import type { FlowStore } from "../store/flow-store";
import { HttpError } from "./http-util";

const DEFAULT_WINDOW_MS = 3600_000;
const PARAMS = ["since", "until", "token"];

function timeParam(params: URLSearchParams, field: "since" | "until", now: number): number | undefined {
  const raw = params.get(field);
  if (raw === null || raw.trim() === "") return undefined;
  try {
    return parseTimeArg(raw, field, now);
  } catch (err) {
    if (err instanceof FilterError) throw new HttpError(400, err.message, err.field);
    throw err;
  }
}

/** The window asked for (default: the hour up to now); bad or unknown parameters are a 400 naming the field. */
export function policyStatsWindow(params: URLSearchParams, now = Date.now()): { since: number; until: number } {
  for (const k of params.keys()) {
    if (!PARAMS.includes(k)) throw new HttpError(400, `unknown parameter ${JSON.stringify(k)}: this route takes since and until`, k);
  }
  const until = timeParam(params, "until", now) ?? now;
  const since = timeParam(params, "since", now) ?? until - DEFAULT_WINDOW_MS;
  if (since > until) throw new HttpError(400, "since is after until", "since");
  return { since, until };
}

/** Per deciding policy, the flows of the window and their verdicts, from the per-(policies, verdict) counts. */
export function policyStatsFrom(window: { since: number; until: number }, groups: readonly PolicyVerdictGroup[]): PolicyStatsResponse {
  const byPolicy = new Map<string, { flows: number; verdicts: Record<string, number> }>();
  for (const g of groups) {
    // the column is "\n"-joined with a leading and trailing "\n" (fragments.ts joinList); names are unique in it
    for (const ref of g.policies.split("\n")) {
      if (ref === "") continue;
      let s = byPolicy.get(ref);
      if (!s) byPolicy.set(ref, (s = { flows: 0, verdicts: {} }));
      s.flows += g.n;
      s.verdicts[g.verdict] = (s.verdicts[g.verdict] ?? 0) + g.n;
    }
  }
  const policies = [...byPolicy].map(([policy, s]) => ({ policy, ...s })).sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
  return { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString(), policies };
}

/**
 * The whole route: parameters are checked before anything is queued, pending writes are committed so
 * just-ingested flows count, and the counting runs on the store's aggregate thread while this one
 * goes on serving.
 */
export async function policyStats(store: FlowStore, params: URLSearchParams, now = Date.now()): Promise<PolicyStatsResponse> {
  const window = policyStatsWindow(params, now);
  store.flush();
  return policyStatsFrom(window, await store.policyVerdictGroups(window.since, window.until));
}
