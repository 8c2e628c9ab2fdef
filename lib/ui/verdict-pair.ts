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

/**
 * The /api/flows query for the drop's policy-verdict twin: same addresses, ports and verdict, within
 * MAX_SKEW_MS. Under load other flows are stored between the two, so their ids need not be close.
 */
export function twinQuery(drop: Flow): string | undefined {
  const t = Date.parse(drop.time ?? "");
  const src = drop.IP?.source;
  const dst = drop.IP?.destination;
  if (!Number.isFinite(t) || !src || !dst) return undefined;
  const q = new URLSearchParams({ type: "policy-verdict", verdict: drop.verdict ?? "DROPPED", from_ip: src, to_ip: dst });
  const l4 = drop.l4?.TCP ?? drop.l4?.UDP ?? drop.l4?.SCTP;
  if (l4?.source_port !== undefined) q.set("from_port", String(l4.source_port));
  if (l4?.destination_port !== undefined) q.set("to_port", String(l4.destination_port));
  q.set("since", new Date(t - MAX_SKEW_MS).toISOString());
  q.set("until", new Date(t + MAX_SKEW_MS).toISOString());
  q.set("limit", "50");
  return q.toString();
}

/** The policy-verdict twin among `candidates`: the nearest in time if the same packet was retried. */
export function findTwin(drop: StoredFlow, candidates: Iterable<StoredFlow>): StoredFlow | undefined {
  const t = Date.parse(drop.flow.time ?? "");
  let best: StoredFlow | undefined;
  let bestSkew = Infinity;
  for (const c of candidates) {
    if (c.id === drop.id || !isPolicyVerdictTwin(drop.flow, c.flow)) continue;
    const skew = Math.abs(Date.parse(c.flow.time ?? "") - t);
    if (skew < bestSkew) [best, bestSkew] = [c, skew];
  }
  return best;
}
