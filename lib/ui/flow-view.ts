// How a flow is shown in the table, the details panel and the map: short, human labels derived from
// Hubble's record. Pure functions so the table can compute them for 100k rows and tests can pin them.
import { derivedFrom } from "../flow/derived-policy";
import { visibleName } from "./visible-text";
import type { Endpoint, Flow, FlowscopeExtension, Policy } from "../flow/types";
import { RESERVED_IDENTITY_NAMES, dropReasonName, dropReasonText } from "../flow/enums";

export type VerdictClass = "forwarded" | "dropped" | "audit" | "error" | "other";

export function verdictClass(verdict: string | undefined): VerdictClass {
  switch (verdict) {
    case "FORWARDED":
    case "REDIRECTED":
    case "TRACED":
    case "TRANSLATED":
      return "forwarded";
    case "DROPPED":
      return "dropped";
    case "AUDIT":
      return "audit";
    case "ERROR":
      return "error";
    default:
      return "other";
  }
}

const APP_LABEL_KEYS = ["app", "app.kubernetes.io/name", "k8s-app", "name", "functionname"];

/** The app name from labels, Hubble UI style: `k8s:app=frontend` → "frontend". */
export function appLabel(labels: readonly string[] | undefined): string | undefined {
  if (!labels) return undefined;
  for (const key of APP_LABEL_KEYS) {
    for (const l of labels) {
      const bare = l.startsWith("k8s:") ? l.slice(4) : l;
      if (bare.startsWith(key + "=")) return bare.slice(key.length + 1);
    }
  }
  return undefined;
}

export function reservedName(ep: Endpoint | undefined): string | undefined {
  if (!ep) return undefined;
  for (const l of ep.labels ?? []) if (l.startsWith("reserved:")) return l.slice("reserved:".length);
  if (ep.identity !== undefined && ep.identity > 0 && ep.identity < 256) return RESERVED_IDENTITY_NAMES[ep.identity];
  return undefined;
}

/** "ns/pod", else a reserved name, else a DNS name, else the IP. */
export function endpointLabel(ep: Endpoint | undefined, names: readonly string[] | undefined, ip: string | undefined): string {
  // every one of these is a name (pod, namespace, DNS name, reserved identity) or an address: any
  // character outside ASCII in one is shown escaped
  return visibleName(endpointName(ep, names, ip));
}

function endpointName(ep: Endpoint | undefined, names: readonly string[] | undefined, ip: string | undefined): string {
  if (ep?.pod_name) return ep.namespace ? `${ep.namespace}/${ep.pod_name}` : ep.pod_name;
  if (names && names.length > 0) return names[0]!;
  const reserved = reservedName(ep);
  if (reserved && reserved !== "world" && !reserved.startsWith("world-")) return reserved;
  if (ip) return ip;
  return reserved ?? (ep?.identity !== undefined ? `ID:${ep.identity}` : "unknown");
}

export function sourceLabel(f: Flow): string {
  return endpointLabel(f.source, f.source_names, f.IP?.source);
}
export function destinationLabel(f: Flow): string {
  return endpointLabel(f.destination, f.destination_names, f.IP?.destination);
}

/** "ID:123 (frontend)" / "world" — what Hubble shows as the identity. */
export function identityLabel(ep: Endpoint | undefined): string {
  if (!ep || ep.identity === undefined) return "";
  const reserved = reservedName(ep);
  if (reserved && ep.identity < 256) return `${reserved} (${ep.identity})`;
  const app = appLabel(ep.labels);
  return app ? `${ep.identity} (${app})` : String(ep.identity);
}

export function destinationPort(f: Flow): number | undefined {
  const l4 = f.l4;
  return l4?.TCP?.destination_port ?? l4?.UDP?.destination_port ?? l4?.SCTP?.destination_port;
}

export function l4Protocol(f: Flow): string {
  const l4 = f.l4;
  if (!l4) return "";
  if (l4.TCP) return "TCP";
  if (l4.UDP) return "UDP";
  if (l4.SCTP) return "SCTP";
  if (l4.ICMPv4) return "ICMPv4";
  if (l4.ICMPv6) return "ICMPv6";
  if (l4.VRRP) return "VRRP";
  if (l4.IGMP) return "IGMP";
  return "";
}

/** "80/TCP", "ICMPv4", "" */
export function portProtocol(f: Flow): string {
  const proto = l4Protocol(f);
  const port = destinationPort(f);
  if (port !== undefined && port !== 0) return `${port}/${proto}`;
  return proto;
}

export function l7Protocol(f: Flow): string | undefined {
  const l7 = f.l7;
  if (!l7) return undefined;
  if (l7.http) return l7.http.protocol?.toUpperCase().startsWith("HTTP/2") && isGrpc(l7.http) ? "gRPC" : "HTTP";
  if (l7.dns) return "DNS";
  if (l7.kafka) return "Kafka";
  return undefined;
}

function isGrpc(h: NonNullable<NonNullable<Flow["l7"]>["http"]>): boolean {
  return (h.headers ?? []).some((x) => x.key.toLowerCase() === "content-type" && x.value.startsWith("application/grpc"));
}

export function latencyMs(f: Flow): number | undefined {
  const ns = f.l7?.latency_ns;
  if (!ns) return undefined;
  const n = Number(ns);
  return Number.isFinite(n) && n > 0 ? n / 1e6 : undefined;
}

function urlPath(url: string): string {
  // Show the path only; the host is already in the destination column.
  const m = /^[a-z]+:\/\/[^/]*(\/.*)?$/i.exec(url);
  return m ? m[1] ?? "/" : url;
}

/** "→ GET /api 200 12ms", "→ DNS api.github.com. A", "Kafka produce orders" */
export function l7Summary(f: Flow): string {
  const l7 = f.l7;
  if (!l7) return "";
  const arrow = l7.type === "RESPONSE" ? "← " : l7.type === "REQUEST" ? "→ " : "";
  if (l7.http) {
    const h = l7.http;
    const parts = [h.method, h.code ? String(h.code) : undefined, h.url ? urlPath(h.url) : undefined];
    const lat = latencyMs(f);
    if (lat !== undefined) parts.push(`${lat < 10 ? lat.toFixed(1) : Math.round(lat)}ms`);
    return arrow + parts.filter(Boolean).join(" ");
  }
  if (l7.dns) {
    const d = l7.dns;
    const parts = ["DNS", d.query === undefined ? undefined : visibleName(d.query), (d.qtypes ?? []).join(",")];
    if (l7.type === "RESPONSE") {
      if (d.rcode) parts.push(`rcode ${d.rcode}`);
      else if (d.ips?.length) parts.push(d.ips.join(","));
    }
    return arrow + parts.filter(Boolean).join(" ");
  }
  if (l7.kafka) {
    const k = l7.kafka;
    return arrow + ["Kafka", k.api_key, k.topic, k.error_code ? `error ${k.error_code}` : undefined].filter(Boolean).join(" ");
  }
  return "";
}

export function dropReasonLabel(f: Flow): string {
  if (f.verdict !== "DROPPED" && f.verdict !== "ERROR") return "";
  if (f.drop_reason_desc && f.drop_reason_desc !== "DROP_REASON_UNKNOWN") return f.drop_reason_desc;
  if (f.drop_reason) return dropReasonName(f.drop_reason);
  return "";
}

export function dropReasonDescription(f: Flow): string {
  if (f.drop_reason) return dropReasonText(f.drop_reason);
  return "";
}

export function extensionOf(f: Flow): FlowscopeExtension | undefined {
  const ext = f.extensions as FlowscopeExtension | undefined;
  if (ext && typeof ext === "object" && ext["@type"] === "type.googleapis.com/flowscope.v1.FlowDecision") return ext;
  return undefined;
}

export type DecisionSource =
  | "ingress_allowed_by"
  | "egress_allowed_by"
  | "ingress_denied_by"
  | "egress_denied_by"
  | "default_deny_by"
  | "denied_by"
  | "l7_decided_by"
  | "l7_allow_all_by";

export interface Decision {
  /** deciding policies, most specific first */
  policies: { policy: Policy; via: DecisionSource }[];
  rule?: string;
  explanation: string[];
  /** true when the verdict came from default deny (no rule matched) */
  defaultDeny: boolean;
}

/**
 * Which policies decided this flow. Hubble names policies only in *_allowed_by / *_denied_by; a
 * default-deny drop (133) names none, so Flowscope's extension supplies the policies that put the
 * endpoint into default deny, and for L7 records the policies whose L7 rules applied.
 */
export function decisionOf(f: Flow): Decision {
  const ext = extensionOf(f);
  const out: Decision["policies"] = [];
  const dir = f.traffic_direction;
  const push = (via: DecisionSource, list: Policy[] | undefined) => {
    for (const p of list ?? []) out.push({ policy: p, via });
  };
  push("l7_decided_by", ext?.l7_decided_by);
  push("l7_allow_all_by", ext?.l7_allow_all_by);
  const sides: ["ingress" | "egress", Policy[] | undefined, Policy[] | undefined][] = [
    ["ingress", f.ingress_denied_by, f.ingress_allowed_by],
    ["egress", f.egress_denied_by, f.egress_allowed_by],
  ];
  // The flow's own direction first: that is the side Cilium correlated.
  if (dir === "EGRESS") sides.reverse();
  for (const [side, denied, allowed] of sides) {
    push(`${side}_denied_by` as DecisionSource, denied);
    push(`${side}_allowed_by` as DecisionSource, allowed);
  }
  // a deny-rule drop event: Flowscope's extension names what its policy-verdict twin's *_denied_by does
  push("denied_by", ext?.denied_by);
  push("default_deny_by", ext?.default_deny_by);
  const defaultDeny = (ext?.default_deny_by?.length ?? 0) > 0 && f.verdict === "DROPPED";
  return { policies: out, rule: ext?.rule, explanation: ext?.explanation ?? [], defaultDeny };
}

/**
 * Whether the proxy refused the request of this L7 record. A refused request's record is DROPPED; the
 * response to it (the proxy's own 403, or a Kafka/DNS refusal) is FORWARDED like any answer, and
 * carries the decision with the refusal's explanation and no matching rule.
 */
export function l7Refused(f: Flow, d: Pick<Decision, "rule" | "explanation">): boolean {
  if (f.Type !== "L7") return false;
  if (f.verdict === "DROPPED") return true;
  return f.l7?.type === "RESPONSE" && d.rule === undefined && d.explanation.length > 0;
}

export function policyKey(p: Policy): string {
  return `${p.kind ?? "CiliumNetworkPolicy"}/${p.namespace ?? ""}/${p.name ?? ""}`;
}

/** "CNP web/allow-frontend" — short, for table cells */
export function policyShort(p: Policy): string {
  const derived = derivedFrom(p);
  if (derived) return `implicit ${visibleName(derived)}`;
  const kind = KIND_ABBREV[p.kind ?? ""] ?? p.kind ?? "";
  // names: a lookalike character in one is shown escaped (see visibleName)
  return visibleName(`${kind ? kind + " " : ""}${p.namespace ? p.namespace + "/" : ""}${p.name ?? "?"}`);
}

const KIND_ABBREV: Record<string, string> = {
  CiliumNetworkPolicy: "CNP",
  CiliumClusterwideNetworkPolicy: "CCNP",
  NetworkPolicy: "KNP",
};

/** One short text naming the deciding policy, or "default deny (…)" for 133 drops. */
export function decidingPolicyLabel(f: Flow): string {
  const d = decisionOf(f);
  const first = d.policies[0];
  if (!first) return "";
  const extra = d.policies.length > 1 ? ` +${d.policies.length - 1}` : "";
  if (first.via === "default_deny_by") return `default deny (${policyShort(first.policy)}${extra})`;
  return policyShort(first.policy) + extra;
}

export function directionLabel(f: Flow): string {
  const d = f.traffic_direction;
  if (d === "INGRESS") return "ingress";
  if (d === "EGRESS") return "egress";
  return "";
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Local "HH:MM:SS.mmm" — the column needs precision, not the date; the ISO string is the tooltip. */
/** the TCP flags set on the packet, in the order Hubble lists them ("SYN, ACK", "ACK, PSH") */
export function tcpFlagsLabel(f: Flow): string {
  const fl = f.l4?.TCP?.flags;
  if (!fl) return "";
  const out: string[] = [];
  for (const k of TCP_FLAG_ORDER) if (fl[k]) out.push(k);
  return out.join(", ");
}
const TCP_FLAG_ORDER = ["SYN", "ACK", "RST", "FIN", "PSH", "URG", "ECE", "CWR", "NS"] as const;

export function timeShort(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * The zone every time on the page is shown in (the browser's), as its offset: "UTC+01:00". Times in
 * URLs and exports stay in UTC (RFC 3339), so the page names the zone where it shows local ones.
 */
export function localZone(at = new Date()): string {
  const off = -at.getTimezoneOffset();
  const abs = Math.abs(off);
  return `UTC${off < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "2026-11-27 09:00:00" in the browser's zone (see localZone) */
export function localDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A table row's time: the time of day for today's flows, with the date in front for any other day
 * (imported exports span years), cut to what fits the column. The cell's title has it whole.
 */
export function timeCell(iso: string | undefined, now = new Date()): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameYear = d.getFullYear() === now.getFullYear();
  if (sameYear && d.getMonth() === now.getMonth() && d.getDate() === now.getDate()) return timeShort(iso);
  const md = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return sameYear ? `${md} ${hm}:${pad(d.getSeconds())}` : `${d.getFullYear()}-${md} ${hm}`;
}

export function namespacesOf(f: Flow): string[] {
  const out: string[] = [];
  if (f.source?.namespace) out.push(f.source.namespace);
  if (f.destination?.namespace && f.destination.namespace !== f.source?.namespace) out.push(f.destination.namespace);
  return out;
}
