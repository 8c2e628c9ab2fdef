// URL query parameters ⇄ FlowQuery: the form REST endpoints accept and the UI keeps in its address bar.
//
//   either side (source OR destination)   namespace, pod, label, ip, fqdn, identity, port, workload, service, cluster
//   one side                              from_<kind>, to_<kind>   (e.g. from_pod, to_label, to_port)
//   flow attributes                       verdict, drop_reason_desc, type (drop, trace:to-endpoint, policy-verdict, l7),
//                                         protocol, http_method, http_status (404, 5+), http_path, http_url,
//                                         http_header (key:value), dns_query, traffic_direction, node_name,
//                                         reply, uuid, policy (name | ns/name | Kind/ns/name), ip_version,
//                                         tcp_flags (syn,ack), snat_ip, node_label (selector over the observing
//                                         node's labels), interface (name), encrypted (true|false)
//   exclusions                            not.<any of the above>, e.g. not.verdict=FORWARDED
//   raw Hubble FlowFilters (JSON)         allow=<FlowFilter JSON>, deny=<FlowFilter JSON>  (each one filter)
//   Hubble UI free text                   q=<terms>  (see parse-ui.ts)
//   service map selection                 map_node=<node id> (flows from or to it), map_edge=<source id>-><target id>
//                                         (flows along it, and the target's replies back), as GET /api/service-map names them
//   window and paging                     since, until (RFC 3339, epoch ms of 11+ digits, or 5m/1h), limit, first=true|
//                                         order=asc|desc, cursor
//   one node                              node=<exact node name>: ANDed with everything, as Hubble Relay asks each
//                                         node (observe takes --last/--first N per node this way)
//
// Semantics are hubble observe's: a repeated parameter ORs its values, different parameters AND,
// either-side parameters build a source-side and a destination-side filter, and all not.* parameters form
// one blacklist filter pair (a flow is excluded only when it matches all of them). A pod or service
// parameter without a namespace matches in any namespace ("/name" in the FlowFilter it becomes; in a raw
// FlowFilter a bare name is in "default", as Hubble reads it). The free text and the map selection each
// narrow what the rest selected (AND); repeated map_node / map_edge values OR. Unknown parameters are an
// error so typos never widen a query.
import { addAttr, ATTR_NAMES, ATTR_FIELD, type AttrName } from "./attrs";
import { canonicalJson, FilterPairBuilder, SIDED_KINDS, type Side, type SidedKind } from "./builder";
import { formatEventType } from "./event-type";
import { compileFilter, MAX_FILTER_VALUES, parseMapEdge, validateMapNode } from "./match";
import { parseUiFilter, uiEntriesToFilters } from "./parse-ui";
import { parseTimeArg } from "./time";
import { FilterError, type FlowFilter, type FlowQuery } from "./types";

/** Parameters that are not filters but that routes commonly accept alongside them. */
export const NON_FILTER_PARAMS = ["limit", "cursor", "order", "first", "since", "until", "follow", "format"];

/** Parameters that take one value: repeating one is an error rather than a silent choice of either value. */
export const SINGLE_VALUED_PARAMS = ["limit", "cursor", "order", "first", "since", "until", "node"] as const;

export type ParamsInput = URLSearchParams | string | Record<string, string | string[] | undefined>;

function toEntries(input: ParamsInput): [string, string][] {
  if (typeof input === "string") return [...new URLSearchParams(input.startsWith("?") ? input.slice(1) : input)];
  if (input instanceof URLSearchParams) return [...input];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) out.push([k, x]);
  }
  return out;
}

export interface ParseParamsOptions {
  /** extra parameter names the caller handles itself (not errors, ignored here) */
  allow?: string[];
  /** "now" for relative times */
  now?: number;
  /** largest accepted limit; larger values are an error */
  maxLimit?: number;
}

/**
 * The name of the first parameter of a raw query string (without "?") whose percent-encoding is not
 * UTF-8, or undefined. URLSearchParams turns such bytes into U+FFFD, and a filter on them would quietly
 * match nothing: REST and the stream refuse them instead.
 */
export function badlyEncodedParam(query: string): string | undefined {
  for (const piece of query.split("&")) {
    try {
      decodeURIComponent(piece.replace(/\+/g, " "));
    } catch {
      const key = piece.split("=")[0]!;
      try {
        return decodeURIComponent(key).slice(0, 60);
      } catch {
        // the name itself is the bad part
        return key.slice(0, 60);
      }
    }
  }
  return undefined;
}

function parseJsonFilter(text: string, param: string): FlowFilter {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FilterError(param, `invalid FlowFilter JSON: ${(e as Error).message}`);
  }
  compileFilter(v as FlowFilter, `${param}.`);
  return v as FlowFilter;
}

export function fromSearchParams(input: ParamsInput, opts: ParseParamsOptions = {}): FlowQuery {
  const white = new FilterPairBuilder();
  const black = new FilterPairBuilder();
  const rawWhite: FlowFilter[] = [];
  const rawBlack: FlowFilter[] = [];
  const query: FlowQuery = { whitelist: [], blacklist: [] };
  let uiText = "";
  const mapNodes: string[] = [];
  const mapEdges: string[] = [];
  const seen = new Set<string>();
  const valuesOf = new Map<string, number>();
  for (const [key, value] of toEntries(input)) {
    // named by the parameter the client sent, before it becomes some filter's field
    const n = (valuesOf.get(key) ?? 0) + 1;
    valuesOf.set(key, n);
    if (n > MAX_FILTER_VALUES) throw new FilterError(key, `more than ${MAX_FILTER_VALUES} values`);
    // a second since=, limit=… would silently replace the first (and go unchecked where a caller reads only the first)
    if ((SINGLE_VALUED_PARAMS as readonly string[]).includes(key)) {
      if (seen.has(key)) throw new FilterError(key, `given more than once: ${key} takes one value`);
      seen.add(key);
    }
    const negated = key.startsWith("not.");
    const name = negated ? key.slice(4) : key;
    const target = negated ? black : white;
    if (name === "") throw new FilterError(key === "" ? "(empty name)" : key, "a parameter needs a name (name=value)");
    const m = /^(from_|to_)?(.+)$/.exec(name)!;
    const side: Side = m[1] === "from_" ? "from" : m[1] === "to_" ? "to" : "either";
    if ((SIDED_KINDS as readonly string[]).includes(m[2])) {
      target.addSided(m[2] as SidedKind, side, value, key);
      continue;
    }
    if (side === "either" && (ATTR_NAMES as readonly string[]).includes(name)) {
      addAttr(target, name as AttrName, value, key);
      continue;
    }
    if (negated) throw new FilterError(key, "unknown filter parameter");
    switch (name) {
      case "allow":
        rawWhite.push(parseJsonFilter(value, key));
        continue;
      case "deny":
        rawBlack.push(parseJsonFilter(value, key));
        continue;
      case "q":
        uiText += " " + value;
        continue;
      case "map_node":
        validateMapNode(value, key);
        mapNodes.push(value);
        continue;
      case "map_edge":
        parseMapEdge(value, key);
        mapEdges.push(value);
        continue;
      case "since":
      case "until":
        if (value.trim() === "") continue;
        // kept as written (a relative "5m" stays relative) and resolved when the query is compiled
        parseTimeArg(value, name, opts.now);
        query[name] = value.trim();
        continue;
      case "limit": {
        if (!/^\d+$/.test(value)) throw new FilterError("limit", `expected a non-negative integer, got ${JSON.stringify(value)}`);
        const n = Number(value);
        if (opts.maxLimit !== undefined && n > opts.maxLimit) throw new FilterError("limit", `at most ${opts.maxLimit}`);
        query.limit = n;
        continue;
      }
      case "first":
        if (!["true", "false", "1", "0", ""].includes(value)) throw new FilterError("first", `expected true or false, got ${JSON.stringify(value)}`);
        query.first = value === "true" || value === "1" || value === "";
        continue;
      case "order":
        if (value !== "asc" && value !== "desc") throw new FilterError("order", `expected asc or desc, got ${JSON.stringify(value)}`);
        query.first = value === "asc";
        continue;
      case "cursor":
        query.cursor = value;
        continue;
      case "node":
        // empty: the flows that name no node
        query.node = value;
        continue;
    }
    if (opts.allow?.includes(name) || NON_FILTER_PARAMS.includes(name)) continue;
    throw new FilterError(key, "unknown filter parameter");
  }
  query.whitelist = [...white.build(), ...rawWhite];
  query.blacklist = [...black.build(), ...rawBlack];
  if (uiText.trim()) {
    const ui = uiEntriesToFilters(parseUiFilter(uiText, "q"));
    // the free text narrows whatever the structured parameters selected
    query.whitelist = crossWhitelist(query.whitelist, ui.whitelist);
    query.blacklist.push(...ui.blacklist);
  }
  // the map selection narrows everything above
  if (mapNodes.length) query.whitelist = crossWhitelist(query.whitelist, [{ source_map_node: mapNodes }, { destination_map_node: mapNodes }]);
  if (mapEdges.length) query.whitelist = crossWhitelist(query.whitelist, [{ map_edge: mapEdges }]);
  if (query.since && query.until && parseTimeArg(query.since, "since", opts.now) > parseTimeArg(query.until, "until", opts.now)) {
    throw new FilterError("since", "is after until");
  }
  return query;
}

/** a uuid no flow has: the whitelist of a query that can match nothing */
const NO_UUID = "flowscope:no-flow";

/** (a1 OR a2) AND (b1 OR b2) as a whitelist: every pair merged; a pair that cannot both match is left out. */
function crossWhitelist(a: FlowFilter[], b: FlowFilter[]): FlowFilter[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: FlowFilter[] = [];
  for (const x of a) for (const y of b) {
    const merged = mergeAnd(x, y);
    if (merged) out.push(merged);
  }
  // no pair can match: nothing does, which an empty whitelist (keep everything) would turn around
  return out.length ? out : [{ uuid: [NO_UUID] }];
}

/** Fields whose values match whole (no patterns, prefixes or ranges): both lists hold = a value in both. */
const EXACT_VALUES = new Set(["reply", "verdict", "source_map_node", "destination_map_node", "map_edge", "source_identity", "destination_identity", "traffic_direction", "uuid", "trace_id", "ip_trace_id", "ip_version"]);

/** AND of two filters as one filter, or null when they cannot both match or one filter cannot say both. */
function mergeAnd(x: FlowFilter, y: FlowFilter): FlowFilter | null {
  const out: Record<string, unknown> = { ...x };
  for (const [k, v] of Object.entries(y)) {
    if (out[k] === undefined) out[k] = v;
    else if (canonicalJson(out[k]) !== canonicalJson(v)) {
      if (k === "experimental") {
        // (x1 || x2) && (y1 || y2): one CEL expression says both
        const a = (out[k] as FlowFilter["experimental"])?.cel_expression ?? [];
        const b = (v as FlowFilter["experimental"])?.cel_expression ?? [];
        if (Object.keys(out[k] as object).some((f) => f !== "cel_expression") || Object.keys(v as object).some((f) => f !== "cel_expression")) return null;
        // a newline before each closing parenthesis: an expression may end in a // comment
        const any = (xs: string[]) => xs.map((x) => `(${x}\n)`).join(" || ");
        out[k] = { cel_expression: a.length && b.length ? [`(${any(a)}) && (${any(b)})`] : [...a, ...b] };
      } else if (EXACT_VALUES.has(k) && Array.isArray(v) && Array.isArray(out[k])) {
        const mine = (out[k] as unknown[]).map(canonicalJson);
        const both = (v as unknown[]).filter((a) => mine.includes(canonicalJson(a)));
        if (!both.length) return null;
        out[k] = both;
      } else if (k === "source_pod" || k === "destination_pod") {
        const both = intersectPods(out[k] as string[], v as string[]);
        if (!both.length) return null;
        out[k] = both;
      } else return null;
    }
  }
  return out as FlowFilter;
}

/** Pod filters that satisfy both lists (a namespace-only value narrows a namespace-less pod prefix). */
function intersectPods(a: string[], b: string[]): string[] {
  const out: string[] = [];
  for (const p of a) for (const q of b) {
    // "" = any namespace ("/name"); a bare name is in "default"
    const [pn, pp] = p.includes("/") ? p.split("/") : ["default", p];
    const [qn, qp] = q.includes("/") ? q.split("/") : ["default", q];
    if (pn && qn && pn !== qn) continue;
    const ns = pn || qn;
    let prefix: string;
    if (pp.startsWith(qp)) prefix = pp;
    else if (qp.startsWith(pp)) prefix = qp;
    else continue;
    out.push(`${ns}/${prefix}`);
  }
  return out;
}

// ---- inverse ----

const SIDED_PARAM: Record<string, [SidedKind, "source_" | "destination_"]> = {};
for (const k of SIDED_KINDS) {
  if (k === "namespace") continue;
  const f = k === "cluster" ? "cluster_name" : k;
  SIDED_PARAM[`source_${f}`] = [k, "source_"];
  SIDED_PARAM[`destination_${f}`] = [k, "destination_"];
}

function sidedValues(kind: SidedKind, v: unknown[]): string[] {
  if (kind === "workload") return (v as { kind?: string; name?: string }[]).map((w) => (w.kind ? `${w.kind}/${w.name}` : `${w.name}`));
  return v.map(String);
}

function attrValues(name: AttrName, v: unknown): string[] | null {
  if (name === "cel_expression") {
    const exp = v as { cel_expression?: string[] };
    return Object.keys(exp).every((k) => k === "cel_expression") && exp.cel_expression?.length ? exp.cel_expression : null;
  }
  if (!Array.isArray(v)) return null;
  switch (name) {
    case "type":
      return (v as { type: number; match_sub_type?: boolean; sub_type?: number }[]).map(formatEventType);
    case "reply":
    case "encrypted":
      return v.map(String);
    case "interface": {
      // the parameter takes a name; an index has no readable spelling (allow= JSON carries it)
      const ifaces = v as { index?: number; name?: string }[];
      return ifaces.every((x) => x.name && !x.index) ? ifaces.map((x) => x.name!) : null;
    }
    case "http_header":
      return (v as { key: string; value: string }[]).map((h) => `${h.key}:${h.value}`);
    case "tcp_flags":
      return (v as Record<string, boolean>[]).map((f) => Object.keys(f).filter((k) => f[k]).join(","));
    default:
      return v.map(String);
  }
}

/** Emits the params of one builder side; returns false when a field has no parameter spelling. */
function emitSide(params: URLSearchParams, prefix: string, filters: FlowFilter[]): boolean {
  if (filters.length === 0) return true;
  const [L, R] = filters.length === 2 ? filters : [filters[0], filters[0]];
  const single = filters.length === 1;
  const keys = new Set([...Object.keys(L), ...Object.keys(R)]);
  for (const key of keys) {
    const lv = (L as Record<string, unknown[]>)[key];
    const rv = (R as Record<string, unknown[]>)[key];
    const sided = SIDED_PARAM[key];
    if (!sided) {
      const attr = ATTR_NAMES.find((a) => ATTR_FIELD[a] === key);
      if (!attr || canonicalJson(lv) !== canonicalJson(rv) || !lv) return false;
      const vals = attrValues(attr, lv);
      if (!vals) return false;
      for (const v of vals) params.append(`${prefix}${attr}`, v);
      continue;
    }
    const [kind, side] = sided;
    const emit = (dir: "from_" | "to_" | "", vals: unknown[]) => {
      for (const v of sidedValues(kind, vals)) {
        if (kind === "pod" && v.endsWith("/") && v.indexOf("/") === v.length - 1) params.append(`${prefix}${dir}namespace`, v.slice(0, -1));
        else params.append(`${prefix}${dir}${kind}`, v);
      }
    };
    if (single) {
      emit(side === "source_" ? "from_" : "to_", lv);
      continue;
    }
    // pair: left.source = either ∪ from, left.destination = to, right.source = from, right.destination = either ∪ to
    if (side === "source_") {
      const other = (R as Record<string, unknown[]>)[key];
      if (other) emit("from_", other);
      else if (lv) emit("", lv);
    } else {
      const other = (L as Record<string, unknown[]>)[key];
      if (other) emit("to_", other);
    }
  }
  return true;
}

/**
 * The URL form of a query. Uses the readable parameters when they reproduce the query exactly and falls
 * back to allow=/deny= JSON filters otherwise, so fromSearchParams(toSearchParams(q)) always equals q.
 */
export function toSearchParams(query: FlowQuery): URLSearchParams {
  const params = new URLSearchParams();
  const tryReadable = (prefix: string, filters: FlowFilter[], raw: string) => {
    if (filters.length === 0) return;
    const p = new URLSearchParams();
    const ok = filters.length <= 2 && emitSide(p, prefix, filters);
    if (ok) {
      const back = fromSearchParams(p);
      const got = prefix ? back.blacklist : back.whitelist;
      if (canonicalJson(got) === canonicalJson(filters)) {
        for (const [k, v] of p) params.append(k, v);
        return;
      }
    }
    for (const f of filters) params.append(raw, JSON.stringify(f));
  };
  tryReadable("", query.whitelist, "allow");
  tryReadable("not.", query.blacklist, "deny");
  if (query.since) params.set("since", query.since);
  if (query.until) params.set("until", query.until);
  if (query.limit !== undefined) params.set("limit", String(query.limit));
  if (query.first) params.set("first", "true");
  if (query.cursor) params.set("cursor", query.cursor);
  if (query.node !== undefined) params.set("node", query.node);
  return params;
}
