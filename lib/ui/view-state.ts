// All view state lives in the page URL so a copied link reproduces the view (Hubble UI keeps only part
// of it there). This module is the one place that reads and writes those parameters.
import { splitEdgeId } from "../flow/map-node";
import { MAX_MAP_NODE_ID } from "../filter/match";
import { isColumnId, isDefaultSort, type SortSpec } from "./columns";

// Hubble's Verdict enum (flow.proto) less VERDICT_UNKNOWN: REDIRECTED marks policy verdicts that send a
// connection to the L7 proxy, TRACED and TRANSLATED come from trace and SNAT events.
export const VERDICT_CHOICES = ["FORWARDED", "DROPPED", "AUDIT", "ERROR", "REDIRECTED", "TRACED", "TRANSLATED"] as const;
export type VerdictChoice = (typeof VERDICT_CHOICES)[number];

export const RANGE_CHOICES = ["live", "5m", "1h", "custom"] as const;
export type RangeChoice = (typeof RANGE_CHOICES)[number];

export const PANE_CHOICES = ["split", "map", "table"] as const;
export type Pane = (typeof PANE_CHOICES)[number];

/** Visual toggles, like Hubble UI's "Hide host service" etc. true = hidden. */
export interface HiddenPeers {
  host: boolean;
  kubeDns: boolean;
  world: boolean;
  remoteNode: boolean;
}

export interface ViewState {
  namespaces: string[];
  verdict?: VerdictChoice;
  /** free-text entries in Hubble UI syntax: `[!][from:|to:|either:]kind=value` or `policy=…` */
  filters: string[];
  range: RangeChoice;
  /** only for range=custom: RFC 3339 */
  since?: string;
  until?: string;
  /** selected flow (its stored id) for the details panel */
  flow?: string;
  /** selected map node / edge id */
  node?: string;
  edge?: string;
  pane: Pane;
  hide: HiddenPeers;
  /** the table's sort, when not the default (time, newest first) */
  sort?: SortSpec;
  /** what the URL asked for that the page could not take (shown, never written back to the URL) */
  problems?: string[];
}

export const DEFAULT_HIDE: HiddenPeers = { host: false, kubeDns: false, world: false, remoteNode: false };

export function defaultView(): ViewState {
  return { namespaces: [], filters: [], range: "live", pane: "split", hide: { ...DEFAULT_HIDE } };
}

const HIDE_KEYS: Record<keyof HiddenPeers, string> = {
  host: "host",
  kubeDns: "kube-dns",
  world: "world",
  remoteNode: "remote-node",
};

function isOneOf<T extends string>(list: readonly T[], v: string | null): v is T {
  return v !== null && (list as readonly string[]).includes(v);
}

/**
 * Lenient: a hand-edited URL with an unknown value falls back to the default for that field, and
 * `problems` says which value was ignored so the page can show it rather than silently widen the view.
 */
export function parseView(params: URLSearchParams): ViewState {
  const v = defaultView();
  const problems: string[] = [];
  const ns = params.getAll("ns").flatMap((s) => s.split(","));
  v.namespaces = [...new Set(ns.map((s) => s.trim()).filter(Boolean))].sort();
  const verdict = params.get("verdict");
  if (verdict && isOneOf(VERDICT_CHOICES, verdict.toUpperCase())) v.verdict = verdict.toUpperCase() as VerdictChoice;
  else if (verdict) problems.push(`verdict ${JSON.stringify(verdict)} ignored: not a Hubble verdict (${VERDICT_CHOICES.join(", ")})`);
  v.filters = params.getAll("filter").map((s) => s.trim()).filter(Boolean);
  const range = params.get("range");
  if (isOneOf(RANGE_CHOICES, range)) v.range = range;
  else if (range) problems.push(`range ${JSON.stringify(range)} ignored (${RANGE_CHOICES.join(", ")})`);
  // Absent values stay absent (not `undefined` keys) so parsed views compare equal.
  const opt = (k: "since" | "until" | "flow" | "node" | "edge") => {
    const x = params.get(k);
    if (x) v[k] = x;
  };
  if (v.range === "custom") {
    opt("since");
    opt("until");
  }
  opt("flow");
  opt("node");
  opt("edge");
  // the table's query carries them (map_node, map_edge): one the server would refuse is dropped here, said why
  const ends = v.edge === undefined ? undefined : splitEdgeId(v.edge);
  if (v.edge !== undefined && (!ends || ends.source.length > MAX_MAP_NODE_ID || ends.target.length > MAX_MAP_NODE_ID)) {
    problems.push(`edge ${JSON.stringify(v.edge.slice(0, 80))} ignored: not a service map edge (source->target)`);
    delete v.edge;
  }
  if (v.node !== undefined && v.node.length > MAX_MAP_NODE_ID) {
    problems.push(`node of ${v.node.length} characters ignored: not a service map node`);
    delete v.node;
  }
  if (problems.length) v.problems = problems;
  const pane = params.get("pane");
  if (isOneOf(PANE_CHOICES, pane)) v.pane = pane;
  // `sort=COLUMN.asc|desc`; a column the table does not have falls back to the default, said why
  const sort = params.get("sort");
  if (sort) {
    const m = /^([A-Za-z0-9]+)\.(asc|desc)$/.exec(sort);
    if (m && isColumnId(m[1]!)) {
      const asked: SortSpec = { column: m[1], dir: m[2] as SortSpec["dir"] };
      if (!isDefaultSort(asked)) v.sort = asked;
    } else {
      v.problems = [...(v.problems ?? []), `sort ${JSON.stringify(sort.slice(0, 80))} ignored: expected COLUMN.asc or COLUMN.desc with a column of the table`];
    }
  }
  const hidden = new Set((params.get("hide") ?? "").split(",").filter(Boolean));
  for (const [k, name] of Object.entries(HIDE_KEYS) as [keyof HiddenPeers, string][]) v.hide[k] = hidden.has(name);
  return v;
}

/** Canonical order and only non-default values, so equal views give equal URLs. */
export function serializeView(v: ViewState): URLSearchParams {
  const p = new URLSearchParams();
  if (v.namespaces.length) p.set("ns", [...v.namespaces].sort().join(","));
  if (v.verdict) p.set("verdict", v.verdict);
  for (const f of v.filters) p.append("filter", f);
  if (v.range !== "live") p.set("range", v.range);
  if (v.range === "custom") {
    if (v.since) p.set("since", v.since);
    if (v.until) p.set("until", v.until);
  }
  if (v.pane !== "split") p.set("pane", v.pane);
  if (v.sort && !isDefaultSort(v.sort)) p.set("sort", `${v.sort.column}.${v.sort.dir}`);
  const hidden = (Object.keys(HIDE_KEYS) as (keyof HiddenPeers)[]).filter((k) => v.hide[k]).map((k) => HIDE_KEYS[k]);
  if (hidden.length) p.set("hide", hidden.join(","));
  if (v.node) p.set("node", v.node);
  if (v.edge) p.set("edge", v.edge);
  if (v.flow) p.set("flow", v.flow);
  return p;
}

export function viewHref(v: ViewState, path = "/"): string {
  const q = serializeView(v).toString();
  return q ? `${path}?${q}` : path;
}

export const RANGE_MS: Record<Exclude<RangeChoice, "live" | "custom">, number> = {
  "5m": 5 * 60_000,
  "1h": 60 * 60_000,
};

/** The absolute window a view asks for, resolved against `now`. Live has no lower bound. */
export function timeWindow(v: ViewState, now: number): { since?: string; until?: string } {
  if (v.range === "custom") return { since: v.since, until: v.until };
  if (v.range === "live") return {};
  return { since: new Date(now - RANGE_MS[v.range]).toISOString() };
}

/** Whether the view keeps streaming after the history page (custom windows are fixed in time). */
export function isStreaming(v: ViewState): boolean {
  return v.range !== "custom";
}

/** Toggle one value of a filter list: click a value once to filter by it, again to remove it. */
export function toggleFilter(v: ViewState, entry: string): ViewState {
  const has = v.filters.includes(entry);
  return { ...v, filters: has ? v.filters.filter((f) => f !== entry) : [...v.filters, entry], flow: undefined };
}
