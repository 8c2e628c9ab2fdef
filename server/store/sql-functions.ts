// The filter predicates SQL calls, so that filters no SQL operator expresses (label selectors, CIDRs,
// FQDN and node name patterns, regexes) are still decided inside the query, exactly, instead of by reading every record back.
// Each function runs the very predicate the JS filter uses (lib/filter), so the two cannot disagree.
//
// Endpoint filters (labels, workloads, cluster) are decided once per stored endpoint rather than once
// per record: every endpoint a record carries is an endpoint fragment (row.ts makes sure of it), and
// there are thousands of those where there are millions of records. SQL picks the matching fragment
// ids in one pass, then rows by `src_ep IN (…)`.
import type Database from "better-sqlite3";
import type { Endpoint } from "../../lib/flow/types";
import { compileEndpointFilter, requestPath } from "../../lib/filter/match";
import { compileSafeRegExp } from "../../lib/filter/regex";
import { compileIPFilter } from "../../lib/filter/ip";
import { compileFqdnPatterns, compileNodeNamePatterns } from "../../lib/filter/patterns";
import type { FlowFilter } from "../../lib/filter/types";
import { mapNodeOf } from "../../lib/flow/map-node";

export const ENDPOINT_MATCH_FN = "flowscope_endpoint_match";
export const VALUE_MATCH_FN = "flowscope_value_match";
/** `flowscope_map_node(namespace, workload, identity, labels, names)`: the service map node id of one side */
export const MAP_NODE_FN = "flowscope_map_node";

/** One side's endpoint filter, as the SQL function receives it (a bound parameter, as JSON). */
export interface EndpointMatchSpec {
  side: "source" | "destination";
  filter: FlowFilter;
}

/**
 * A filter on one column, as the SQL function receives it: `ip` over an address column (any of the
 * values, each an address or CIDR), `fqdn` over a names column ("\n"-joined, see joinList), `regex`
 * over a text column (DNS query, URL), `path` over a URL column (the regexes tested on its path),
 * `node` over the node name column (Hubble's node name patterns).
 */
export interface ValueMatchSpec {
  kind: "ip" | "fqdn" | "regex" | "path" | "node";
  field: string;
  values: string[];
}

type EndpointPredicate = (ep: Endpoint | undefined) => boolean;
type ValuePredicate = (value: string) => boolean;

/** Compiled filters by spec text: a page, its refreshes and the map ask the same thing over and over. */
const endpointPredicates = new Map<string, EndpointPredicate>();
const valuePredicates = new Map<string, ValuePredicate>();

function cached<P>(cache: Map<string, P>, spec: string, compile: () => P): P {
  let p = cache.get(spec);
  if (p === undefined) {
    p = compile();
    if (cache.size >= 256) cache.clear();
    cache.set(spec, p);
  }
  return p;
}

export function endpointPredicate(spec: string): EndpointPredicate {
  return cached(endpointPredicates, spec, () => {
    const { side, filter } = JSON.parse(spec) as EndpointMatchSpec;
    return compileEndpointFilter(filter, side) ?? (() => true);
  });
}

export function valuePredicate(spec: string): ValuePredicate {
  return cached(valuePredicates, spec, () => remembered(compileValuePredicate(spec)));
}

/**
 * The predicate with its answers kept per value: a column repeats a few hundred addresses, names or
 * URLs over millions of rows, and a scan then costs a map lookup a row instead of a parse or a regex.
 */
function remembered(p: ValuePredicate): ValuePredicate {
  const seen = new Map<string, boolean>();
  return (value) => {
    let r = seen.get(value);
    if (r === undefined) {
      r = p(value);
      if (seen.size >= 8192) seen.clear();
      // long values rarely repeat, and would make the map heavy
      if (value.length <= 512) seen.set(value, r);
    }
    return r;
  };
}

function compileValuePredicate(spec: string): ValuePredicate {
  const { kind, field, values } = JSON.parse(spec) as ValueMatchSpec;
  if (kind === "ip") {
    const ms = values.map((v) => compileIPFilter(v, field));
    return (ip) => ms.some((m) => m.test(ip));
  }
  if (kind === "regex") {
    const res = values.map((v) => compileSafeRegExp(v, field));
    return (text) => res.some((r) => r.test(text));
  }
  if (kind === "path") {
    const res = values.map((v) => compileSafeRegExp(v, field));
    return (url) => {
      const path = requestPath(url);
      return path !== undefined && res.some((r) => r.test(path));
    };
  }
  if (kind === "node") {
    const m = compileNodeNamePatterns(values, field);
    return (name) => m(name);
  }
  const m = compileFqdnPatterns(values, field);
  // the column is the list between a leading and a trailing "\n"; an empty name stays an empty name
  return (names) => m(names.slice(1, -1).split("\n"));
}

const registered = new WeakSet<Database.Database>();
const MAX_PARSED_ENDPOINTS = 20_000;

/**
 * Adds the functions to a connection (once):
 * - `flowscope_endpoint_match(spec, id, json)` over endpoint fragments. Parsed endpoints are cached by
 *   fragment id, since an id always names the same endpoint (ids are never given to another one);
 * - `flowscope_value_match(spec, value)` over a column value (callers skip NULLs: no value matches);
 * - `flowscope_map_node(ns, workload, identity, labels, names)`, the node the service map draws a side as.
 */
export function registerFilterFunctions(db: Database.Database): void {
  if (registered.has(db)) return;
  registered.add(db);
  // only what endpoint filters read, for a bounded number of endpoints: a history with heavy pod churn
  // can hold more endpoint fragments than are worth keeping parsed (past that, they are parsed per query)
  const endpoints = new Map<number, Endpoint | null>();
  db.function(ENDPOINT_MATCH_FN, { deterministic: true }, (spec: unknown, id: unknown, json: unknown) => {
    let ep = endpoints.get(id as number);
    if (ep === undefined) {
      try {
        const full = JSON.parse(json as string) as Endpoint;
        ep = { labels: full.labels, workloads: full.workloads, cluster_name: full.cluster_name };
      } catch {
        // written by the store from its own JSON; an unreadable one matches nothing rather than failing the query
        ep = null;
      }
      if (endpoints.size >= MAX_PARSED_ENDPOINTS) endpoints.clear();
      endpoints.set(id as number, ep);
    }
    if (ep === null) return 0;
    return endpointPredicate(spec as string)(ep) ? 1 : 0;
  });
  db.function(VALUE_MATCH_FN, { deterministic: true }, (spec: unknown, value: unknown) =>
    typeof value === "string" && valuePredicate(spec as string)(value) ? 1 : 0,
  );
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  db.function(MAP_NODE_FN, { deterministic: true }, (ns: unknown, workload: unknown, identity: unknown, labels: unknown, names: unknown) =>
    mapNodeOf(text(ns), text(workload), typeof identity === "number" ? identity : typeof identity === "bigint" ? Number(identity) : null, text(labels), text(names)).id,
  );
}
