// The page's filters (namespaces, verdict, free text) as a predicate over the rows the table already
// holds. It compiles the very query string the API receives (api-query → lib/filter), so the browser
// keeps exactly the rows the server would send. Measured over 100k rows in bench/ui.bench.ts; not yet
// wired into the table (the server filters today, and a filter change reloads the rows).
import type { StoredFlow } from "../api-types";
import { compileQuery, fromSearchParams, parseUiEntry } from "../filter";
import { filterParams } from "./api-query";
import { cachedKey } from "./row-keys";
import type { ViewState } from "./view-state";

export type RowPredicate = ((row: StoredFlow) => boolean) & {
  /** answers remembered now (bounded by MEMO_LIMIT) */
  memoSize?: () => number;
};

/**
 * The rows the view's filters keep (time window excluded: the table's rows are already in it).
 * lib/filter's matcher costs microseconds a row (label selectors, pod patterns), too slow for 100k
 * rows, but its answer only depends on a few fields for each kind of term; rows agreeing on those
 * fields get the answer computed for the first of them. Other terms (policy, port, flow attributes)
 * read more of the record, so a view with one is matched row by row.
 */
export function viewPredicate(view: Pick<ViewState, "namespaces" | "verdict" | "filters">): RowPredicate | undefined {
  const params = filterParams({ namespaces: view.namespaces, verdict: view.verdict, filters: view.filters, range: "live", pane: "split", hide: { host: false, kubeDns: false, world: false, remoteNode: false } }, 0);
  if ([...params.keys()].length === 0) return undefined;
  const match = compileQuery(fromSearchParams(params));
  const facets = new Set<Facet>();
  if (view.namespaces.length) facets.add("pod");
  if (view.verdict) facets.add("verdict");
  for (const f of view.filters) {
    const kind = parseUiEntry(f).kind;
    if (!(kind in FACET_KEY)) return (row) => match(row.flow);
    facets.add(kind as Facet);
  }
  const parts = [...facets].map((f) => FACET_KEY[f]);
  const keyOf = parts.length === 1 ? parts[0]! : (row: StoredFlow) => parts.map((p) => p(row)).join(SEP2);
  const memo = new Map<string, boolean>();
  const pred: RowPredicate = (row) => {
    const k = keyOf(row);
    let v = memo.get(k);
    if (v === undefined) {
      v = match(row.flow);
      // Facets such as ip pairs can differ on every flow; a live view keeps its predicate for long.
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(k, v);
    }
    return v;
  };
  pred.memoSize = () => memo.size;
  return pred;
}

/** Answers a predicate remembers before it starts over: far more than the distinct keys of 100k rows need to be fast. */
export const MEMO_LIMIT = 65_536;

type Facet = "label" | "ip" | "dns" | "identity" | "pod" | "workload" | "verdict";
const SEP = "\u0001";
const SEP2 = "\u0002";

const NEVER = new Set<string>();

/**
 * A key built by concatenation is flattened and hashed the first time a Map looks it up; doing that
 * while rows arrive (one lookup in an empty set) takes it off the first filter over 100k rows.
 */
function hashed(s: string): string {
  NEVER.has(s);
  return s;
}

/** For each kind of term, every field of the record lib/filter/match.ts reads for it (both sides). */
const FACET_KEY: Record<Facet, (row: StoredFlow) => string> = {
  label: cachedKey((r) => hashed((r.flow.source?.labels ?? []).join(SEP) + SEP2 + (r.flow.destination?.labels ?? []).join(SEP))),
  ip: (r) => (r.flow.IP?.source ?? "") + SEP + (r.flow.IP?.destination ?? ""),
  dns: (r) => (r.flow.source_names ?? []).join(SEP) + SEP2 + (r.flow.destination_names ?? []).join(SEP),
  identity: (r) => `${r.flow.source?.identity ?? ""}${SEP}${r.flow.destination?.identity ?? ""}`,
  pod: (r) => `${r.flow.source ? `${r.flow.source.namespace ?? ""}/${r.flow.source.pod_name ?? ""}` : "-"}${SEP}${r.flow.destination ? `${r.flow.destination.namespace ?? ""}/${r.flow.destination.pod_name ?? ""}` : "-"}`,
  workload: cachedKey((r) => hashed([r.flow.source, r.flow.destination].map((ep) => (ep?.workloads ?? []).map((w) => `${w.name ?? ""}:${w.kind ?? ""}`).join(SEP)).join(SEP2))),
  verdict: (r) => r.flow.verdict ?? "",
};

/** Warm the per-row keys the text filter reads as rows arrive, so filtering later only looks them up. */
export function prepareRows(rows: readonly StoredFlow[]): void {
  for (const r of rows) FACET_KEY.label(r);
}
