// Turns the page's view state into the filter query string GET /api/flows, /api/service-map,
// /api/export and the stream's `subscribe.filter` take (lib/filter/parse-params.ts): `namespace`
// (either side, repeated = OR), `verdict`, `q` (Hubble UI free text; the server narrows the namespace
// selection by it), `since`/`until`, and the map's selected edge or node (`map_edge`, `map_node`: the
// server decides them as the map groups flows, so the table, its count and every export hold exactly
// the selection's flows). The map's "hide" toggles are deny terms of the same free text, so
// the table, the stream and exports leave out what the map hides (as Hubble UI's toggles are filters).
import { timeWindow, type HiddenPeers, type ViewState } from "./view-state";
import { localDateTime, localZone, timeShort } from "./flow-view";
import { parseTimeArg } from "../filter/time";

/** The free-text deny terms each hide toggle stands for (lib/filter/parse-ui.ts). */
const HIDE_TERMS: Record<keyof HiddenPeers, readonly string[]> = {
  host: ["!identity=host"],
  remoteNode: ["!identity=remote-node"],
  // Everything outside the cluster: reserved:world, and CIDR/FQDN identities, which carry it too.
  // Exports from dual-stack clusters label outside addresses world-ipv4/world-ipv6 instead.
  world: ["!label=reserved:world", "!label=reserved:world-ipv4", "!label=reserved:world-ipv6"],
  kubeDns: ["!label=k8s-app=kube-dns"],
};

export function hiddenPeerTerms(hide: HiddenPeers | undefined): string[] {
  if (!hide) return [];
  return (Object.keys(HIDE_TERMS) as (keyof HiddenPeers)[]).filter((k) => hide[k]).flatMap((k) => HIDE_TERMS[k]);
}

export function filterParams(v: ViewState, now: number): URLSearchParams {
  const p = new URLSearchParams();
  for (const ns of v.namespaces) p.append("namespace", ns);
  if (v.verdict) p.append("verdict", v.verdict);
  const terms = [...v.filters, ...hiddenPeerTerms(v.hide)];
  if (terms.length) p.set("q", terms.join(" "));
  // one selection at a time: an edge, else a node (as the map's side panel shows one)
  if (v.edge) p.set("map_edge", v.edge);
  else if (v.node) p.set("map_node", v.node);
  const w = timeWindow(v, now);
  if (w.since) p.set("since", w.since);
  if (w.until) p.set("until", w.until);
  return p;
}

/**
 * The query of an export: the view's filters and a window that ends at a stated moment. A file handed
 * on as evidence must say which flows it holds, and "until now" changes with every flow that arrives:
 * a live or relative view ends at `at` (the click, or the pause for a paused view, so the file holds
 * what the frozen table was drawn from and nothing that came after). A custom window is its own.
 */
export function exportParams(v: ViewState, at: number): URLSearchParams {
  const p = filterParams(v, at);
  if (v.range !== "custom") p.set("until", new Date(at).toISOString());
  return p;
}

/** The query of the service map itself: the view's filters without its own selection. */
export function mapParams(v: ViewState, now: number): URLSearchParams {
  return filterParams({ ...v, edge: undefined, node: undefined }, now);
}

/**
 * One end of a custom window as the server reads it (parseTimeArg: RFC 3339, a zone-less time as UTC,
 * a duration before now, epoch ms), shown in the browser's zone with that instant's own offset.
 */
function windowEnd(value: string, field: string): string {
  let ms: number;
  try {
    ms = parseTimeArg(value, field);
  } catch {
    return value;
  }
  const iso = new Date(ms).toISOString();
  return `${localDateTime(iso)} (${localZone(new Date(ms))})`;
}

/** What an export made now holds, in words, for the export menu. */
export function exportWindowText(v: ViewState, pausedAt: number | undefined): string {
  // in the zone the rows and the range inputs show, named
  if (v.range === "custom") return `flows from ${v.since ? windowEnd(v.since, "since") : "the first stored"} to ${v.until ? windowEnd(v.until, "until") : "the click"}`;
  const start = v.range === "live" ? "all stored flows" : `flows of the ${v.range === "5m" ? "5 minutes" : "hour"} before`;
  // the table's own time format, so the pause reads against the rows' times
  if (pausedAt !== undefined) return `${start}${v.range === "live" ? " up to" : ""} the pause at ${timeShort(new Date(pausedAt).toISOString())} (${localZone(new Date(pausedAt))})`;
  return `${start}${v.range === "live" ? " up to" : ""} the click`;
}

/** Filters without the time window: what a live subscription needs. */
export function streamFilter(v: ViewState): string {
  return filterParams({ ...v, range: "live" }, 0).toString();
}
