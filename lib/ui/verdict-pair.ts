// Cilium reports a policy drop twice: a drop event (type 1, reason 181 or 133) that names no policy,
// and a policy-verdict event (type 5) for the same packet that Hubble's correlation fills with
// *_denied_by. The details panel of the drop shows the policies from its policy-verdict twin.
import type { StoredFlow } from "../api-types";
import type { Flow } from "../flow/types";

const POLICY_VERDICT = 5;
/** The two events of one packet are emitted together; anything further apart is another packet. */
const MAX_SKEW_MS = 1000;

function ports(f: Flow): string {
  const l4 = f.l4;
  const p = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  if (p) return `${p.source_port ?? ""}>${p.destination_port ?? ""}`;
  const icmp = l4?.ICMPv4 ?? l4?.ICMPv6;
  return icmp ? `icmp${icmp.type ?? ""}` : "";
}

/** Whether `cand` is the policy-verdict event for the same packet as the drop `drop`. */
export function isPolicyVerdictTwin(drop: Flow, cand: Flow): boolean {
  if (cand === drop || cand.event_type?.type !== POLICY_VERDICT || drop.event_type?.type === POLICY_VERDICT) return false;
  if (cand.verdict !== drop.verdict) return false;
  if (cand.IP?.source !== drop.IP?.source || cand.IP?.destination !== drop.IP?.destination) return false;
  if (ports(cand) !== ports(drop)) return false;
  const skew = Math.abs(Date.parse(cand.time ?? "") - Date.parse(drop.time ?? ""));
  return Number.isFinite(skew) && skew <= MAX_SKEW_MS;
}

/** Stored flow ids around `id` to look through (the twin is written right before or after the drop). */
export function neighbourCursor(id: string, span = 3): string | undefined {
  return /^\d+$/.test(id) ? String(BigInt(id) + BigInt(span) + 1n) : undefined;
}

export function findTwin(drop: StoredFlow, candidates: Iterable<StoredFlow>): StoredFlow | undefined {
  for (const c of candidates) if (c.id !== drop.id && isPolicyVerdictTwin(drop.flow, c.flow)) return c;
  return undefined;
}
