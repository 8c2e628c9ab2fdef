// GET /api/policies/stats: how many flows each deciding policy appears on over a window, by verdict.
// SQLite counts per (policies list, verdict) over the time index; the lists are split here, which stays
// cheap because distinct combinations are few even at ~600k flows an hour.
import type { PolicyStatsResponse } from "../../lib/api-types";
import { FilterError } from "../../lib/filter/types";
import { parseTimeArg } from "../../lib/filter/time";
import type { FlowReader } from "../store/flow-reader";
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

export function policyStats(reader: FlowReader, params: URLSearchParams, now = Date.now()): PolicyStatsResponse {
  for (const k of params.keys()) {
    if (!PARAMS.includes(k)) throw new HttpError(400, `unknown parameter ${JSON.stringify(k)}: this route takes since and until`, k);
  }
  const until = timeParam(params, "until", now) ?? now;
  const since = timeParam(params, "since", now) ?? until - DEFAULT_WINDOW_MS;
  if (since > until) throw new HttpError(400, "since is after until", "since");
  const byPolicy = new Map<string, { flows: number; verdicts: Record<string, number> }>();
  for (const g of reader.policyVerdictGroups(since, until)) {
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
  return { since: new Date(since).toISOString(), until: new Date(until).toISOString(), policies };
}
