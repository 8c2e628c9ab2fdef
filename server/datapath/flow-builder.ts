// Hubble flow records. Objects are created with keys in flow.proto declaration order so that
// JSON.stringify prints them the way `hubble observe -o json` does; zero values are left out.
import type { AuthType, Endpoint, Ethernet, Flow, FlowEnvelope, FlowscopeExtension, Layer4, Layer7, NetworkInterface, Policy, TrafficDirection, Verdict } from "../../lib/flow/types";
import { dropReasonName } from "../../lib/flow/enums";
import { randomBytes } from "node:crypto";
import { ICMPV4_NAME_BY_TYPE } from "./policy/icmp-types";

export interface Packet {
  srcIp: string;
  dstIp: string;
  proto: "TCP" | "UDP" | "SCTP" | "ICMP";
  sport: number;
  dport: number;
  icmpType: number;
}

export function formatTime(ms: number, extraNs: number): string {
  const d = new Date(ms);
  const iso = d.toISOString(); // 2024-01-01T00:00:00.123Z
  const frac = String((ms % 1000 + 1000) % 1000).padStart(3, "0") + String(extraNs).padStart(6, "0");
  return `${iso.slice(0, 19)}.${frac}Z`;
}

export function layer4(p: Packet, reply: boolean, flags: { SYN?: boolean; ACK?: boolean } | null): Layer4 {
  const sport = reply ? p.dport : p.sport;
  const dport = reply ? p.sport : p.dport;
  switch (p.proto) {
    case "TCP":
      return { TCP: flags ? { source_port: sport, destination_port: dport, flags } : { source_port: sport, destination_port: dport } };
    case "UDP":
      return { UDP: { source_port: sport, destination_port: dport } };
    case "SCTP":
      return { SCTP: { source_port: sport, destination_port: dport } };
    case "ICMP": {
      const type = reply && p.icmpType === 8 ? 0 : p.icmpType;
      return { ICMPv4: type ? { type } : {} };
    }
  }
}

export function l4Summary(p: Packet, reply: boolean): string {
  switch (p.proto) {
    case "TCP":
      return reply ? "TCP Flags: SYN, ACK" : "TCP Flags: SYN";
    case "ICMP": {
      const type = reply && p.icmpType === 8 ? 0 : p.icmpType;
      return `ICMPv4 ${ICMPV4_NAME_BY_TYPE[type] ?? `Type ${type}`}`;
    }
    default:
      return p.proto;
  }
}

export interface FlowParts {
  time: string;
  verdict: Verdict;
  dropReason?: number;
  /**
   * the BPF program that dropped the packet (drop events; Hubble fills it since Cilium 1.17, PR #34616).
   * The line of its source is left out: the simulator has no BPF source to point into.
   */
  dropFile?: string;
  /** set on policy-verdict events whose entry demands mutual authentication */
  authType?: AuthType;
  /** the packet's MACs where a BPF program saw it (none on L7 records) */
  ethernet?: Ethernet;
  /** the device a trace was taken at (to-endpoint: the pod's lxc; to-overlay: the tunnel) */
  iface?: NetworkInterface;
  srcIp: string;
  dstIp: string;
  /** the IP record, when the caller shares one between the records of a request */
  ip?: Flow["IP"];
  l4: Layer4;
  source: Endpoint;
  destination: Endpoint;
  type: "L3_L4" | "L7";
  nodeName: string;
  sourceNames?: string[];
  destinationNames?: string[];
  /** W3C trace id from the request's traceparent header (Hubble's trace_context, L7 records) */
  traceId?: string;
  l7?: Layer7;
  eventType: { type: number; sub_type?: number };
  direction: TrafficDirection;
  matchType?: number;
  traceObservationPoint?: "TO_ENDPOINT" | "TO_HOST" | "TO_STACK" | "TO_PROXY" | "TO_OVERLAY";
  /** the L7 proxy's listening port, on to-proxy traces */
  proxyPort?: number;
  isReply?: boolean;
  summary: string;
  extensions?: FlowscopeExtension;
  egressAllowedBy?: Policy[];
  ingressAllowedBy?: Policy[];
  egressDeniedBy?: Policy[];
  ingressDeniedBy?: Policy[];
  /** `log.value`s of the deciding rules (Hubble's policy_log, Cilium 1.18) */
  policyLog?: string[];
}

// Record UUIDs are version 7 (RFC 9562): a millisecond timestamp, then a counter, then random bits
// drawn once per process. They are as unique as random ones, but consecutive records get ascending
// UUIDs, so the store's uuid index grows at its right edge instead of taking a random page per insert.
const UUID_TAIL = (() => {
  const b = randomBytes(8);
  b[0] = (b[0]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString("hex");
  return `${h.slice(0, 4)}-${h.slice(4)}`;
})();
let uuidMs = 0;
let uuidSeq = 0;

export function uuidV7(): string {
  const now = Date.now();
  if (now > uuidMs) {
    uuidMs = now;
    uuidSeq = 0;
  } else if (++uuidSeq > 0xfff) {
    // more than 4,096 in one millisecond: borrow the next one, so the sequence stays ascending
    uuidMs++;
    uuidSeq = 0;
  }
  const t = uuidMs.toString(16).padStart(12, "0");
  return `${t.slice(0, 8)}-${t.slice(8)}-7${uuidSeq.toString(16).padStart(3, "0")}-${UUID_TAIL}`;
}

/** Freezes a record part the datapath shares between records (see FROZEN_JSON in lib/flow/json.ts). */
function share<T extends object>(v: T): T {
  if (!Object.isFrozen(v)) deepFreeze(v);
  return v;
}

function deepFreeze(v: object): void {
  Object.freeze(v);
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === "object" && !Object.isFrozen(x)) deepFreeze(x);
  }
}

/**
 * A pod's endpoint as records taken on other nodes show it. Hubble fills the endpoint ID and workloads
 * from the local endpoint manager only; a pod elsewhere is put together from the ipcache and its
 * identity (pkg/hubble/parser/common/endpoint.go ResolveEndpoint): identity, cluster, namespace,
 * labels and pod name.
 */
const elsewhere = new WeakMap<Endpoint, { node: string; remote: Endpoint }>();

/** Registers `local` (a pod's full endpoint, its node as records name it) and makes its remote view. */
export function localEndpoint(local: Endpoint, hubbleNode: string): Endpoint {
  const remote: Endpoint = { identity: local.identity, cluster_name: local.cluster_name, namespace: local.namespace, labels: local.labels, pod_name: local.pod_name };
  for (const k of Object.keys(remote) as (keyof Endpoint)[]) if (remote[k] === undefined) delete remote[k];
  elsewhere.set(local, { node: hubbleNode, remote });
  return local;
}

/** the endpoint as a record taken on `node` shows it */
function seenFrom(ep: Endpoint, node: string): Endpoint {
  const e = elsewhere.get(ep);
  return e === undefined || e.node === node ? ep : e.remote;
}

export function buildFlow(p: FlowParts): FlowEnvelope {
  const f: Flow = {};
  f.time = p.time;
  f.uuid = uuidV7();
  f.verdict = p.verdict;
  if (p.dropReason) f.drop_reason = p.dropReason;
  if (p.authType) f.auth_type = p.authType;
  if (p.ethernet) f.ethernet = share(p.ethernet);
  f.IP = p.ip ?? { source: p.srcIp, destination: p.dstIp, ipVersion: "IPv4" };
  f.l4 = p.l4;
  f.source = share(seenFrom(p.source, p.nodeName));
  f.destination = share(seenFrom(p.destination, p.nodeName));
  f.Type = p.type;
  f.node_name = p.nodeName;
  if (p.sourceNames?.length) f.source_names = p.sourceNames;
  if (p.destinationNames?.length) f.destination_names = p.destinationNames;
  if (p.l7) f.l7 = p.l7;
  // Hubble still fills the deprecated bool from is_reply (false, the zero value, is left out)
  if (p.isReply === true) f.reply = true;
  f.event_type = p.eventType.sub_type ? { type: p.eventType.type, sub_type: p.eventType.sub_type } : { type: p.eventType.type };
  f.traffic_direction = p.direction;
  if (p.matchType) f.policy_match_type = p.matchType;
  if (p.traceObservationPoint) f.trace_observation_point = p.traceObservationPoint;
  // A trace carries the connection-tracking result it was sent with: every simulated request opens a
  // new connection, and its replies are CT replies (Hubble derives is_reply from this reason).
  if (p.eventType.type === 4 && p.isReply !== undefined) f.trace_reason = p.isReply ? "REPLY" : "NEW";
  if (p.dropFile) f.file = { name: p.dropFile };
  if (p.dropReason) f.drop_reason_desc = dropReasonName(p.dropReason);
  if (p.isReply !== undefined) f.is_reply = p.isReply;
  if (p.iface) f.interface = share(p.iface);
  if (p.proxyPort) f.proxy_port = p.proxyPort;
  if (p.traceId) f.trace_context = { parent: { trace_id: p.traceId } };
  f.Summary = p.summary;
  if (p.extensions) f.extensions = share(p.extensions);
  if (p.egressAllowedBy?.length) f.egress_allowed_by = share(p.egressAllowedBy);
  if (p.ingressAllowedBy?.length) f.ingress_allowed_by = share(p.ingressAllowedBy);
  if (p.egressDeniedBy?.length) f.egress_denied_by = share(p.egressDeniedBy);
  if (p.ingressDeniedBy?.length) f.ingress_denied_by = share(p.ingressDeniedBy);
  if (p.policyLog?.length) f.policy_log = share(p.policyLog);
  return { flow: f, node_name: p.nodeName, time: p.time };
}

/** TCP flags of a connection's packets after the handshake, in flow.proto key order (FIN, SYN, RST, PSH, ACK) */
export type TcpFlags = { FIN?: true; SYN?: true; PSH?: true; ACK?: true };

/**
 * A later packet of a connection, traced where an earlier one was: a copy of that trace record with the
 * packet's own time, flags and summary, a new uuid, and the trace reason connection tracking gives it
 * (ESTABLISHED for the original direction, REPLY for the reply). Keys stay in the record's order.
 */
export function retraced(env: FlowEnvelope, time: string, flags: TcpFlags, summary: string): FlowEnvelope {
  const from = env.flow as Record<string, unknown>;
  const f: Record<string, unknown> = {};
  for (const k in from) {
    if (k === "time") f.time = time;
    else if (k === "uuid") f.uuid = uuidV7();
    else if (k === "l4") {
      const tcp = (from.l4 as Layer4).TCP!;
      f.l4 = { TCP: { source_port: tcp.source_port, destination_port: tcp.destination_port, flags } };
    } else if (k === "trace_reason") f.trace_reason = from.is_reply === true ? "REPLY" : "ESTABLISHED";
    else if (k === "Summary") f.Summary = summary;
    else f[k] = from[k];
  }
  return { flow: f as Flow, node_name: env.node_name, time };
}

export function extension(parts: Omit<FlowscopeExtension, "@type">): FlowscopeExtension {
  const e: FlowscopeExtension = { "@type": "type.googleapis.com/flowscope.v1.FlowDecision" };
  if (parts.default_deny_by?.length) e.default_deny_by = parts.default_deny_by;
  if (parts.denied_by?.length) e.denied_by = parts.denied_by;
  if (parts.l7_decided_by?.length) e.l7_decided_by = parts.l7_decided_by;
  if (parts.l7_allow_all_by?.length) e.l7_allow_all_by = parts.l7_allow_all_by;
  if (parts.rule) e.rule = parts.rule;
  if (parts.explanation?.length) e.explanation = parts.explanation;
  return e;
}
