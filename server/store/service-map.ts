// Aggregates stored flows into the service map: one node per workload (or outside peer), one edge per
// (source, destination) with counts by verdict, ports, L7 protocols and deciding policies. Grouping is
// done by SQLite over indexed columns; only filters SQL cannot express fall back to reading records.
// It runs on the aggregate thread (aggregate-worker.ts): a window of records read one by one takes
// seconds, which would otherwise stop the datapath, the stream and every other request.
import type Database from "better-sqlite3";
import type { ServiceMap, ServiceMapEdge, ServiceMapNode } from "../../lib/api-types";
import type { FlowQuery } from "../../lib/filter/types";
import { isoMs } from "../../lib/filter/time";
import { queryToSql } from "./filter-sql";
import { registerFilterFunctions } from "./sql-functions";
import { flowColumns } from "./row";
import { joinList, mapNodeOf, MAX_LABELS_TEXT, splitList } from "../../lib/flow/map-node";
import type { FlowReader } from "./flow-reader";

interface GroupRow {
  src_namespace: string | null;
  src_workload: string | null;
  src_identity: number | null;
  src_labels: string | null;
  src_names: string | null;
  dst_namespace: string | null;
  dst_workload: string | null;
  dst_identity: number | null;
  dst_labels: string | null;
  dst_names: string | null;
  verdict: string;
  protocol: string | null;
  dst_port: number | null;
  l7_protocol: string | null;
  l7_http: string | null;
  policies: string | null;
  /** 1 when the group's flows show traffic that reached the destination (see DELIVERED_SQL), else 0 */
  delivered: number;
  n: number;
}

// A path is blocked when nothing of it reached the destination: the source's own egress verdict
// (ALLOWED) lets packets out, but toward a pod or node the far side still decides, and a packet leaving
// the source's node (to-stack, to-overlay) toward one has not arrived either. Any other forwarded flow is delivery.
// (COALESCE: a NULL would make the whole test NULL, which is not 0 or 1)
// A packet handed to the L7 proxy (to-proxy) has not arrived either: the proxy still decides.
const DELIVERED_SQL = `(verdict IN ('FORWARDED','REDIRECTED') AND NOT (event_type = 4 AND COALESCE(event_sub_type, 0) = 1) AND NOT (dst_namespace IS NOT NULL AND ((event_type = 5 AND COALESCE(traffic_direction, '') = 'EGRESS') OR (event_type = 4 AND COALESCE(event_sub_type, 0) IN (3, 4)))))`;
function deliveredOf(r: { verdict: string; event_type: number; event_sub_type: number | null; traffic_direction: string | null; dst_namespace: string | null }): number {
  if (r.verdict !== "FORWARDED" && r.verdict !== "REDIRECTED") return 0;
  if (r.event_type === 4 && r.event_sub_type === 1) return 0;
  if (r.dst_namespace === null) return 1;
  return (r.event_type === 5 && r.traffic_direction === "EGRESS") || (r.event_type === 4 && (r.event_sub_type === 3 || r.event_sub_type === 4)) ? 0 : 1;
}

export function buildServiceMap(db: Database.Database, reader: FlowReader, query: FlowQuery, sinceMs: number, untilMs: number): ServiceMap {
  registerFilterFunctions(db);
  // ISO text: a bare number is read back as epoch ms only from 11 digits on (before 2001 it is not)
  const windowed: FlowQuery = { ...query, since: isoMs(sinceMs), until: isoMs(untilMs) };
  const { where, params, residual } = queryToSql(windowed);
  let rows: GroupRow[];
  if (!residual) {
    rows = db
      .prepare(
        // endpoints' labels live in their fragments (server/store/fragments.ts): one lookup per group
        `SELECT g.*, (SELECT labels FROM fragments WHERE id = g.src_ep) AS src_labels, (SELECT labels FROM fragments WHERE id = g.dst_ep) AS dst_labels
         FROM (SELECT src_namespace, src_workload, src_identity, MAX(src_ep) AS src_ep, src_names,
                dst_namespace, dst_workload, dst_identity, MAX(dst_ep) AS dst_ep, dst_names,
                verdict, protocol, dst_port, l7_protocol,
                CASE WHEN l7_protocol IN ('http','grpc') AND l7_type = 'REQUEST' THEN http_method || ' ' || http_url END AS l7_http,
                policies, ${DELIVERED_SQL} AS delivered, COUNT(*) AS n
         FROM flows WHERE (${where || "1"}) AND (is_reply IS NULL OR is_reply = 0)
         GROUP BY src_namespace, src_workload, src_identity, src_names, dst_namespace, dst_workload, dst_identity, dst_names,
                  verdict, protocol, dst_port, l7_protocol, l7_http, policies, delivered) g`,
      )
      .all(...params) as GroupRow[];
  } else {
    // Residual filters need the records; group in memory from the same row projection.
    const acc = new Map<string, GroupRow>();
    for (const s of reader.iterate(windowed)) {
      const r = { ...flowColumns(s), src_labels: joinList(s.flow.source?.labels, MAX_LABELS_TEXT), dst_labels: joinList(s.flow.destination?.labels, MAX_LABELS_TEXT) };
      if (r.is_reply === 1) continue;
      const l7_http = (r.l7_protocol === "http" || r.l7_protocol === "grpc") && r.l7_type === "REQUEST" ? `${r.http_method} ${r.http_url}` : null;
      const delivered = deliveredOf(r);
      const key = [r.src_namespace, r.src_workload, r.src_identity, r.src_names, r.dst_namespace, r.dst_workload, r.dst_identity, r.dst_names, r.verdict, r.protocol, r.dst_port, r.l7_protocol, l7_http, r.policies, delivered].join("\u0000");
      const g = acc.get(key);
      if (g) g.n++;
      else acc.set(key, { ...r, l7_http, delivered, n: 1 } as GroupRow);
    }
    rows = [...acc.values()];
  }

  const nodes = new Map<string, ServiceMapNode & { portSet: Set<string>; l7Set: Set<string>; l7DeniedSet: Set<string> }>();
  const edges = new Map<string, ServiceMapEdge & { portSet: Set<string>; l7Set: Set<string>; polSet: Set<string> }>();
  const node = (n: Omit<ServiceMapNode, "ports" | "l7" | "flows">) => {
    let x = nodes.get(n.id);
    if (!x) {
      x = { ...n, ports: [], l7: [], flows: 0, portSet: new Set(), l7Set: new Set(), l7DeniedSet: new Set() };
      nodes.set(n.id, x);
    }
    return x;
  };
  const seconds = Math.max(1, (untilMs - sinceMs) / 1000);
  for (const r of rows) {
    const src = node(mapNodeOf(r.src_namespace, r.src_workload, r.src_identity, r.src_labels, r.src_names));
    const dst = node(mapNodeOf(r.dst_namespace, r.dst_workload, r.dst_identity, r.dst_labels, r.dst_names));
    src.flows += r.n;
    dst.flows += r.n;
    const port = r.protocol && r.dst_port !== null ? `${r.dst_port}/${r.protocol}` : r.protocol ?? undefined;
    if (port) dst.portSet.add(port);
    if (r.l7_http) {
      const l7 = r.l7_http.length > 200 ? r.l7_http.slice(0, 200) + "…" : r.l7_http;
      dst.l7Set.add(l7);
      // a request record an L7 rule refused is DROPPED (the proxy answered 403 in its place)
      if (r.verdict === "DROPPED") dst.l7DeniedSet.add(l7);
    }
    const id = `${src.id}->${dst.id}`;
    let e = edges.get(id);
    if (!e) {
      e = { id, source: src.id, target: dst.id, verdicts: {}, ports: [], l7: [], policies: [], flows: 0, delivered: 0, rate: 0, portSet: new Set(), l7Set: new Set(), polSet: new Set() };
      edges.set(id, e);
    }
    if (r.delivered) e.delivered! += r.n;
    const v = r.verdict as keyof ServiceMapEdge["verdicts"];
    e.verdicts[v] = (e.verdicts[v] ?? 0) + r.n;
    e.flows += r.n;
    if (port) e.portSet.add(port);
    if (r.l7_protocol) e.l7Set.add(r.l7_protocol);
    for (const p of splitList(r.policies)) e.polSet.add(p);
  }
  return {
    since: new Date(sinceMs).toISOString(),
    until: new Date(untilMs).toISOString(),
    nodes: [...nodes.values()].map(({ portSet, l7Set, l7DeniedSet, ...n }) => {
      const l7 = [...l7Set].sort().slice(0, 50);
      const denied = l7.filter((x) => l7DeniedSet.has(x));
      return { ...n, ports: [...portSet].sort(), l7, ...(denied.length ? { l7_denied: denied } : {}) };
    }),
    edges: [...edges.values()].map(({ portSet, l7Set, polSet, ...e }) => ({
      ...e,
      ports: [...portSet].sort(),
      l7: [...l7Set].sort(),
      policies: [...polSet].sort(),
      rate: Math.round((e.flows / seconds) * 100) / 100,
    })),
  };
}
