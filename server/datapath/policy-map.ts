// The compiled policy map of one endpoint in one direction, shaped like Cilium's BPF policy map:
// entries keyed (identity | ANY, protocol | ANY, port range | ANY). A lookup is at most four hash
// probes (specific/ANY identity × specific/ANY protocol) plus a short range list per probe; it never
// walks the policy rules.
import type { L7Grant } from "./l7/proxy-types";
import type { PeerRule, Rule } from "./policy/types";

export const PROTO_ANY = 0;
export const PROTO_TCP = 1;
export const PROTO_UDP = 2;
export const PROTO_SCTP = 3;
export const PROTO_ICMP = 4;
export const PROTO_ICMPV6 = 5;
export const PROTO_NAMES = ["ANY", "TCP", "UDP", "SCTP", "ICMP", "ICMPv6"] as const;
/** identity 0 never names a real peer, so it stands for "any identity" */
export const ANY_IDENTITY = 0;

export interface RuleRef {
  rule: Rule;
  peerRule: PeerRule;
  /** the most precise path inside the policy, e.g. "spec.ingress[0].toPorts[0].ports[1]" */
  path: string;
}

export interface MapEntry {
  identity: number;
  proto: number;
  /** [portLo, portHi]; wildcardPort means every port of the protocol (port 0 / L3-only) */
  portLo: number;
  portHi: number;
  wildcardPort: boolean;
  deny: boolean;
  allowRules: RuleRef[];
  denyRules: RuleRef[];
  /** a contributing allow rule had no L7 rules for this traffic: L7 allow-all (§2.5) */
  l7AllowAll: boolean;
  l7Grants: L7Grant[];
  // counters read by the inspection API; plain fields so the hot path stays a few stores
  packets: number;
  bytes: number;
  lastHit: number;
}

interface PortTable {
  exact: Map<number, MapEntry> | null;
  ranges: MapEntry[] | null;
  wildcard: MapEntry | null;
}

export interface L7Port {
  proto: number;
  lo: number;
  hi: number;
  kind: string;
}

export type MatchType = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface LookupResult {
  /** winning entry (deny if any deny covers the flow), or null when nothing covers it */
  entry: MapEntry | null;
  matchType: MatchType;
  /** every entry covering the flow, most specific first */
  candidates: MapEntry[];
}

function portPrefixLen(e: MapEntry, port: number): number {
  if (e.wildcardPort) return 0;
  if (e.portLo === e.portHi) return 16;
  // Cilium expands ranges into port/mask prefixes; the matching prefix is the largest aligned block
  let bits = 0;
  while (bits < 16) {
    const size = 2 ** (bits + 1);
    const base = port - (port % size);
    if (base < e.portLo || base + size - 1 > e.portHi) break;
    bits++;
  }
  return 16 - bits;
}

function specificity(e: MapEntry, port: number): number {
  // proto/port prefix length first, identity breaks ties (bpf/lib/policy.h precedence)
  return ((e.proto === PROTO_ANY ? 0 : 8) + portPrefixLen(e, port)) * 2 + (e.identity === ANY_IDENTITY ? 0 : 1);
}

export function matchTypeOf(e: MapEntry): MatchType {
  const specificId = e.identity !== ANY_IDENTITY;
  if (e.proto !== PROTO_ANY && !e.wildcardPort) return specificId ? 2 : 3;
  if (e.proto !== PROTO_ANY) return specificId ? 5 : 6;
  return specificId ? 1 : 4;
}

export class PolicyMapDir {
  private readonly tables = new Map<number, PortTable>();
  private readonly entries: MapEntry[] = [];
  l7Ports: L7Port[] = [];
  /** the direction is default-deny */
  enforced = false;
  /** policy enforcement is off entirely (mode never) */
  disabled = false;
  /** rules that put this endpoint into default deny in this direction */
  defaultDenyBy: Rule[] = [];
  /** rules selecting the endpoint that have rules in this direction (for explanations) */
  rules: Rule[] = [];

  get size(): number {
    return this.entries.length;
  }

  all(): readonly MapEntry[] {
    return this.entries;
  }

  add(identity: number, proto: number, lo: number, hi: number, wildcardPort: boolean, deny: boolean, ref: RuleRef, l7: L7Grant | null): void {
    const key = identity * 8 + proto;
    let t = this.tables.get(key);
    if (!t) this.tables.set(key, (t = { exact: null, ranges: null, wildcard: null }));
    let e: MapEntry | undefined;
    if (wildcardPort) e = t.wildcard ?? undefined;
    else if (lo === hi) e = t.exact?.get(lo);
    else e = t.ranges?.find((r) => r.portLo === lo && r.portHi === hi);
    if (!e) {
      e = {
        identity, proto, portLo: wildcardPort ? 0 : lo, portHi: wildcardPort ? 65535 : hi, wildcardPort,
        deny: false, allowRules: [], denyRules: [], l7AllowAll: false, l7Grants: [], packets: 0, bytes: 0, lastHit: 0,
      };
      if (wildcardPort) t.wildcard = e;
      else if (lo === hi) (t.exact ??= new Map()).set(lo, e);
      else (t.ranges ??= []).push(e);
      this.entries.push(e);
    }
    if (deny) {
      e.deny = true;
      e.denyRules.push(ref);
    } else {
      e.allowRules.push(ref);
      if (l7) e.l7Grants.push(l7);
      else e.l7AllowAll = true;
    }
  }

  /** Lookup per §2.4: a deny covering the flow wins; otherwise the most specific allow. */
  lookup(identity: number, proto: number, port: number): LookupResult {
    const cands: MapEntry[] = [];
    this.probe(identity * 8 + proto, port, cands, true);
    this.probe(identity * 8, port, cands, false);
    this.probe(proto, port, cands, true);
    this.probe(0, port, cands, false);
    if (cands.length === 0) return { entry: null, matchType: 0, candidates: cands };
    if (cands.length > 1) cands.sort((a, b) => specificity(b, port) - specificity(a, port));
    let win = cands[0];
    if (!win.deny) for (const c of cands) if (c.deny) { win = c; break; }
    return { entry: win, matchType: matchTypeOf(win), candidates: cands };
  }

  private probe(key: number, port: number, out: MapEntry[], withPorts: boolean): void {
    const t = this.tables.get(key);
    if (!t) return;
    if (withPorts) {
      const e = t.exact?.get(port);
      if (e) out.push(e);
      if (t.ranges) for (const r of t.ranges) if (port >= r.portLo && port <= r.portHi) out.push(r);
    }
    if (t.wildcard) out.push(t.wildcard);
  }

  /** is (proto, port) a port with L7 rules on this side? then allowed traffic goes to the proxy */
  l7PortFor(proto: number, port: number): L7Port | undefined {
    for (const p of this.l7Ports) if (p.proto === proto && port >= p.lo && port <= p.hi) return p;
    return undefined;
  }
}
