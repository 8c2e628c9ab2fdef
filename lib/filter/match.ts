// The reference implementation of FlowQuery semantics: a query is compiled once into a closure, then
// called per flow (WebSocket fan-out, CLI --input-file, the SQL residual). Compiling also validates, so
// a bad filter fails with a FilterError before any flow is looked at.
import type { Endpoint, Flow } from "../flow/types";
import { DROP_REASON_NAMES } from "../flow/enums";
import { compileIPFilter } from "./ip";
import { compileLabelSelector } from "./labels";
import { compileFqdnPatterns, compileNodeNamePatterns } from "./patterns";
import { decidingPolicies, parsePolicyPattern, policyMatches } from "./policy";
import { mapNodeIdOf, splitEdgeId } from "../flow/map-node";
import { compileSafeRegExp } from "./regex";
import { compileCelExpressions } from "./cel";
import { parseTimeArg, timestampMs } from "./time";
import { FilterError, type FlowFilter, type FlowQuery } from "./types";

type Pred = (f: Flow) => boolean;

export const VERDICT_VALUES = ["VERDICT_UNKNOWN", "FORWARDED", "DROPPED", "ERROR", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"];
export const DIRECTION_VALUES = ["TRAFFIC_DIRECTION_UNKNOWN", "INGRESS", "EGRESS"];
export const PROTOCOL_VALUES = ["tcp", "udp", "sctp", "icmp", "icmpv4", "icmpv6", "http", "dns", "kafka"];
const TCP_FLAG_NAMES = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"];
const IP_VERSIONS = ["IP_NOT_USED", "IPv4", "IPv6"];

/** Every field a FlowFilter may carry; anything else is an error (typos must not silently match all). */
export const FILTER_FIELDS: readonly (keyof FlowFilter)[] = [
  "uuid", "source_ip", "source_ip_xlated", "source_pod", "source_fqdn", "source_label", "source_service",
  "source_workload", "source_cluster_name", "destination_ip", "destination_pod", "destination_fqdn",
  "destination_label", "destination_service", "destination_workload", "destination_cluster_name",
  "traffic_direction", "verdict", "drop_reason_desc", "event_type", "http_status_code", "protocol",
  "source_port", "destination_port", "reply", "dns_query", "source_identity", "destination_identity",
  "http_method", "http_path", "http_url", "http_header", "tcp_flags", "node_name", "ip_version", "trace_id", "ip_trace_id", "policy",
  "node_labels", "interface", "encrypted", "source_map_node", "destination_map_node", "map_edge", "experimental",
];

function arr<T>(ff: FlowFilter, field: keyof FlowFilter, where: string): T[] | undefined {
  const v = ff[field] as unknown;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new FilterError(`${where}${field}`, "expected an array of values");
  return v.length ? (v as T[]) : undefined;
}

function strings(ff: FlowFilter, field: keyof FlowFilter, where: string): string[] | undefined {
  const v = arr<unknown>(ff, field, where);
  if (!v) return undefined;
  for (const s of v) if (typeof s !== "string") throw new FilterError(`${where}${field}`, `expected strings, got ${JSON.stringify(s)}`);
  return v as string[];
}

const UINT64_MAX = (1n << 64n) - 1n;

/** A uint64 filter value (a decimal string, as protojson writes one, or a safe integer) in canonical form. */
export function parseUint64(v: unknown, field: string): string {
  const text = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== "string" || !/^\d{1,20}$/.test(text) || BigInt(text) > UINT64_MAX) {
    throw new FilterError(field, `expected an unsigned 64-bit integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
  }
  return BigInt(text).toString();
}

/** A record's uint64 as the filter compares it: unset and unreadable read as 0, as Go's getters do. */
function uint64Of(v: unknown): string {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return BigInt(v).toString();
  return "0";
}

function oneOf(ff: FlowFilter, field: keyof FlowFilter, where: string, allowed: readonly string[]): string[] | undefined {
  const v = strings(ff, field, where);
  if (!v) return undefined;
  for (const s of v) {
    if (!allowed.includes(s)) throw new FilterError(`${where}${field}`, `unknown value ${JSON.stringify(s)} (expected one of ${allowed.join(", ")})`);
  }
  return v;
}

/** `[ns/]prefix` as Hubble's namespaced-name filters use it; returns ns === undefined for "any namespace". */
export function parseNamespacedName(value: string, field: string): { ns?: string; prefix: string } {
  if (typeof value !== "string" || value === "" || value === "/") {
    throw new FilterError(field, `invalid filter ${JSON.stringify(value)}, must be [namespace/][name-prefix]`);
  }
  const i = value.indexOf("/");
  // Hubble's ParseNamespaceName (pkg/hubble/k8s): a name without a namespace is in "default".
  if (i < 0) return { ns: "default", prefix: value };
  const ns = value.slice(0, i);
  const prefix = value.slice(i + 1);
  if (prefix.includes("/")) throw new FilterError(field, `too many slashes in ${JSON.stringify(value)}`);
  return { ns: ns === "" ? undefined : ns, prefix };
}

// Called per flow for every client's filter: no objects or closures are made per call.
function namespacedName(values: string[], field: string, nsOf: (f: Flow) => string | undefined, nameOf: (f: Flow) => string | undefined): Pred {
  const parsed = values.map((v) => parseNamespacedName(v, field));
  return (f) => {
    const ns = nsOf(f) ?? "";
    const name = nameOf(f) ?? "";
    if (ns === "" && name === "") return false;
    for (let i = 0; i < parsed.length; i++) {
      const p = parsed[i]!;
      if ((p.ns === undefined || p.ns === ns) && (p.prefix === "" || name.startsWith(p.prefix))) return true;
    }
    return false;
  };
}

export function parsePort(value: string, field: string): number {
  if (typeof value !== "string" && typeof value !== "number") throw new FilterError(field, `invalid port ${JSON.stringify(value)}`);
  const s = String(value);
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw new FilterError(field, `invalid port ${JSON.stringify(value)} (expected 0-65535)`);
  return Number(s);
}

function l4Ports(f: Flow): { src?: number; dst?: number } | undefined {
  const l4 = f.l4;
  const p = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  return p ? { src: p.source_port ?? 0, dst: p.destination_port ?? 0 } : undefined;
}

export interface HttpStatusMatcher {
  exact?: number;
  /** prefix digits, e.g. "5" for 5+, "40" for 40+ */
  prefix?: string;
}

export function parseHttpStatus(value: string, field: string): HttpStatusMatcher {
  if (/^[1-5][0-9]{2}$/.test(value)) return { exact: Number(value) };
  const m = /^([1-5][0-9]?)\+$/.exec(value);
  if (m) return { prefix: m[1] };
  throw new FilterError(field, `invalid HTTP status code ${JSON.stringify(value)} (expected e.g. 404, 5+ or 40+)`);
}

function replyMatches(f: Flow, want: boolean): boolean {
  // Like Hubble: an unknown is_reply counts as false for drops (old clients filter reply=false and
  // still expect drops), and matches nothing otherwise.
  if (f.is_reply === undefined || f.is_reply === null) {
    if (f.verdict !== "DROPPED") return false;
    return want === false;
  }
  return f.is_reply === want;
}

const sourceOf = (f: Flow): Endpoint | undefined => f.source;
const destinationOf = (f: Flow): Endpoint | undefined => f.destination;

/**
 * The part of one side's filter that looks only at that side's endpoint (labels, workloads, cluster),
 * or undefined when the filter has none. The store decides it once per stored endpoint instead of
 * once per record (server/store/sql-functions.ts), so it must depend on nothing else.
 */
export function compileEndpointFilter(ff: FlowFilter, side: "source" | "destination", where = ""): ((ep: Endpoint | undefined) => boolean) | undefined {
  const P = side === "source" ? "source_" : "destination_";
  const preds: ((ep: Endpoint | undefined) => boolean)[] = [];
  const labelField = `${P}label` as keyof FlowFilter;
  const labels = strings(ff, labelField, where);
  if (labels) {
    const ms = labels.map((s) => compileLabelSelector(s, `${where}${labelField}`));
    preds.push((ep) => {
      const l = ep?.labels;
      for (let i = 0; i < ms.length; i++) if (ms[i]!(l)) return true;
      return false;
    });
  }
  const wlField = `${P}workload` as keyof FlowFilter;
  const wls = arr<{ name?: string; kind?: string }>(ff, wlField, where);
  if (wls) {
    for (const w of wls) {
      if (!w || typeof w !== "object" || (!w.name && !w.kind)) {
        throw new FilterError(`${where}${wlField}`, `expected {name, kind} with at least one set, got ${JSON.stringify(w)}`);
      }
    }
    preds.push((ep) => {
      const list = ep?.workloads ?? [];
      return wls.some((w) => list.some((x) => (!w.name || w.name === x.name) && (!w.kind || w.kind.toLowerCase() === (x.kind ?? "").toLowerCase())));
    });
  }
  const clField = `${P}cluster_name` as keyof FlowFilter;
  const cls = strings(ff, clField, where);
  if (cls) preds.push((ep) => cls.includes(ep?.cluster_name ?? ""));
  if (preds.length === 0) return undefined;
  if (preds.length === 1) return preds[0];
  return (ep) => preds.every((p) => p(ep));
}

function compileSide(ff: FlowFilter, side: "source" | "destination", where: string, preds: Pred[]): void {
  const P = side === "source" ? "source_" : "destination_";
  // one accessor per side: a property load by a variable name is much slower per flow
  const endpointOf = side === "source" ? sourceOf : destinationOf;
  const ipField = `${P}ip` as keyof FlowFilter;
  const ips = strings(ff, ipField, where);
  if (ips) {
    const ms = ips.map((v) => compileIPFilter(v, `${where}${ipField}`));
    preds.push((f) => {
      const ip = side === "source" ? f.IP?.source : f.IP?.destination;
      for (let i = 0; i < ms.length; i++) if (ms[i]!.test(ip)) return true;
      return false;
    });
  }
  if (side === "source") {
    const xl = strings(ff, "source_ip_xlated", where);
    if (xl) {
      const ms = xl.map((v) => compileIPFilter(v, `${where}source_ip_xlated`));
      preds.push((f) => ms.some((m) => m.test(f.IP?.source_xlated)));
    }
  }
  const podField = `${P}pod` as keyof FlowFilter;
  const pods = strings(ff, podField, where);
  if (pods) {
    preds.push(namespacedName(pods, `${where}${podField}`, (f) => endpointOf(f)?.namespace, (f) => endpointOf(f)?.pod_name));
  }
  const svcField = `${P}service` as keyof FlowFilter;
  const svcs = strings(ff, svcField, where);
  if (svcs) {
    const svcOf = (f: Flow) => (side === "source" ? f.source_service : f.destination_service);
    preds.push(namespacedName(svcs, `${where}${svcField}`, (f) => svcOf(f)?.namespace, (f) => svcOf(f)?.name));
  }
  const fqdnField = `${P}fqdn` as keyof FlowFilter;
  const fqdns = strings(ff, fqdnField, where);
  if (fqdns) {
    const m = compileFqdnPatterns(fqdns, `${where}${fqdnField}`);
    preds.push((f) => m(side === "source" ? f.source_names : f.destination_names));
  }
  const onEndpoint = compileEndpointFilter(ff, side, where);
  if (onEndpoint) preds.push((f) => onEndpoint(endpointOf(f)));
  const idField = `${P}identity` as keyof FlowFilter;
  const ids = arr<unknown>(ff, idField, where);
  if (ids) {
    const nums = ids.map((v) => {
      const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
        throw new FilterError(`${where}${idField}`, `invalid identity ${JSON.stringify(v)}`);
      }
      return n;
    });
    preds.push((f) => nums.includes(endpointOf(f)?.identity ?? 0));
  }
  const nodeField = `${P}map_node` as keyof FlowFilter;
  const nodes = strings(ff, nodeField, where);
  if (nodes) {
    for (const n of nodes) validateMapNode(n, `${where}${nodeField}`);
    preds.push((f) => nodes.includes(side === "source" ? mapNodeIdOf(f.source, f.source_names) : mapNodeIdOf(f.destination, f.destination_names)));
  }
  const portField = `${P}port` as keyof FlowFilter;
  const ports = arr<string>(ff, portField, where);
  if (ports) {
    const nums = ports.map((p) => parsePort(p, `${where}${portField}`));
    preds.push((f) => {
      const p = l4Ports(f);
      if (!p) return false;
      return nums.includes((side === "source" ? p.src : p.dst) ?? 0);
    });
  }
}

/** the longest map node id a filter takes: far longer than any id the map gives (names are cut to 253) */
export const MAX_MAP_NODE_ID = 1024;

export function validateMapNode(id: string, field: string): void {
  if (id === "") throw new FilterError(field, "empty map node id");
  if (id.length > MAX_MAP_NODE_ID) throw new FilterError(field, `map node id of ${id.length} characters (at most ${MAX_MAP_NODE_ID})`);
}

/** A map edge id's two node ids; throws naming `field` when it is not `source->target`. */
export function parseMapEdge(edge: string, field: string): { source: string; target: string } {
  const e = splitEdgeId(edge);
  if (!e) throw new FilterError(field, `invalid edge ${JSON.stringify(edge.slice(0, 200))} (expected source->target, as GET /api/service-map names edges)`);
  validateMapNode(e.source, field);
  validateMapNode(e.target, field);
  return e;
}

/** Compiles one FlowFilter (all set fields AND). `where` prefixes error field names, e.g. "whitelist[1].". */
/**
 * Bounds on one query, far above what a person types: the store turns each filter and each policy
 * value into SQL terms, and SQLite refuses an expression more than 1,000 levels deep (a failure that
 * would otherwise surface as a 500, or inside the stream's timer).
 */
export const MAX_FILTERS = 256;
export const MAX_FILTER_VALUES = 256;

export function compileFilter(ff: FlowFilter, where = ""): Pred {
  if (!ff || typeof ff !== "object" || Array.isArray(ff)) throw new FilterError(where.replace(/\.$/, "") || "filter", "expected an object");
  for (const k of Object.keys(ff)) {
    if (!FILTER_FIELDS.includes(k as keyof FlowFilter)) throw new FilterError(`${where}${k}`, "unknown filter field");
    const v = (ff as Record<string, unknown>)[k];
    if (Array.isArray(v) && v.length > MAX_FILTER_VALUES) throw new FilterError(`${where}${k}`, `${v.length} values; at most ${MAX_FILTER_VALUES} in one filter`);
  }
  const preds: Pred[] = [];
  const uuids = strings(ff, "uuid", where);
  if (uuids) preds.push((f) => f.uuid !== undefined && uuids.includes(f.uuid));
  compileSide(ff, "source", where, preds);
  compileSide(ff, "destination", where, preds);

  const dirs = oneOf(ff, "traffic_direction", where, DIRECTION_VALUES);
  if (dirs) preds.push((f) => dirs.includes(f.traffic_direction ?? "TRAFFIC_DIRECTION_UNKNOWN"));
  const verdicts = oneOf(ff, "verdict", where, VERDICT_VALUES);
  if (verdicts) preds.push((f) => verdicts.includes(f.verdict ?? "VERDICT_UNKNOWN"));
  const drops = oneOf(ff, "drop_reason_desc", where, ["DROP_REASON_UNKNOWN", ...DROP_REASON_NAMES]);
  if (drops) preds.push((f) => drops.includes(f.drop_reason_desc ?? "DROP_REASON_UNKNOWN"));

  const ets = arr<{ type: number; match_sub_type?: boolean; sub_type?: number }>(ff, "event_type", where);
  if (ets) {
    for (const e of ets) {
      if (!e || typeof e !== "object" || !Number.isInteger(e.type)) {
        throw new FilterError(`${where}event_type`, `expected {type, match_sub_type?, sub_type?}, got ${JSON.stringify(e)}`);
      }
    }
    preds.push((f) => {
      const t = f.event_type?.type ?? 0;
      const st = f.event_type?.sub_type ?? 0;
      return ets.some((e) => e.type === t && (!e.match_sub_type || (e.sub_type ?? 0) === st));
    });
  }

  const statuses = strings(ff, "http_status_code", where);
  if (statuses) {
    const ms = statuses.map((s) => parseHttpStatus(s, `${where}http_status_code`));
    preds.push((f) => {
      const code = f.l7?.http?.code ?? 0;
      if (!code) return false;
      const text = String(code).padStart(3, "0");
      return ms.some((m) => (m.exact !== undefined ? m.exact === code : text.startsWith(m.prefix!)));
    });
  }

  const protos = strings(ff, "protocol", where);
  if (protos) {
    const lower = protos.map((p) => p.toLowerCase());
    for (let i = 0; i < lower.length; i++) {
      if (!PROTOCOL_VALUES.includes(lower[i])) {
        throw new FilterError(`${where}protocol`, `unknown protocol ${JSON.stringify(protos[i])} (expected one of ${PROTOCOL_VALUES.join(", ")})`);
      }
    }
    preds.push((f) => {
      const l4 = f.l4;
      const l7 = f.l7;
      for (const p of lower) {
        if (p === "tcp" && l4?.TCP) return true;
        if (p === "udp" && l4?.UDP) return true;
        if (p === "sctp" && l4?.SCTP) return true;
        if (p === "icmp" && (l4?.ICMPv4 || l4?.ICMPv6)) return true;
        if (p === "icmpv4" && l4?.ICMPv4) return true;
        if (p === "icmpv6" && l4?.ICMPv6) return true;
        if (p === "http" && l7?.http) return true;
        if (p === "dns" && l7?.dns) return true;
        if (p === "kafka" && l7?.kafka) return true;
      }
      return false;
    });
  }

  const replies = arr<unknown>(ff, "reply", where);
  if (replies) {
    for (const r of replies) if (typeof r !== "boolean") throw new FilterError(`${where}reply`, `expected true or false, got ${JSON.stringify(r)}`);
    preds.push((f) => (replies as boolean[]).some((r) => replyMatches(f, r)));
  }

  const dnsq = strings(ff, "dns_query", where);
  if (dnsq) {
    const res = dnsq.map((p) => compileSafeRegExp(p, `${where}dns_query`));
    preds.push((f) => {
      const q = f.l7?.dns?.query;
      return q !== undefined && res.some((r) => r.test(q));
    });
  }

  const methods = strings(ff, "http_method", where);
  if (methods) {
    const up = methods.map((m) => m.toUpperCase());
    preds.push((f) => {
      const m = f.l7?.http?.method;
      return !!m && up.includes(m.toUpperCase());
    });
  }
  const paths = strings(ff, "http_path", where);
  if (paths) {
    const res = paths.map((p) => compileSafeRegExp(p, `${where}http_path`));
    preds.push((f) => {
      const url = f.l7?.http?.url;
      if (!url) return false;
      const path = requestPath(url);
      return path !== undefined && res.some((r) => r.test(path));
    });
  }
  const urls = strings(ff, "http_url", where);
  if (urls) {
    const res = urls.map((p) => compileSafeRegExp(p, `${where}http_url`));
    preds.push((f) => {
      const url = f.l7?.http?.url;
      return !!url && res.some((r) => r.test(url));
    });
  }
  const headers = arr<{ key: string; value: string }>(ff, "http_header", where);
  if (headers) {
    for (const h of headers) {
      if (!h || typeof h.key !== "string" || typeof h.value !== "string") throw new FilterError(`${where}http_header`, `expected {key, value}, got ${JSON.stringify(h)}`);
    }
    preds.push((f) => {
      const hs = f.l7?.http?.headers ?? [];
      return headers.some((h) => hs.some((x) => x.key.toLowerCase() === h.key.toLowerCase() && x.value === h.value));
    });
  }
  const flags = arr<Record<string, boolean>>(ff, "tcp_flags", where);
  if (flags) {
    for (const fl of flags) {
      if (!fl || typeof fl !== "object") throw new FilterError(`${where}tcp_flags`, `expected an object of flags, got ${JSON.stringify(fl)}`);
      for (const k of Object.keys(fl)) if (!TCP_FLAG_NAMES.includes(k)) throw new FilterError(`${where}tcp_flags`, `unknown TCP flag ${JSON.stringify(k)}`);
    }
    preds.push((f) => {
      const have = (f.l4?.TCP?.flags ?? {}) as Record<string, boolean | undefined>;
      if (!f.l4?.TCP) return false;
      return flags.some((fl) => Object.entries(fl).every(([k, v]) => !v || have[k] === true));
    });
  }
  const exp = ff.experimental as unknown;
  if (exp !== undefined && exp !== null) {
    if (typeof exp !== "object" || Array.isArray(exp)) throw new FilterError(`${where}experimental`, "expected an object");
    for (const k of Object.keys(exp)) if (k !== "cel_expression") throw new FilterError(`${where}experimental.${k}`, "unknown filter field");
    const exprs = (exp as { cel_expression?: unknown }).cel_expression;
    if (exprs !== undefined && exprs !== null) {
      if (!Array.isArray(exprs)) throw new FilterError(`${where}experimental.cel_expression`, "expected an array of CEL expressions");
      if (exprs.length > MAX_FILTER_VALUES) throw new FilterError(`${where}experimental.cel_expression`, `${exprs.length} values; at most ${MAX_FILTER_VALUES} in one filter`);
      if (exprs.length) preds.push(compileCelExpressions(exprs, `${where}experimental.cel_expression`));
    }
  }
  const nodes = strings(ff, "node_name", where);
  if (nodes) {
    const m = compileNodeNamePatterns(nodes, `${where}node_name`);
    preds.push((f) => m(f.node_name));
  }
  // Hubble's node label filter: label selectors over the observing node's labels
  const nodeLabels = strings(ff, "node_labels", where);
  if (nodeLabels) {
    const ms = nodeLabels.map((s) => compileLabelSelector(s, `${where}node_labels`));
    preds.push((f) => ms.some((m) => m(f.node_labels)));
  }
  // hubble's filterByNetworkInterface: a flow with no interface matches none
  const ifaces = arr<{ index?: number; name?: string }>(ff, "interface", where);
  if (ifaces) {
    for (const x of ifaces) {
      if (!x || typeof x !== "object" || (x.index !== undefined && (typeof x.index !== "number" || !Number.isInteger(x.index) || x.index < 0)) || (x.name !== undefined && typeof x.name !== "string")) {
        throw new FilterError(`${where}interface`, `expected {index, name}, got ${JSON.stringify(x)}`);
      }
    }
    preds.push((f) => {
      const i = f.interface;
      if (!i) return false;
      return ifaces.some((x) => (!x.index || x.index === (i.index ?? 0)) && (!x.name || x.name === (i.name ?? "")));
    });
  }
  const enc = arr<unknown>(ff, "encrypted", where);
  if (enc) {
    for (const e of enc) if (typeof e !== "boolean") throw new FilterError(`${where}encrypted`, `expected true or false, got ${JSON.stringify(e)}`);
    preds.push((f) => enc.includes(f.IP?.encrypted === true));
  }
  const ipv = oneOf(ff, "ip_version", where, IP_VERSIONS);
  if (ipv) preds.push((f) => ipv.includes(f.IP?.ipVersion ?? "IP_NOT_USED"));
  // hubble's filterByTraceID: the trace id of the record's trace context, whole
  const tids = strings(ff, "trace_id", where);
  if (tids) {
    preds.push((f) => {
      const t = f.trace_context?.parent?.trace_id;
      return t !== undefined && t !== "" && tids.includes(t);
    });
  }
  // hubble's filterByIPTraceID: the record's IP-option trace id (0 when it has none) equals one given
  const ipTids = arr<unknown>(ff, "ip_trace_id", where);
  if (ipTids) {
    const wanted = new Set(ipTids.map((v) => parseUint64(v, `${where}ip_trace_id`)));
    preds.push((f) => wanted.has(uint64Of(f.ip_trace_id?.trace_id)));
  }
  const edges = strings(ff, "map_edge", where);
  if (edges) {
    const ends = edges.map((e) => parseMapEdge(e, `${where}map_edge`));
    preds.push((f) => {
      const src = mapNodeIdOf(f.source, f.source_names);
      const dst = mapNodeIdOf(f.destination, f.destination_names);
      // the map counts what is not a reply (is_reply false or unset); replies run the other way
      const reply = f.is_reply === true;
      return ends.some((e) => (reply ? src === e.target && dst === e.source : src === e.source && dst === e.target));
    });
  }
  const pols = strings(ff, "policy", where);
  if (pols) {
    const pats = pols.map((p) => parsePolicyPattern(p, `${where}policy`));
    preds.push((f) => {
      const refs = decidingPolicies(f);
      return refs.some((r) => pats.some((p) => policyMatches(p, r)));
    });
  }

  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  return (f) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i](f)) return false;
    return true;
  };
}

export interface CompileOptions {
  /** "now" for relative since/until; default Date.now() */
  now?: number;
}

/** Validates and compiles a FlowQuery into a predicate over flows. Throws FilterError on bad input. */
export function compileQuery(query: FlowQuery, opts: CompileOptions = {}): (flow: Flow) => boolean {
  if (!query || typeof query !== "object") throw new FilterError("query", "expected an object");
  const wl = query.whitelist ?? [];
  const bl = query.blacklist ?? [];
  if (!Array.isArray(wl)) throw new FilterError("whitelist", "expected an array of filters");
  if (!Array.isArray(bl)) throw new FilterError("blacklist", "expected an array of filters");
  if (wl.length + bl.length > MAX_FILTERS) throw new FilterError(bl.length > wl.length ? "blacklist" : "whitelist", `${wl.length} allow and ${bl.length} deny filters; at most ${MAX_FILTERS} in all`);
  const white = wl.map((ff, i) => compileFilter(ff, `whitelist[${i}].`));
  const black = bl.map((ff, i) => compileFilter(ff, `blacklist[${i}].`));
  const now = opts.now ?? Date.now();
  const since = query.since !== undefined && query.since !== "" ? parseTimeArg(query.since, "since", now) : undefined;
  const until = query.until !== undefined && query.until !== "" ? parseTimeArg(query.until, "until", now) : undefined;
  if (since !== undefined && until !== undefined && since > until) throw new FilterError("since", "since is after until");
  const timed = since !== undefined || until !== undefined;
  const node = query.node;
  if (node !== undefined && typeof node !== "string") throw new FilterError("node", "expected a node name");
  return (f) => {
    // "" is the node of flows that name none (an import of records without one)
    if (node !== undefined && (f.node_name ?? "") !== node) return false;
    if (timed) {
      const t = timestampMs(f.time);
      if (Number.isNaN(t)) return false;
      if (since !== undefined && t < since) return false;
      if (until !== undefined && t > until) return false;
    }
    if (white.length) {
      let ok = false;
      for (let i = 0; i < white.length; i++) {
        if (white[i](f)) {
          ok = true;
          break;
        }
      }
      if (!ok) return false;
    }
    for (let i = 0; i < black.length; i++) if (black[i](f)) return false;
    return true;
  };
}

const compiledCache = new WeakMap<FlowQuery, (flow: Flow) => boolean>();

/** Convenience: does `flow` satisfy `query`? Compiles once per query object. */
export function matchFlow(query: FlowQuery, flow: Flow): boolean {
  let fn = compiledCache.get(query);
  if (!fn) {
    fn = compileQuery(query);
    compiledCache.set(query, fn);
  }
  return fn(flow);
}


/**
 * The path of a request URL as Go's url.ParseRequestURI(u).Path gives it (what hubble's http_path filter
 * matches): percent-decoded, with dot segments kept, without query or fragment. undefined when the
 * escapes are malformed (Go's parse fails, and the flow does not match).
 */
export function requestPath(url: string): string | undefined {
  let rest = url;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(rest);
  if (scheme) {
    rest = rest.slice(scheme[0].length);
    const slash = rest.search(/[/?#]/);
    rest = slash < 0 ? "" : rest.slice(slash);
  }
  const end = rest.search(/[?#]/);
  const raw = end < 0 ? rest : rest.slice(0, end);
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
