// Turns the page's view state into the filter query string GET /api/flows, /api/service-map,
// /api/export and the stream's `subscribe.filter` take (lib/filter/parse-params.ts): `namespace`
// (either side, repeated = OR), `verdict`, `q` (Hubble UI free text; the server narrows the namespace
// selection by it), `since`/`until`.
import { timeWindow, type ViewState } from "./view-state";

export function filterParams(v: ViewState, now: number): URLSearchParams {
  const p = new URLSearchParams();
  for (const ns of v.namespaces) p.append("namespace", ns);
  if (v.verdict) p.append("verdict", v.verdict);
  if (v.filters.length) p.set("q", v.filters.join(" "));
  const w = timeWindow(v, now);
  if (w.since) p.set("since", w.since);
  if (w.until) p.set("until", w.until);
  return p;
}

/** Filters without the time window: what a live subscription needs. */
export function streamFilter(v: ViewState): string {
  return filterParams({ ...v, range: "live" }, 0).toString();
}
