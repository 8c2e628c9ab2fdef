// The exact bytes `hubble observe -o json` prints for a GetFlowsResponse: Go protojson with proto names
// (fields in .proto declaration order, enum zero values / empty strings / zero numbers / false / empty
// arrays left out, 64-bit integers as strings, is_reply kept when set even if false, timestamps with 0, 3,
// 6 or 9 fraction digits), passed through Go encoding/json, which compacts it and escapes <, >, & and
// U+2028/U+2029. The schema below is also what import.ts uses to accept lowerCamel names and enum numbers.
import { DROP_REASON_NAMES, dropReasonName } from "./enums";
import type { FlowEnvelope, LostEventsEnvelope } from "./types";

export type FieldType =
  | "string" | "int" | "uint" | "uint64" | "bool" | "boolvalue" | "int32value" | "timestamp" | "any"
  | { enum: string } | { msg: string } | { repeated: "string" | { msg: string } };

export interface FieldSpec {
  name: string;
  /** `"name":` ready to emit */
  key: string;
  json: string; // lowerCamel JSON name
  type: FieldType;
}

const E = (e: string): FieldType => ({ enum: e });
const M = (m: string): FieldType => ({ msg: m });
const RS: FieldType = { repeated: "string" };
const RM = (m: string): FieldType => ({ repeated: { msg: m } });

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const RAW: Record<string, [string, FieldType][]> = {
  GetFlowsResponse: [["flow", M("Flow")], ["node_status", M("NodeStatusEvent")], ["lost_events", M("LostEvent")], ["node_name", "string"], ["time", "timestamp"]],
  Flow: [
    ["time", "timestamp"], ["uuid", "string"], ["emitter", M("Emitter")], ["verdict", E("Verdict")], ["drop_reason", "uint"],
    ["auth_type", E("AuthType")], ["ethernet", M("Ethernet")], ["IP", M("IP")], ["l4", M("Layer4")], ["tunnel", M("Tunnel")],
    ["source", M("Endpoint")], ["destination", M("Endpoint")], ["Type", E("FlowType")], ["node_name", "string"],
    ["node_labels", RS], ["source_names", RS], ["destination_names", RS], ["l7", M("Layer7")], ["reply", "bool"],
    ["event_type", M("CiliumEventType")], ["source_service", M("Service")], ["destination_service", M("Service")],
    ["traffic_direction", E("TrafficDirection")], ["policy_match_type", "uint"], ["trace_observation_point", E("TraceObservationPoint")],
    ["trace_reason", E("TraceReason")], ["file", M("FileInfo")], ["ip_trace_id", M("IPTraceID")], ["drop_reason_desc", E("DropReason")],
    ["is_reply", "boolvalue"], ["debug_capture_point", E("DebugCapturePoint")], ["interface", M("NetworkInterface")],
    ["proxy_port", "uint"], ["trace_context", M("TraceContext")], ["sock_xlate_point", E("SocketTranslationPoint")],
    ["socket_cookie", "uint64"], ["cgroup_id", "uint64"], ["Summary", "string"], ["extensions", "any"],
    ["egress_allowed_by", RM("Policy")], ["ingress_allowed_by", RM("Policy")], ["egress_denied_by", RM("Policy")],
    ["ingress_denied_by", RM("Policy")], ["policy_log", RS], ["aggregate", M("Aggregate")],
  ],
  Endpoint: [["ID", "uint"], ["identity", "uint"], ["cluster_name", "string"], ["namespace", "string"], ["labels", RS], ["pod_name", "string"], ["workloads", RM("Workload")]],
  Workload: [["name", "string"], ["kind", "string"]],
  Ethernet: [["source", "string"], ["destination", "string"]],
  IP: [["source", "string"], ["source_xlated", "string"], ["destination", "string"], ["ipVersion", E("IPVersion")], ["encrypted", "bool"]],
  Layer4: [["TCP", M("TCP")], ["UDP", M("UDP")], ["ICMPv4", M("ICMP")], ["ICMPv6", M("ICMP")], ["SCTP", M("UDP")], ["VRRP", M("VRRP")], ["IGMP", M("IGMP")]],
  TCP: [["source_port", "uint"], ["destination_port", "uint"], ["flags", M("TCPFlags")]],
  UDP: [["source_port", "uint"], ["destination_port", "uint"]],
  ICMP: [["type", "uint"], ["code", "uint"]],
  VRRP: [["type", "uint"], ["vrid", "uint"], ["priority", "uint"]],
  IGMP: [["type", "uint"], ["group_address", "string"]],
  TCPFlags: ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"].map((f) => [f, "bool"] as [string, FieldType]),
  Tunnel: [["protocol", E("TunnelProtocol")], ["IP", M("IP")], ["l4", M("Layer4")], ["vni", "uint"]],
  Layer7: [["type", E("L7FlowType")], ["latency_ns", "uint64"], ["dns", M("DNS")], ["http", M("HTTP")], ["kafka", M("Kafka")]],
  DNS: [["query", "string"], ["ips", RS], ["ttl", "uint"], ["cnames", RS], ["observation_source", "string"], ["rcode", "uint"], ["qtypes", RS], ["rrtypes", RS]],
  HTTP: [["code", "uint"], ["method", "string"], ["url", "string"], ["protocol", "string"], ["headers", RM("HTTPHeader")]],
  HTTPHeader: [["key", "string"], ["value", "string"]],
  Kafka: [["error_code", "int"], ["api_version", "int"], ["api_key", "string"], ["correlation_id", "int"], ["topic", "string"]],
  Service: [["name", "string"], ["namespace", "string"]],
  CiliumEventType: [["type", "int"], ["sub_type", "int"]],
  NetworkInterface: [["index", "uint"], ["name", "string"]],
  FileInfo: [["name", "string"], ["line", "uint"]],
  IPTraceID: [["trace_id", "uint64"], ["ip_option_type", "uint"]],
  Emitter: [["name", "string"], ["version", "string"]],
  TraceContext: [["parent", M("TraceParent")]],
  TraceParent: [["trace_id", "string"]],
  Policy: [["name", "string"], ["namespace", "string"], ["labels", RS], ["revision", "uint64"], ["kind", "string"]],
  Aggregate: [["ingress_flow_count", "uint"], ["egress_flow_count", "uint"], ["unknown_direction_flow_count", "uint"]],
  LostEvent: [["source", E("LostEventSource")], ["num_events_lost", "uint64"], ["cpu", "int32value"], ["first", "timestamp"], ["last", "timestamp"]],
  NodeStatusEvent: [["state_change", E("NodeState")], ["node_names", RS], ["message", "string"]],
};

export const SCHEMA: Record<string, FieldSpec[]> = Object.fromEntries(
  Object.entries(RAW).map(([m, fields]) => [m, fields.map(([name, type]) => ({ name, key: `${JSON.stringify(name)}:`, json: camel(name), type }))]),
);

const seq = (...names: string[]): Record<number, string> => Object.fromEntries(names.map((n, i) => [i, n]));

/** enum number → name; index 0 (or the listed zero) is the zero value that JSON leaves out. */
export const ENUMS: Record<string, Record<number, string>> = {
  Verdict: seq("VERDICT_UNKNOWN", "FORWARDED", "DROPPED", "ERROR", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"),
  AuthType: seq("DISABLED", "SPIRE", "TEST_ALWAYS_FAIL"),
  FlowType: seq("UNKNOWN_TYPE", "L3_L4", "L7", "SOCK"),
  TrafficDirection: seq("TRAFFIC_DIRECTION_UNKNOWN", "INGRESS", "EGRESS"),
  IPVersion: seq("IP_NOT_USED", "IPv4", "IPv6"),
  L7FlowType: seq("UNKNOWN_L7_TYPE", "REQUEST", "RESPONSE", "SAMPLE"),
  TraceObservationPoint: {
    0: "UNKNOWN_POINT", 101: "TO_ENDPOINT", 1: "TO_PROXY", 2: "TO_HOST", 3: "TO_STACK", 4: "TO_OVERLAY", 5: "FROM_ENDPOINT",
    6: "FROM_PROXY", 7: "FROM_HOST", 8: "FROM_STACK", 9: "FROM_OVERLAY", 10: "FROM_NETWORK", 11: "TO_NETWORK", 12: "FROM_CRYPTO", 13: "TO_CRYPTO",
  },
  TraceReason: seq("TRACE_REASON_UNKNOWN", "NEW", "ESTABLISHED", "REPLY", "RELATED", "REOPENED", "SRV6_ENCAP", "SRV6_DECAP", "ENCRYPT_OVERLAY"),
  DebugCapturePoint: {
    0: "DBG_CAPTURE_POINT_UNKNOWN", 4: "DBG_CAPTURE_DELIVERY", 5: "DBG_CAPTURE_FROM_LB", 6: "DBG_CAPTURE_AFTER_V46", 7: "DBG_CAPTURE_AFTER_V64",
    8: "DBG_CAPTURE_PROXY_PRE", 9: "DBG_CAPTURE_PROXY_POST", 10: "DBG_CAPTURE_SNAT_PRE", 11: "DBG_CAPTURE_SNAT_POST",
  },
  SocketTranslationPoint: seq("SOCK_XLATE_POINT_UNKNOWN", "SOCK_XLATE_POINT_PRE_DIRECTION_FWD", "SOCK_XLATE_POINT_POST_DIRECTION_FWD", "SOCK_XLATE_POINT_PRE_DIRECTION_REV", "SOCK_XLATE_POINT_POST_DIRECTION_REV"),
  TunnelProtocol: seq("UNKNOWN", "VXLAN", "GENEVE"),
  LostEventSource: seq("UNKNOWN_LOST_EVENT_SOURCE", "PERF_EVENT_RING_BUFFER", "OBSERVER_EVENTS_QUEUE", "HUBBLE_RING_BUFFER"),
  NodeState: seq("UNKNOWN_NODE_STATE", "NODE_CONNECTED", "NODE_UNAVAILABLE", "NODE_GONE", "NODE_ERROR"),
};

/** Name of enum value `v` (name or number), or undefined if unknown. Drop reasons use the shared table. */
export function enumName(enumType: string, v: unknown): string | undefined {
  if (enumType === "DropReason") {
    if (typeof v === "number") return v === 0 ? "DROP_REASON_UNKNOWN" : DROP_REASON_NAMES.includes(dropReasonName(v)) ? dropReasonName(v) : undefined;
    return typeof v === "string" ? v : undefined;
  }
  const table = ENUMS[enumType];
  if (typeof v === "number") return table?.[v];
  if (typeof v === "string") return v;
  return undefined;
}

function enumZero(enumType: string): string {
  return enumType === "DropReason" ? "DROP_REASON_UNKNOWN" : ENUMS[enumType][0];
}

/** RFC 3339 as protojson prints it: UTC, and 0, 3, 6 or 9 fraction digits. */
export function formatTimestamp(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(t);
  if (!m) return t;
  let base = m[1];
  let nanos = Number((m[2] ?? "").padEnd(9, "0"));
  if (m[3].toUpperCase() !== "Z") {
    const ms = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(ms)) return t;
    base = new Date(ms).toISOString().slice(0, 19);
  }
  if (nanos === 0) return `${base}Z`;
  let frac = String(nanos).padStart(9, "0");
  if (nanos % 1_000_000 === 0) frac = frac.slice(0, 3);
  else if (nanos % 1000 === 0) frac = frac.slice(0, 6);
  return `${base}.${frac}Z`;
}

// Every flow on the server's hot path goes through toHubbleJson, so each message type is compiled once
// (on first use) into an encoder that knows each field's key, kind and nested encoder; a call is then
// a walk over the keys the object has, the emptiness checks protojson makes, and string pieces.

// Go's encoding/json HTML-escapes its output; JS leaves lone surrogates escaped where Go writes U+FFFD.
const NEEDS_CARE = /[\ud800-\udfff<>&\u2028\u2029]/;
// Anything JSON.stringify or Go would escape; most label, name and IP strings contain none of it.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

function quoteUncached(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  if (!NEEDS_CARE.test(s)) return JSON.stringify(s);
  return JSON.stringify(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"))
    .replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

// Labels, names, namespaces, IPs and summaries repeat from flow to flow; a hit costs one hash lookup
// (the hash stays on the string) instead of a scan. Bounded, and long strings are not kept.
const QUOTED = new Map<string, string>();
const QUOTED_MAX_ENTRIES = 8192;
const QUOTED_MAX_LENGTH = 256;

function quote(s: string): string {
  let q = QUOTED.get(s);
  if (q !== undefined) return q;
  q = quoteUncached(s);
  if (s.length <= QUOTED_MAX_LENGTH) {
    if (QUOTED.size >= QUOTED_MAX_ENTRIES) QUOTED.clear();
    QUOTED.set(s, q);
  }
  return q;
}

// The shape the datapath and Hubble print (UTC, upper-case T/Z); anything else takes formatTimestamp.
const PLAIN_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const ZEROS = "000000000";

/** formatTimestamp(t), quoted; the envelope usually repeats the flow's time, so the last one is kept. */
let lastTime = "";
let lastTimeJson = "";
function timestampJson(t: string): string {
  if (t === lastTime) return lastTimeJson;
  let out: string;
  if (PLAIN_UTC.test(t)) {
    // Same digits formatTimestamp derives via Number(): pad to nanoseconds, then drop whole zero triples.
    const nanos = t.length > 21 ? (t.slice(20, -1) + ZEROS).slice(0, 9) : ZEROS;
    const base = t.slice(0, 19);
    if (nanos === ZEROS) out = `"${base}Z"`;
    else if (nanos.endsWith("000000")) out = `"${base}.${nanos.slice(0, 3)}Z"`;
    else if (nanos.endsWith("000")) out = `"${base}.${nanos.slice(0, 6)}Z"`;
    else out = `"${base}.${nanos}Z"`;
  } else {
    out = quoteUncached(formatTimestamp(t));
  }
  lastTime = t;
  lastTimeJson = out;
  return out;
}

function anyValue(v: unknown): string {
  if (typeof v === "string") return quote(v);
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      // a hole prints as nothing, as Array.prototype.join does
      out += (i === 0 ? "" : ",") + (x === undefined && !(i in v) ? "" : anyValue(x));
    }
    return out + "]";
  }
  // Keys in insertion order, except that an Any's "@type" always comes first.
  const o = v as Record<string, unknown>;
  let out = "{";
  const type = o["@type"];
  if (type !== undefined && Object.prototype.propertyIsEnumerable.call(o, "@type")) out += `"@type":${anyValue(type)}`;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x === undefined || k === "@type") continue;
    out += (out.length > 1 ? "," : "") + quote(k) + ":" + anyValue(x);
  }
  return out + "}";
}

function uint64Json(v: unknown): string | undefined {
  if (typeof v === "string") return v === "" || v === "0" ? undefined : quote(v);
  if (typeof v === "number") return v === 0 ? undefined : `"${v}"`;
  if (typeof v === "bigint") return v === 0n ? undefined : `"${v}"`;
  return undefined;
}

type MessageEncoder = (obj: Record<string, unknown>) => string;

/** Enum value (name or number) → quoted name, or undefined for the zero value and unknown numbers. */
type EnumEncoder = (v: unknown) => string | undefined;

const DROP_NAME_CACHE_MAX = 1024;

function enumEncoder(enumType: string): EnumEncoder {
  const zero = enumZero(enumType);
  const byNumber = new Map<number, string | undefined>();
  if (enumType !== "DropReason") {
    for (const [n, name] of Object.entries(ENUMS[enumType])) byNumber.set(Number(n), name === zero ? undefined : quote(name));
  }
  return function encodeEnum(v) {
    // any other string passes through, as enumName lets it
    if (typeof v === "string") return v === zero ? undefined : quote(v);
    if (typeof v !== "number") return undefined;
    if (byNumber.has(v)) return byNumber.get(v);
    const name = enumName(enumType, v);
    const out = name === undefined || name === zero ? undefined : quote(name);
    if (enumType === "DropReason" && byNumber.size < DROP_NAME_CACHE_MAX) byNumber.set(v, out);
    return out;
  };
}

// Field kinds, as small integers so the per-field switch is a jump table.
const Kind = {
  String: 0, Int: 1, Uint64: 2, Bool: 3, BoolValue: 4, Int32Value: 5, Timestamp: 6, Any: 7, Enum: 8, Message: 9, Strings: 10, Messages: 11,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

function kindOf(type: FieldType): Kind {
  if (typeof type === "string") {
    switch (type) {
      case "string": return Kind.String;
      case "int":
      case "uint":
        return Kind.Int;
      case "uint64": return Kind.Uint64;
      case "bool": return Kind.Bool;
      case "boolvalue": return Kind.BoolValue;
      case "int32value": return Kind.Int32Value;
      case "timestamp": return Kind.Timestamp;
      case "any": return Kind.Any;
    }
  }
  if ("enum" in type) return Kind.Enum;
  if ("msg" in type) return Kind.Message;
  return type.repeated === "string" ? Kind.Strings : Kind.Messages;
}

function stringsJson(v: unknown[]): string {
  let out = "[";
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    out += (i === 0 ? "" : ",") + (typeof x === "string" ? quote(x) : x === undefined && !(i in v) ? "" : quote(String(x)));
  }
  return out + "]";
}

function messagesJson(v: unknown[], encode: MessageEncoder): string {
  let out = "[";
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    out += (i === 0 ? "" : ",") + (x === undefined && !(i in v) ? "" : encode((x ?? {}) as Record<string, unknown>));
  }
  return out + "]";
}

// The datapath shares the parts of a record that repeat from request to request (endpoints, policy
// lists, services) and freezes them; a frozen value cannot change, so its JSON is computed once.
const FROZEN_JSON = new WeakMap<object, string>();

function frozenJson(v: object, encode: () => string): string {
  let s = FROZEN_JSON.get(v);
  if (s === undefined) {
    // a fragment hook must not see the nested values of a value it is about to be handed whole
    const hook = fragmentHook;
    fragmentHook = undefined;
    try {
      s = encode();
    } finally {
      fragmentHook = hook;
    }
    FROZEN_JSON.set(v, s);
  }
  return s;
}

/** Flow fields whose JSON repeats across records and may be stored once, by reference (server/store). */
export const FRAGMENT_FIELDS: ReadonlySet<string> = new Set([
  "source", "destination", "egress_allowed_by", "ingress_allowed_by", "egress_denied_by", "ingress_denied_by", "extensions",
]);

/** Given a fragmentable field's value and its JSON, returns the text to print in its place. */
export type FragmentHook = (field: string, value: unknown, json: string) => string;

let fragmentHook: FragmentHook | undefined;

const compiled = new Map<string, MessageEncoder>();

function messageEncoder(msg: string): MessageEncoder {
  let enc = compiled.get(msg);
  if (enc === undefined) {
    enc = compileMessage(msg);
    compiled.set(msg, enc);
  }
  return enc;
}

function compileMessage(msg: string): MessageEncoder {
  const fields = SCHEMA[msg];
  if (fields === undefined) throw new TypeError(`unknown message type ${JSON.stringify(msg)}`);
  const n = fields.length;
  // Objects carry a few of a message's fields (a flow ~15 of 45), so the encoder walks the keys the
  // object has rather than probing every schema name: misses at one property-load site that sees
  // every name are slow in V8. Proto names map to slot i, lowerCamel aliases to n + i.
  const slotOf = new Map<string, number>();
  fields.forEach((f, i) => {
    slotOf.set(f.name, i);
    if (f.json !== f.name) slotOf.set(f.json, n + i);
  });
  const firstKeys = fields.map((f) => "{" + f.key);
  const nextKeys = fields.map((f) => "," + f.key);
  const kinds = fields.map((f) => kindOf(f.type));
  // a value that never repeats would only push the repeating ones out of the quote cache
  const unique = fields.map((f) => f.name === "uuid");
  const enums = fields.map((f) => (typeof f.type === "object" && "enum" in f.type ? enumEncoder(f.type.enum) : undefined));
  // nested encoders are looked up on first use, so message types may refer to each other in any order
  const nestedNames = fields.map((f) => (typeof f.type === "object" ? ("msg" in f.type ? f.type.msg : "repeated" in f.type && f.type.repeated !== "string" ? f.type.repeated.msg : undefined) : undefined));
  const nested: (MessageEncoder | undefined)[] = fields.map(() => undefined);

  /** The field's JSON value, or undefined where protojson leaves it out; v is neither undefined nor null. */
  function value(i: number, v: unknown): string | undefined {
    switch (kinds[i]) {
      case Kind.String:
        if (typeof v !== "string" || v === "") return undefined;
        return unique[i] ? quoteUncached(v) : quote(v);
      case Kind.Int:
        if (typeof v === "number") return v !== 0 ? String(Math.trunc(v)) : undefined;
        return typeof v === "string" && v !== "" && v !== "0" ? String(Number(v)) : undefined;
      case Kind.Uint64:
        return uint64Json(v);
      case Kind.Bool:
        return v === true ? "true" : undefined;
      case Kind.BoolValue:
        return v === true ? "true" : v === false ? "false" : undefined;
      case Kind.Int32Value:
        return typeof v === "number" ? String(v) : undefined;
      case Kind.Timestamp:
        return typeof v === "string" && v !== "" ? timestampJson(v) : undefined;
      case Kind.Any:
        if (typeof v !== "object") return undefined;
        return v !== null && Object.isFrozen(v) ? frozenJson(v, () => anyValue(v)) : anyValue(v);
      case Kind.Enum:
        return enums[i]!(v);
      case Kind.Message: {
        if (typeof v !== "object") return undefined;
        const enc = (nested[i] ??= messageEncoder(nestedNames[i]!));
        return Object.isFrozen(v) ? frozenJson(v as object, () => enc(v as Record<string, unknown>)) : enc(v as Record<string, unknown>);
      }
      case Kind.Strings:
        return Array.isArray(v) && v.length !== 0 ? stringsJson(v) : undefined;
      case Kind.Messages: {
        if (!Array.isArray(v) || v.length === 0) return undefined;
        const enc = (nested[i] ??= messageEncoder(nestedNames[i]!));
        return Object.isFrozen(v) ? frozenJson(v, () => messagesJson(v, enc)) : messagesJson(v, enc);
      }
    }
  }

  // Fields a fragment hook may replace (see toHubbleJsonWithFragments); only a Flow has them.
  const fragmentable = fields.map((f) => msg === "Flow" && FRAGMENT_FIELDS.has(f.name));
  function emit(i: number, v: unknown): string | undefined {
    const s = value(i, v);
    if (s === undefined || fragmentHook === undefined || !fragmentable[i]) return s;
    return fragmentHook(fields[i]!.name, v, s);
  }

  /** Any key order, and aliases (read only where the proto name is absent, as import.ts accepts both). */
  function encodeSlotted(obj: Record<string, unknown>): string {
    const slots: unknown[] = new Array(2 * n);
    for (const k in obj) {
      const slot = slotOf.get(k);
      if (slot !== undefined) slots[slot] = obj[k];
    }
    let out = "";
    for (let i = 0; i < n; i++) {
      let v = slots[i];
      if (v === undefined) v = slots[n + i];
      if (v === undefined || v === null) continue;
      const s = emit(i, v);
      if (s !== undefined) out += (out === "" ? firstKeys[i] : nextKeys[i]) + s;
    }
    return out === "" ? "{}" : out + "}";
  }

  // Builders and Hubble's own JSON set fields in declaration order with proto names, so one pass can
  // emit as it goes; any other object starts over in encodeSlotted.
  return function encodeFields(obj) {
    let out = "";
    let last = -1;
    for (const k in obj) {
      const i = slotOf.get(k);
      if (i === undefined) continue;
      if (i <= last || i >= n) return encodeSlotted(obj);
      last = i;
      const v = obj[k];
      if (v === undefined || v === null) continue;
      const s = emit(i, v);
      if (s !== undefined) out += (out === "" ? firstKeys[i] : nextKeys[i]) + s;
    }
    return out === "" ? "{}" : out + "}";
  };
}

/** Encodes `obj` as message `msg` in declaration order; unknown keys are dropped. */
export function encodeMessage(msg: string, obj: Record<string, unknown>): string {
  return messageEncoder(msg)(obj);
}

let encodeEnvelope: MessageEncoder | undefined;

/** One line of `hubble observe -o json` (without the trailing newline). */
export function toHubbleJson(envelope: FlowEnvelope | LostEventsEnvelope | Record<string, unknown>): string {
  return (encodeEnvelope ??= messageEncoder("GetFlowsResponse"))(envelope as Record<string, unknown>);
}

/**
 * toHubbleJson, except that the value of each FRAGMENT_FIELDS field of the flow is replaced by what
 * `hook` returns for it (the store prints a reference to a shared copy). Everything else is identical.
 */
export function toHubbleJsonWithFragments(envelope: FlowEnvelope | Record<string, unknown>, hook: FragmentHook): string {
  const prev = fragmentHook;
  fragmentHook = hook;
  try {
    return toHubbleJson(envelope);
  } finally {
    fragmentHook = prev;
  }
}
