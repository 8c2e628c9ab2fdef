// FlowQuery → SQLite WHERE over the `flows` table (prisma/schema.prisma). Each filter field is
// translated exactly when the columns hold enough to decide it; otherwise it is left out of SQL (or
// over-approximated) and the whole query is re-checked in JS by `residual`. Label selectors, CIDRs,
// name patterns and regexes go through SQL functions that run lib/filter's own predicates, which the
// connection must have (registerFilterFunctions). So: rows the WHERE rejects
// never match; rows it accepts match only if `residual` (when present) also says so. Values are always
// bound parameters.
//
// Blacklist filters are only pushed into SQL when their translation is exact (excluding a superset would
// lose rows); the others are left to the residual.
import type { Flow } from "../../lib/flow/types";
import { compileQuery, parseHttpStatus, parseNamespacedName, parsePort } from "../../lib/filter/match";
import { parsePolicyPattern } from "../../lib/filter/policy";
import { parseTimeArg } from "../../lib/filter/time";
import type { FlowFilter, FlowQuery } from "../../lib/filter/types";
import { splitEdgeId, workloadNodeParts } from "../../lib/flow/map-node";
import { ENDPOINT_MATCH_FN, MAP_NODE_FN, VALUE_MATCH_FN, endpointPredicate, type EndpointMatchSpec, type ValueMatchSpec } from "./sql-functions";

export interface SqlFilter {
  /** when set, the whitelist's filters one by one (each with the time window and blacklist): the union of
   * their rows is exactly the rows of `where` */
  branches?: { where: string; params: unknown[] }[];
  /** a boolean SQL expression ("1" when nothing constrains) */
  where: string;
  params: unknown[];
  /** present when SQL alone is not exact: apply it to each row's parsed flow */
  residual?: (flow: Flow) => boolean;
}

interface Part {
  sql: string;
  params: unknown[];
  exact: boolean;
}

const TRUE: Part = { sql: "1", params: [], exact: true };

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => "\\" + c);
}

function inList(col: string, values: unknown[]): Part {
  if (values.length === 1) return { sql: `${col} = ?`, params: values, exact: true };
  return { sql: `${col} IN (${values.map(() => "?").join(", ")})`, params: values, exact: true };
}

function or(parts: Part[]): Part {
  if (parts.length === 1) return parts[0];
  if (parts.some((p) => p.sql === "1")) return { ...TRUE, exact: parts.every((p) => p.exact) };
  return { sql: `(${parts.map((p) => p.sql).join(" OR ")})`, params: parts.flatMap((p) => p.params), exact: parts.every((p) => p.exact) };
}

function and(parts: Part[]): Part {
  const real = parts.filter((p) => p.sql !== "1");
  const exact = parts.every((p) => p.exact);
  if (real.length === 0) return { ...TRUE, exact };
  if (real.length === 1) return { ...real[0], exact };
  return { sql: `(${real.map((p) => p.sql).join(" AND ")})`, params: real.flatMap((p) => p.params), exact };
}

/** Range on an indexed text column for "starts with", or LIKE when the prefix cannot be incremented. */
function prefixCond(col: string, prefix: string): Part {
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last < 0xd7ff) {
    const upper = prefix.slice(0, -1) + String.fromCharCode(last + 1);
    return { sql: `(${col} >= ? AND ${col} < ?)`, params: [prefix, upper], exact: true };
  }
  return { sql: `${col} LIKE ? ESCAPE '\\'`, params: [likeEscape(prefix) + "%"], exact: true };
}

/** `indexed: false` keeps SQLite off the namespace index (see filterToSql) */
function podPart(values: string[], side: "src" | "dst", field: string, indexed = true): Part {
  return or(
    values.map((v) => {
      const { ns, prefix } = parseNamespacedName(v, field);
      const parts: Part[] = [];
      if (ns !== undefined) parts.push({ sql: `${indexed ? "" : "+"}${side}_namespace = ?`, params: [ns], exact: true });
      if (prefix) parts.push(prefixCond(`${side}_pod`, prefix));
      return and(parts);
    }),
  );
}

/**
 * One side's filters on its endpoint (labels, workloads, cluster), exactly: the endpoint fragments that
 * match are picked by the SQL function (sql-functions.ts), rows by their fragment id. A record without
 * that endpoint has no fragment id; it matches if the filter matches an absent endpoint.
 */
function endpointPart(ff: FlowFilter, side: "source" | "destination", col: "src_ep" | "dst_ep"): Part | undefined {
  const filter: FlowFilter = {};
  let any = false;
  for (const k of ["label", "workload", "cluster_name"] as const) {
    const key = `${side}_${k}` as "source_label";
    const v = ff[key];
    if (Array.isArray(v) && v.length) {
      (filter as Record<string, unknown>)[key] = v;
      any = true;
    }
  }
  if (!any) return undefined;
  const spec = JSON.stringify({ side, filter } satisfies EndpointMatchSpec);
  const absent = endpointPredicate(spec)(undefined);
  const picked = `${col} IN (SELECT id FROM fragments WHERE kind = 'endpoint' AND ${ENDPOINT_MATCH_FN}(?, id, json))`;
  return { sql: absent ? `(${picked} OR ${col} IS NULL)` : picked, params: [spec], exact: true };
}

/** A column checked by a lib/filter predicate through the SQL function; a NULL matches nothing. */
function valuePart(col: string, spec: ValueMatchSpec): Part {
  return { sql: `(${col} IS NOT NULL AND ${VALUE_MATCH_FN}(?, ${col}))`, params: [JSON.stringify(spec)], exact: true };
}

/**
 * Rows whose side is drawn as one of these service map nodes, exactly. A workload node's id is decided
 * on the namespace and workload columns, any other id by the map's own function over the side's
 * columns, as the map itself groups them. No index serves a workload (the namespace index would have
 * SQLite collect and sort every row of a busy namespace in the window, `+` keeps it off): rows are read
 * in id order one window at a time, like the other filters decided by a function (FlowReader.page).
 */
function mapNodePart(ids: string[], side: "src" | "dst"): Part {
  return or(
    ids.map((id) => {
      const wl = workloadNodeParts(id);
      if (wl) return { sql: `(+${side}_namespace = ? AND ${side}_workload = ?)`, params: [wl.namespace, wl.workload], exact: true };
      const fn = `${MAP_NODE_FN}(${side}_namespace, ${side}_workload, ${side}_identity, (SELECT labels FROM fragments WHERE id = ${side}_ep), ${side}_names) = ?`;
      // an id without "/" is never a workload node's: rows with both a namespace and a workload are not it
      return { sql: id.includes("/") ? `(${fn})` : `((${side}_namespace IS NULL OR ${side}_workload IS NULL) AND ${fn})`, params: [id], exact: true };
    }),
  );
}

/** The flows of map edges: what the map counts for each (not replies), and the replies back. */
function mapEdgePart(edges: string[]): Part {
  return or(
    edges.map((edge) => {
      const { source, target } = splitEdgeId(edge)!;
      // the map's own test for "not a reply" (service-map.ts)
      const forward = and([mapNodePart([source], "src"), mapNodePart([target], "dst"), { sql: "(is_reply IS NULL OR is_reply = 0)", params: [], exact: true }]);
      const back = and([mapNodePart([target], "src"), mapNodePart([source], "dst"), { sql: "is_reply = 1", params: [], exact: true }]);
      return or([forward, back]);
    }),
  );
}

function filterToSql(ff: FlowFilter): Part {
  return and(filterTerms(ff));
}

/** One filter's terms, each a condition on the row; the filter is their AND. */
function filterTerms(ff: FlowFilter): Part[] {
  const parts: Part[] = [];
  const has = <K extends keyof FlowFilter>(k: K): NonNullable<FlowFilter[K]> | undefined => {
    const v = ff[k];
    return Array.isArray(v) && v.length ? (v as NonNullable<FlowFilter[K]>) : undefined;
  };
  let v;
  if ((v = has("uuid"))) parts.push(inList("uuid", v));
  // With a map selection, a namespace index would have SQLite collect and sort every row of the
  // namespace in the window (either-side namespaces are an OR of two indexes): the selection is
  // narrower, and is read in id order (mapNodePart), or through a narrower index such as the verdict's.
  const selection = !!(has("source_map_node") || has("destination_map_node") || has("map_edge"));
  for (const [p, side] of [["source_", "src"], ["destination_", "dst"]] as const) {
    const pods = has(`${p}pod` as "source_pod");
    if (pods) parts.push(podPart(pods, side, `${p}pod`, !selection));
    const onEndpoint = endpointPart(ff, p === "source_" ? "source" : "destination", `${side}_ep`);
    if (onEndpoint) parts.push(onEndpoint);
    const ids = has(`${p}identity` as "source_identity");
    if (ids) parts.push(inList(`${side}_identity`, ids.map(Number)));
    const ports = has(`${p}port` as "source_port");
    if (ports) parts.push(inList(`${side}_port`, ports.map((x) => parsePort(x, `${p}port`))));
    // Addresses compare as addresses (an IPv6 address has many spellings) and CIDRs as ranges; names
    // as FQDN patterns. The columns hold the record's values whole (row.ts), so this is exact.
    const ips = has(`${p}ip` as "source_ip");
    if (ips) parts.push(valuePart(`${side}_ip`, { kind: "ip", field: `${p}ip`, values: ips }));
    const fqdns = has(`${p}fqdn` as "source_fqdn");
    if (fqdns) parts.push(valuePart(`${side}_names`, { kind: "fqdn", field: `${p}fqdn`, values: fqdns }));
    if (has(`${p}service` as keyof FlowFilter)) parts.push({ ...TRUE, exact: false });
    const mapNodes = has(`${p}map_node` as "source_map_node");
    if (mapNodes) parts.push(mapNodePart(mapNodes, side));
  }
  if ((v = has("verdict"))) parts.push(inList("verdict", v));
  if ((v = has("drop_reason_desc"))) parts.push(inList("drop_reason_desc", v));
  if ((v = has("traffic_direction"))) parts.push(inList("traffic_direction", v));
  if ((v = has("event_type"))) {
    parts.push(
      or(
        v.map((e) =>
          e.match_sub_type
            ? { sql: "(event_type = ? AND IFNULL(event_sub_type, 0) = ?)", params: [e.type, e.sub_type ?? 0], exact: true }
            : { sql: "event_type = ?", params: [e.type], exact: true },
        ),
      ),
    );
  }
  if ((v = has("protocol"))) {
    const l4: string[] = [];
    const l7: string[] = [];
    for (const p of v.map((x) => x.toLowerCase())) {
      if (p === "tcp") l4.push("TCP");
      else if (p === "udp") l4.push("UDP");
      else if (p === "sctp") l4.push("SCTP");
      else if (p === "icmpv4") l4.push("ICMPv4");
      else if (p === "icmpv6") l4.push("ICMPv6");
      else if (p === "icmp") l4.push("ICMPv4", "ICMPv6");
      else if (p === "http") l7.push("http", "grpc"); // the store marks gRPC-over-HTTP rows "grpc"
      else l7.push(p);
    }
    const ors: Part[] = [];
    if (l4.length) ors.push(inList("protocol", l4));
    if (l7.length) ors.push(inList("l7_protocol", l7));
    parts.push(or(ors));
  }
  if ((v = has("http_method"))) parts.push(inList("UPPER(http_method)", v.map((m) => m.toUpperCase())));
  if ((v = has("http_status_code"))) {
    parts.push(
      or(
        v.map((s) => {
          const m = parseHttpStatus(s, "http_status_code");
          if (m.exact !== undefined) return { sql: "http_status = ?", params: [m.exact], exact: true };
          const lo = Number(m.prefix!.padEnd(3, "0"));
          const hi = Number(m.prefix!.padEnd(3, "9"));
          return { sql: "(http_status BETWEEN ? AND ?)", params: [lo, hi], exact: true };
        }),
      ),
    );
  }
  if ((v = has("reply"))) {
    parts.push(
      or(
        v.map((r) =>
          r
            ? { sql: "is_reply = 1", params: [], exact: true }
            : { sql: "(is_reply = 0 OR (is_reply IS NULL AND verdict = 'DROPPED'))", params: [], exact: true },
        ),
      ),
    );
  }
  if ((v = has("map_edge"))) parts.push(mapEdgePart(v));
  if ((v = has("policy"))) {
    parts.push(
      or(
        v.map((p) => {
          const pat = parsePolicyPattern(p);
          const text =
            pat.kind !== undefined ? `\n${pat.kind}/${pat.namespace}/${pat.name}\n` : pat.namespace !== undefined ? `/${pat.namespace}/${pat.name}\n` : `/${pat.name}\n`;
          return { sql: "policies LIKE ? ESCAPE '\\'", params: [`%${likeEscape(text)}%`], exact: true };
        }),
      ),
    );
  }
  // regexes as lib/filter tests them, on columns that hold the record's text whole (row.ts)
  if ((v = has("dns_query"))) parts.push(valuePart("dns_query", { kind: "regex", field: "dns_query", values: v }));
  if ((v = has("http_path"))) parts.push(valuePart("http_url", { kind: "path", field: "http_path", values: v }));
  if ((v = has("http_url"))) parts.push(valuePart("http_url", { kind: "regex", field: "http_url", values: v }));
  if ((v = has("node_name"))) parts.push(valuePart("node_name", { kind: "node", field: "node_name", values: v }));
  for (const k of ["source_ip_xlated", "http_header", "tcp_flags", "ip_version", "trace_id", "ip_trace_id", "node_labels", "interface", "encrypted"] as const) {
    if (has(k)) parts.push({ ...TRUE, exact: false });
  }
  // CEL expressions are evaluated on each record
  if (ff.experimental?.cel_expression?.length) parts.push({ ...TRUE, exact: false });
  return parts;
}

const sameTerm = (a: Part, b: Part) => a.sql === b.sql && a.params.length === b.params.length && a.params.every((p, i) => p === b.params[i]);

/**
 * The whitelist's OR, with the terms every filter has taken out in front: (X ∧ A) ∨ (X ∧ B) is
 * X ∧ (A ∨ B). Crossing an either-side namespace with other filters repeats those in both filters,
 * and SQLite would otherwise walk the same index once per filter and sort what it found.
 */
function whitelistSql(filters: FlowFilter[]): Part {
  const lists = filters.map(filterTerms);
  const common = lists[0]!.filter((t) => t.sql !== "1" && lists.every((l) => l.some((u) => sameTerm(t, u))));
  if (!common.length) return or(lists.map(and));
  return and([...common, or(lists.map((l) => and(l.filter((t) => !common.some((c) => sameTerm(c, t))))))]);
}

/** Translates a query. Throws FilterError (from the shared validation) on bad filters. */
export function queryToSql(query: FlowQuery, opts: { now?: number } = {}): SqlFilter {
  const out = translate(query, opts);
  // Either-side filters (namespace, pod, label…) become an OR of a source and a destination filter.
  // SQLite answers "OR … ORDER BY id DESC LIMIT n" by collecting and sorting every match, so the
  // reader may instead run each whitelist filter as its own ordered, limited query and merge them.
  // Not when a branch is decided by a SQL function: no index serves it, so its statement reads rows until
  // it has a page, unbounded in time, where the single OR statement is read one window at a time
  // (FlowReader.page).
  const unindexed = [ENDPOINT_MATCH_FN, VALUE_MATCH_FN, MAP_NODE_FN].some((fn) => out.where.includes(fn)) || query.whitelist.some((w) => w.source_map_node?.length || w.destination_map_node?.length || w.map_edge?.length);
  if (!out.residual && query.whitelist.length > 1 && !unindexed) {
    const branches: { where: string; params: unknown[] }[] = [];
    for (const w of query.whitelist) {
      const b = translate({ ...query, whitelist: [w] }, opts);
      if (b.residual) return out;
      branches.push({ where: b.where, params: b.params });
    }
    out.branches = branches;
  }
  return out;
}

function translate(query: FlowQuery, opts: { now?: number }): SqlFilter {
  // validation first, so SQL translation only sees well-formed filters and errors name the field
  const full = compileQuery(query, opts);
  const where: string[] = [];
  const params: unknown[] = [];
  let exact = true;
  const now = opts.now ?? Date.now();
  if (query.since !== undefined && query.since !== "") {
    where.push("time_ms >= ?");
    params.push(parseTimeArg(query.since, "since", now));
  }
  if (query.until !== undefined && query.until !== "") {
    where.push("time_ms <= ?");
    params.push(parseTimeArg(query.until, "until", now));
  }
  if (query.node !== undefined) {
    // the column holds the flow's node name whole (row.ts), "" for none
    where.push("node_name = ?");
    params.push(query.node);
  }
  if (query.whitelist.length) {
    const w = whitelistSql(query.whitelist);
    if (w.sql !== "1") {
      where.push(w.sql);
      params.push(...w.params);
    }
    exact &&= w.exact;
  }
  for (const b of query.blacklist) {
    const p = filterToSql(b);
    if (p.exact) {
      where.push(p.sql === "1" ? "0" : `NOT IFNULL(${p.sql}, 0)`);
      params.push(...p.params);
    } else exact = false;
  }
  return { where: where.length ? where.join(" AND ") : "1", params, residual: exact ? undefined : full };
}
