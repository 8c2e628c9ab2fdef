// Numeric ↔ name tables for the enums a flow carries, from flow.proto and pkg/monitor/api/types.go.
import { DROP_REASONS } from "./drop-reasons";
import type { TraceObservationPoint, Verdict } from "./types";

export const DropReason = {
  POLICY_DENIED: 133,
  POLICY_DENY: 181,
  AUTH_REQUIRED: 189,
} as const;

const dropByCode = new Map<number, { name: string; text: string }>();
const dropByName = new Map<string, number>();
for (const [code, name, text] of DROP_REASONS) {
  dropByCode.set(code, { name, text });
  dropByName.set(name, code);
}

export function dropReasonName(code: number): string {
  return dropByCode.get(code)?.name ?? "DROP_REASON_UNKNOWN";
}
export function dropReasonText(code: number): string {
  return dropByCode.get(code)?.text ?? `Unknown drop reason ${code}`;
}
export function dropReasonCode(name: string): number | undefined {
  return dropByName.get(name);
}
export const DROP_REASON_NAMES: readonly string[] = DROP_REASONS.map((r) => r[1]);

/** Cilium monitor message types (CiliumEventType.type). */
export const EventType = {
  DROP: 1,
  DEBUG: 2,
  CAPTURE: 3,
  TRACE: 4,
  POLICY_VERDICT: 5,
  TRACE_SOCK: 7,
  L7: 129,
  AGENT: 130,
} as const;

/** `hubble observe --type` names for event types. */
export const EVENT_TYPE_NAMES: Record<string, number> = {
  drop: 1,
  debug: 2,
  capture: 3,
  trace: 4,
  "policy-verdict": 5,
  "trace-sock": 7,
  recorder: 8,
  l7: 129,
  agent: 130,
};

export const VERDICTS: readonly Verdict[] = [
  "VERDICT_UNKNOWN",
  "FORWARDED",
  "DROPPED",
  "ERROR",
  "AUDIT",
  "REDIRECTED",
  "TRACED",
  "TRANSLATED",
];

/** policy_match_type values and their String() forms. */
export const POLICY_MATCH_TYPE_NAMES = ["none", "L3-Only", "L3-L4", "L4-Only", "all", "L3-Proto", "Proto-Only"] as const;
export const PolicyMatchType = {
  NONE: 0,
  L3_ONLY: 1,
  L3_L4: 2,
  L4_ONLY: 3,
  ALL: 4,
  L3_PROTO: 5,
  PROTO_ONLY: 6,
} as const;

/** datapath observation point number (event_type.sub_type for trace events) → proto enum name. */
export const TRACE_OBSERVATION_POINTS: Record<number, TraceObservationPoint> = {
  0: "TO_ENDPOINT",
  1: "TO_PROXY",
  2: "TO_HOST",
  3: "TO_STACK",
  4: "TO_OVERLAY",
  5: "FROM_ENDPOINT",
  6: "FROM_PROXY",
  7: "FROM_HOST",
  8: "FROM_STACK",
  9: "FROM_OVERLAY",
  10: "FROM_NETWORK",
  11: "TO_NETWORK",
  12: "FROM_CRYPTO",
  13: "TO_CRYPTO",
};

/** Reserved security identities (pkg/identity/numericidentity.go). */
export const ReservedIdentity = {
  UNKNOWN: 0,
  HOST: 1,
  WORLD: 2,
  UNMANAGED: 3,
  HEALTH: 4,
  INIT: 5,
  REMOTE_NODE: 6,
  KUBE_APISERVER: 7,
  INGRESS: 8,
  WORLD_IPV4: 9,
  WORLD_IPV6: 10,
} as const;

export const RESERVED_IDENTITY_NAMES: Record<number, string> = {
  1: "host",
  2: "world",
  3: "unmanaged",
  4: "health",
  5: "init",
  6: "remote-node",
  7: "kube-apiserver",
  8: "ingress",
  9: "world-ipv4",
  10: "world-ipv6",
  11: "overlay-to-encrypt",
};
