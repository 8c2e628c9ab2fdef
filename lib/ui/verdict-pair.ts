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

// A trace event of an open connection names no policy either: Cilium sends a policy-verdict event for a
// connection's first packet (and for drops) only. Later packets in its direction are still checked
// against policy, and replies pass on connection tracking; the policies that let them through are those
// of the verdicts that opened the connection: one per side enforced.

/** how long before a later packet its connection may have opened (longer-lived ones are not paired) */
const MAX_CONNECTION_MS = 10 * 60_000;

/** is_reply, or the deprecated bool older exports carry alone */
function isReply(f: Flow): boolean {
  return (f.is_reply ?? f.reply) === true;
}

/** the connection a packet belongs to, in its opening direction: addresses and ports of the first packet */
function opening(f: Flow): { src?: string; dst?: string; ports: string } {
  const l4 = f.l4?.TCP ?? f.l4?.UDP ?? f.l4?.SCTP;
  if (!isReply(f)) return { src: f.IP?.source, dst: f.IP?.destination, ports: ports(f) };
  return { src: f.IP?.destination, dst: f.IP?.source, ports: l4 ? `${l4.destination_port ?? ""}>${l4.source_port ?? ""}` : "" };
}

/** Whether `cand` is a policy-verdict event that let through the opening of `packet`'s connection. */
export function isConnectionVerdict(packet: Flow, cand: Flow): boolean {
  if (packet.event_type?.type !== 4 || cand.event_type?.type !== POLICY_VERDICT) return false;
  // let through: to the peer, to an L7 proxy (REDIRECTED), or past a policy in audit mode
  if (cand.verdict !== "FORWARDED" && cand.verdict !== "REDIRECTED" && cand.verdict !== "AUDIT") return false;
  const o = opening(packet);
  if (!o.ports || cand.IP?.source !== o.src || cand.IP?.destination !== o.dst || ports(cand) !== o.ports) return false;
  const before = Date.parse(packet.time ?? "") - Date.parse(cand.time ?? "");
  return Number.isFinite(before) && before >= -MAX_SKEW_MS && before <= MAX_CONNECTION_MS;
}

/** The /api/flows query for the policy-verdict events that opened a traced packet's connection. */
export function connectionQuery(packet: Flow): string | undefined {
  const t = Date.parse(packet.time ?? "");
  const o = opening(packet);
  const l4 = packet.l4?.TCP ?? packet.l4?.UDP ?? packet.l4?.SCTP;
  if (packet.event_type?.type !== 4 || !Number.isFinite(t) || !o.src || !o.dst || !l4) return undefined;
  const q = new URLSearchParams({ type: "policy-verdict", from_ip: o.src, to_ip: o.dst });
  q.append("verdict", "FORWARDED");
  q.append("verdict", "REDIRECTED");
  q.append("verdict", "AUDIT");
  const [sport, dport] = isReply(packet) ? [l4.destination_port, l4.source_port] : [l4.source_port, l4.destination_port];
  if (sport !== undefined) q.set("from_port", String(sport));
  if (dport !== undefined) q.set("to_port", String(dport));
  q.set("since", new Date(t - MAX_CONNECTION_MS).toISOString());
  q.set("until", new Date(t + MAX_SKEW_MS).toISOString());
  q.set("limit", "50");
  return q.toString();
}

/**
 * The policy-verdict events that opened `packet`'s connection among `candidates`: the one nearest in
 * time (a port pair is reused by later connections; isConnectionVerdict allows MAX_SKEW_MS after the
 * packet, for clocks that differ between nodes, and TCP's TIME_WAIT keeps a pair from being reused that
 * soon), and with it the other side's verdict of the same first packet, taken within MAX_SKEW_MS of it.
 * Egress first.
 */
export function findConnectionVerdicts(packet: StoredFlow, candidates: Iterable<StoredFlow>): StoredFlow[] {
  const t = Date.parse(packet.flow.time ?? "");
  const found: { c: StoredFlow; at: number }[] = [];
  for (const c of candidates) if (c.id !== packet.id && isConnectionVerdict(packet.flow, c.flow)) found.push({ c, at: Date.parse(c.flow.time ?? "") });
  let anchor: { c: StoredFlow; at: number } | undefined;
  for (const f of found) if (!anchor || Math.abs(f.at - t) < Math.abs(anchor.at - t)) anchor = f;
  if (!anchor) return [];
  const bySide = new Map<string, { c: StoredFlow; off: number }>();
  for (const f of found) {
    const off = Math.abs(f.at - anchor.at);
    if (off > MAX_SKEW_MS) continue;
    const side = f.c.flow.traffic_direction ?? "";
    const best = bySide.get(side);
    if (!best || off < best.off || f.c === anchor.c) bySide.set(side, { c: f.c, off: f.c === anchor.c ? -1 : off });
  }
  return [...bySide.entries()].sort(([a], [b]) => (a === "EGRESS" ? -1 : b === "EGRESS" ? 1 : a.localeCompare(b))).map(([, v]) => v.c);
}
