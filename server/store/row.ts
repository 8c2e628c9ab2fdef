// Turns a flow envelope into the `flows` table's columns. Everything that came from traffic (paths,
// DNS names, labels, headers) is untrusted: each column is length-bounded, and the stored record is
// bounded by trimming the L7 parts that can grow without limit before the whole record is cut.
import type { Endpoint, Flow, FlowEnvelope } from "../../lib/flow/types";
import { decidingPolicies } from "../../lib/filter/policy";
import { toHubbleJson } from "../../lib/flow/json";
import { joinList, MAX_FRAGMENT_LENGTH, type FragmentRegistry } from "./fragments";
import { MAX_NAME_COLUMN, mapWorkloadOf } from "../../lib/flow/map-node";

export const MAX_TEXT = 1024;
export const MAX_JSON = 64 * 1024;
/** extensions larger than this are dropped from a record that must be trimmed */
const MAX_EXTENSIONS_JSON = 16 * 1024;

/** What filters and the service map read, derived from a record. */
export interface FlowColumns {
  uuid: string;
  time_ms: number;
  node_name: string;
  verdict: string;
  drop_reason_desc: string | null;
  event_type: number;
  event_sub_type: number | null;
  flow_type: string;
  traffic_direction: string | null;
  is_reply: number | null;
  policy_match_type: number | null;
  src_namespace: string | null;
  src_pod: string | null;
  src_workload: string | null;
  src_identity: number | null;
  src_ip: string | null;
  src_port: number | null;
  src_names: string | null;
  dst_namespace: string | null;
  dst_pod: string | null;
  dst_workload: string | null;
  dst_identity: number | null;
  dst_ip: string | null;
  dst_port: number | null;
  dst_names: string | null;
  dst_service: string | null;
  protocol: string | null;
  l7_protocol: string | null;
  l7_type: string | null;
  http_method: string | null;
  http_status: number | null;
  http_url: string | null;
  dns_query: string | null;
  policies: string | null;
}

/** A stored row: the columns, the endpoints' fragment ids (their labels live there) and the body. */
export interface FlowRow extends FlowColumns {
  id: number;
  src_ep: number | null;
  dst_ep: number | null;
  /** the record as `hubble observe -o json` prints it, with shared parts as fragment references */
  body: string;
}

export const ROW_COLUMNS: readonly (keyof FlowRow)[] = [
  "id", "uuid", "time_ms", "node_name", "verdict", "drop_reason_desc", "event_type", "event_sub_type",
  "flow_type", "traffic_direction", "is_reply", "policy_match_type",
  "src_namespace", "src_pod", "src_workload", "src_identity", "src_ip", "src_port", "src_ep", "src_names",
  "dst_namespace", "dst_pod", "dst_workload", "dst_identity", "dst_ip", "dst_port", "dst_ep", "dst_names",
  "dst_service", "protocol", "l7_protocol", "l7_type", "http_method", "http_status", "http_url", "dns_query",
  "policies", "body",
];

/** OR IGNORE: a re-imported flow (same uuid) must not abort its whole batch. Positional parameters bind
 * faster than named ones for this many columns. */
export const INSERT_ROW_SQL = `INSERT OR IGNORE INTO flows (${ROW_COLUMNS.join(", ")}) VALUES (${ROW_COLUMNS.map(() => "?").join(", ")})`;

function bound(s: string | undefined | null, max = MAX_TEXT): string | null {
  if (s === undefined || s === null || s === "") return null;
  return s.length > max ? s.slice(0, max) : s;
}

function l4Of(flow: Flow): { protocol: string | null; sport: number | null; dport: number | null } {
  const l4 = flow.l4;
  if (!l4) return { protocol: null, sport: null, dport: null };
  for (const key of ["TCP", "UDP", "SCTP"] as const) {
    const p = l4[key];
    if (p) return { protocol: key, sport: p.source_port ?? 0, dport: p.destination_port ?? 0 };
  }
  if (l4.ICMPv4) return { protocol: "ICMPv4", sport: null, dport: null };
  if (l4.ICMPv6) return { protocol: "ICMPv6", sport: null, dport: null };
  return { protocol: Object.keys(l4)[0] ?? null, sport: null, dport: null };
}

/** The envelope, or a copy trimmed of the parts traffic controls when its JSON is too large to keep. */
export function boundedEnvelope(env: FlowEnvelope, json: string, force = false): FlowEnvelope {
  if (json.length <= MAX_JSON && !force) return env;
  // Trim the parts traffic controls (headers, URLs, DNS answers, labels) before giving up on the record.
  const copy = structuredClone(env) as FlowEnvelope;
  const l7 = copy.flow.l7;
  if (l7?.http) {
    l7.http.headers = l7.http.headers?.slice(0, 32).map((h) => ({ key: h.key.slice(0, 256), value: h.value.slice(0, 1024) }));
    if (l7.http.url) l7.http.url = l7.http.url.slice(0, 4096);
  }
  if (l7?.dns) {
    l7.dns.ips = l7.dns.ips?.slice(0, 64);
    l7.dns.cnames = l7.dns.cnames?.slice(0, 16);
  }
  for (const ep of [copy.flow.source, copy.flow.destination]) if (ep?.labels) ep.labels = ep.labels.slice(0, 64).map((l) => l.slice(0, 200));
  // an imported record's extensions (a google.protobuf.Any) can be anything: kept only while small
  if (copy.flow.extensions !== undefined && JSON.stringify(copy.flow.extensions).length > MAX_EXTENSIONS_JSON) delete copy.flow.extensions;
  copy.flow.source_names = copy.flow.source_names?.slice(0, 16);
  copy.flow.destination_names = copy.flow.destination_names?.slice(0, 16);
  const trimmed = toHubbleJson(copy);
  if (trimmed.length <= MAX_JSON) {
    // what was cut must show in the record itself: an export of it is evidence
    if (trimmed.length !== json.length) copy.flow.Summary = `${copy.flow.Summary ?? ""} [flowscope: record trimmed to fit, ${json.length} bytes]`.trimStart();
    return copy;
  }
  json = trimmed;
  // Still too big: keep the record and say so, rather than lose the flow. Whatever field carried the
  // bulk (an imported node name, IP or pod name of megabytes), every string and list is cut to size;
  // the L7 part goes too only if that is still not enough.
  copy.flow = boundAll(copy.flow) as Flow;
  if (typeof copy.node_name === "string") copy.node_name = copy.node_name.slice(0, 256);
  const note = ` [flowscope: record truncated, ${json.length} bytes]`;
  copy.flow.Summary = `${(copy.flow.Summary ?? "").slice(0, MAX_TEXT - note.length)}${note}`;
  if (toHubbleJson(copy).length > MAX_JSON) delete copy.flow.l7;
  if (toHubbleJson(copy).length > MAX_JSON) delete copy.flow.extensions;
  return copy;
}

/**
 * The endpoint cut until its JSON is well under a fragment's limit: strings and lists bounded, then
 * labels and workloads dropped from the end, and at last only its identifying fields kept.
 */
export function fitEndpoint(ep: Endpoint): Endpoint {
  const limit = MAX_FRAGMENT_LENGTH - 1024;
  const out = boundAll(ep) as Endpoint;
  while (JSON.stringify(out).length > limit) {
    if (out.labels?.length) out.labels.pop();
    else if (out.workloads?.length) out.workloads.pop();
    else {
      const cut = (s: string | undefined) => (s === undefined ? undefined : s.slice(0, 253));
      return { ID: out.ID, identity: out.identity, cluster_name: cut(out.cluster_name), namespace: cut(out.namespace), pod_name: cut(out.pod_name) };
    }
  }
  return out;
}

/** `v` with every string cut to MAX_TEXT characters and every list to 64 items, at any depth */
function boundAll(v: unknown): unknown {
  if (typeof v === "string") return v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v;
  if (Array.isArray(v)) return v.slice(0, 64).map(boundAll);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k.slice(0, 128)] = boundAll(x);
    return out;
  }
  return v;
}

export function flowColumns(env: FlowEnvelope): FlowColumns {
  const f = env.flow;
  const { protocol, sport, dport } = l4Of(f);
  const l7 = f.l7;
  const l7Protocol = l7 ? (l7.http ? (isGrpc(f) ? "grpc" : "http") : l7.dns ? "dns" : l7.kafka ? "kafka" : null) : null;
  const t = Date.parse(env.time ?? f.time ?? "");
  return {
    uuid: bound(f.uuid, 64) ?? "",
    time_ms: Number.isFinite(t) ? t : 0,
    // the flow's own, whole (the record is bounded already): the node name filter reads it, as Hubble's does
    node_name: f.node_name ?? "",
    verdict: f.verdict ?? "VERDICT_UNKNOWN",
    drop_reason_desc: bound(f.drop_reason_desc, 64),
    event_type: f.event_type?.type ?? 0,
    event_sub_type: f.event_type?.sub_type ?? null,
    flow_type: f.Type ?? "UNKNOWN_TYPE",
    traffic_direction: f.traffic_direction ?? null,
    is_reply: f.is_reply === undefined ? null : f.is_reply ? 1 : 0,
    policy_match_type: f.policy_match_type ?? null,
    // cut as lib/flow/map-node.ts reads them, which decides service map nodes from these columns
    src_namespace: bound(f.source?.namespace, MAX_NAME_COLUMN),
    src_pod: bound(f.source?.pod_name, MAX_NAME_COLUMN),
    // what the service map groups by (lib/flow/map-node.ts): the record's workload, else its pod's
    src_workload: bound(mapWorkloadOf(f.source), MAX_NAME_COLUMN),
    src_identity: f.source?.identity ?? null,
    src_ip: bound(f.IP?.source, 64),
    src_port: sport,
    // whole (the record is bounded already): FQDN filters are decided on this column alone
    src_names: joinList(f.source_names, MAX_JSON),
    dst_namespace: bound(f.destination?.namespace, MAX_NAME_COLUMN),
    dst_pod: bound(f.destination?.pod_name, MAX_NAME_COLUMN),
    dst_workload: bound(mapWorkloadOf(f.destination), MAX_NAME_COLUMN),
    dst_identity: f.destination?.identity ?? null,
    dst_ip: bound(f.IP?.destination, 64),
    dst_port: dport,
    dst_names: joinList(f.destination_names, MAX_JSON),
    dst_service: f.destination_service?.name ? bound(`${f.destination_service.namespace ?? ""}/${f.destination_service.name}`, 512) : null,
    protocol,
    l7_protocol: l7Protocol,
    l7_type: l7?.type ?? null,
    // whole (the record is bounded already): the method and regex filters are decided on these
    // columns alone; an empty one is NULL, as the stored record leaves it out (protojson omits empty strings)
    http_method: l7?.http?.method || null,
    http_status: l7?.http?.code ?? null,
    http_url: l7?.http?.url || null,
    dns_query: l7?.dns?.query || null,
    // whole, like the names: the policy filter is decided on this column alone
    policies: joinList(decidingPolicies(f), MAX_JSON),
  };
}

/** A row as its values in ROW_COLUMNS order: what the INSERT binds, and cheap to copy to the writer thread. */
export type RowValues = unknown[];

/** Records stored trimmed (boundedEnvelope) since the process started: an import reports how many were its own. */
export const trimmedRecords = { count: 0 };

/** The row stored for a record, its shared parts registered as fragments (see fragments.ts). */
export function flowToRow(id: number, env: FlowEnvelope, fragments: FragmentRegistry): RowValues {
  let enc = fragments.encode(env);
  let kept = env;
  // An endpoint too large to share, or a record too large to keep, is trimmed first.
  const unshared = (env.flow.source !== undefined && enc.srcEp === null) || (env.flow.destination !== undefined && enc.dstEp === null);
  if (enc.body.length > MAX_JSON || unshared) {
    kept = boundedEnvelope(env, enc.body.length > MAX_JSON ? enc.body : toHubbleJson(env), unshared);
    if (kept !== env) {
      enc = fragments.encode(kept);
      if (kept.flow.Summary !== env.flow.Summary) trimmedRecords.count++;
    }
    // Filters on labels, workloads and cluster are answered from endpoint fragments alone
    // (sql-functions.ts): an endpoint still too large after trimming is cut until it is one.
    if ((kept.flow.source !== undefined && enc.srcEp === null) || (kept.flow.destination !== undefined && enc.dstEp === null)) {
      kept = { ...kept, flow: { ...kept.flow } };
      if (kept.flow.source !== undefined && enc.srcEp === null) kept.flow.source = fitEndpoint(kept.flow.source);
      if (kept.flow.destination !== undefined && enc.dstEp === null) kept.flow.destination = fitEndpoint(kept.flow.destination);
      if (!(kept.flow.Summary ?? "").includes("[flowscope: record")) {
        kept.flow.Summary = `${kept.flow.Summary ?? ""} [flowscope: endpoint labels trimmed to fit]`.trimStart();
        trimmedRecords.count++;
      }
      enc = fragments.encode(kept);
    }
  }
  const c = flowColumns(kept);
  // Written out in ROW_COLUMNS order (test/store/row.test.ts holds the two together): reading the
  // columns by name in a loop cost more than building the row.
  return [
    id, c.uuid === "" ? `flowscope-${id}` : c.uuid, c.time_ms, c.node_name, c.verdict, c.drop_reason_desc, c.event_type, c.event_sub_type,
    c.flow_type, c.traffic_direction, c.is_reply, c.policy_match_type,
    c.src_namespace, c.src_pod, c.src_workload, c.src_identity, c.src_ip, c.src_port, enc.srcEp, c.src_names,
    c.dst_namespace, c.dst_pod, c.dst_workload, c.dst_identity, c.dst_ip, c.dst_port, enc.dstEp, c.dst_names,
    c.dst_service, c.protocol, c.l7_protocol, c.l7_type, c.http_method, c.http_status, c.http_url, c.dns_query,
    c.policies, enc.body,
  ];
}

function isGrpc(f: Flow): boolean {
  const h = f.l7?.http;
  if (!h) return false;
  if (h.protocol === "HTTP/2" && h.headers?.some((x) => x.key.toLowerCase() === "content-type" && x.value.startsWith("application/grpc"))) return true;
  return false;
}
