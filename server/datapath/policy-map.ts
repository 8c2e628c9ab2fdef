// The compiled policy map of one endpoint in one direction, shaped like Cilium's BPF policy map:
// entries keyed (identity | ANY, protocol | ANY, port range | ANY). A lookup is at most four hash
// probes (specific/ANY identity × specific/ANY protocol) plus a short range list per probe; it never
// walks the policy rules.
import type { L7Grant } from "./l7/proxy-types";
import type { PeerRule, PolicyRecord, Rule } from "./policy/types";

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
  /** the distinct policies behind allowRules / denyRules, so counting needs no dedup per flow */
  allowPolicies: PolicyRecord[];
  denyPolicies: PolicyRecord[];
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
}

const NO_MATCH: LookupResult = Object.freeze({ entry: null, matchType: 0 }) as LookupResult;
/** the answer for ports without an exact entry, valid outside [rangeLo, rangeHi] */
interface FlatFallback {
  result: LookupResult;
  rangeLo: number;
  rangeHi: number;
}
/** precomputed answers per map at most; beyond, lookups scan the tables */
const FLATTEN_BUDGET = 1_000_000;

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

/** specificity of exact-port and wildcard entries, which does not depend on the port */
function fixedSpecificity(e: MapEntry): number {
  return ((e.proto === PROTO_ANY ? 0 : 8) + (e.wildcardPort ? 0 : 16)) * 2 + (e.identity === ANY_IDENTITY ? 0 : 1);
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

// one shared result object per entry keeps the flattened tables small: large maps are memory-bound
const RESULTS = new WeakMap<MapEntry, LookupResult>();
function resultOf(e: MapEntry): LookupResult {
  let r = RESULTS.get(e);
  if (r === undefined) RESULTS.set(e, (r = Object.freeze({ entry: e, matchType: matchTypeOf(e) })));
  return r;
}

export class PolicyMapDir {
  /**
   * identity → port tables indexed by protocol (PROTO_ANY … PROTO_ICMPV6). One hash probe finds all
   * of a peer's entries, and the ANY identity has its own slot, so a lookup costs one Map probe plus
   * array reads; large maps are memory-bound, so fewer probes is what keeps 10,000 rules fast.
   */
  private readonly byIdentity = new Map<number, (PortTable | null)[]>();
  private anyIdentity: (PortTable | null)[] | null = null;
  private readonly entries: MapEntry[] = [];
  l7Ports: L7Port[] = [];
  /** some entry is a deny: the exact-hit fast path of lookup() must then look further */
  private hasDeny = false;
  /** the direction is default-deny */
  enforced = false;
  /** policy enforcement is off entirely (mode never) */
  disabled = false;
  /** rules that put this endpoint into default deny in this direction */
  defaultDenyBy: Rule[] = [];
  /** the distinct policies of defaultDenyBy */
  defaultDenyPolicies: PolicyRecord[] = [];
  /** rules selecting the endpoint that have rules in this direction (for explanations) */
  rules: Rule[] = [];

  get size(): number {
    return this.entries.length;
  }

  all(): readonly MapEntry[] {
    return this.entries;
  }

  add(identity: number, proto: number, lo: number, hi: number, wildcardPort: boolean, deny: boolean, ref: RuleRef, l7: L7Grant | null): void {
    this.flat = null;
    let protos = identity === ANY_IDENTITY ? this.anyIdentity : this.byIdentity.get(identity);
    if (!protos) {
      protos = [null, null, null, null, null, null];
      if (identity === ANY_IDENTITY) this.anyIdentity = protos;
      else this.byIdentity.set(identity, protos);
    }
    let t = protos[proto];
    if (!t) protos[proto] = t = { exact: null, ranges: null, wildcard: null };
    let e: MapEntry | undefined;
    if (wildcardPort) e = t.wildcard ?? undefined;
    else if (lo === hi) e = t.exact?.get(lo);
    else e = t.ranges?.find((r) => r.portLo === lo && r.portHi === hi);
    if (!e) {
      e = {
        identity, proto, portLo: wildcardPort ? 0 : lo, portHi: wildcardPort ? 65535 : hi, wildcardPort,
        deny: false, allowRules: [], denyRules: [], allowPolicies: [], denyPolicies: [], l7AllowAll: false, l7Grants: [], packets: 0, bytes: 0, lastHit: 0,
      };
      if (wildcardPort) t.wildcard = e;
      else if (lo === hi) (t.exact ??= new Map()).set(lo, e);
      else (t.ranges ??= []).push(e);
      this.entries.push(e);
    }
    if (deny) {
      e.deny = true;
      this.hasDeny = true;
      e.denyRules.push(ref);
      if (!e.denyPolicies.includes(ref.rule.policy)) e.denyPolicies.push(ref.rule.policy);
    } else {
      e.allowRules.push(ref);
      if (!e.allowPolicies.includes(ref.rule.policy)) e.allowPolicies.push(ref.rule.policy);
      if (l7) e.l7Grants.push(l7);
      else e.l7AllowAll = true;
    }
  }

  /**
   * Lookup per §2.4: a deny covering the flow wins; otherwise the most specific allow. The hot path:
   * no candidate list is built, and an exact (identity, proto, port) hit in a map without denies
   * returns at once, since nothing can be more specific.
   */
  lookup(identity: number, proto: number, port: number): LookupResult {
    const flat = this.flat ?? this.flatten();
    const t = flat.get(identity) ?? this.anyFlat;
    if (t === null) return NO_MATCH;
    // ports are < 2^16 and protocols < 8, so the key stays a small integer (fast hashing)
    const r = t.get(proto * 65536 + port);
    if (r !== undefined) return r;
    const f = t.get(-1 - proto) as FlatFallback | undefined;
    if (f !== undefined && (port < f.rangeLo || port > f.rangeHi)) return f.result;
    return this.scanLookup(identity, proto, port);
  }

  /**
   * Per identity (and the ANY identity for peers without entries of their own), the final answer
   * for every exact port that appears in its tables or the ANY identity's, deny precedence and the
   * ANY-identity entries already folded in; plus, per protocol without port ranges, the answer for
   * every other port (the wildcards'). So a lookup is two probes with small-integer keys whatever
   * the number of rules; only ports inside ranges fall back to the table scan.
   */
  private flat: Map<number, Map<number, LookupResult>> | null = null;
  private anyFlat: Map<number, LookupResult> | null = null;

  private flatten(): Map<number, Map<number, LookupResult>> {
    const flat = new Map<number, Map<number, LookupResult>>();
    const any = this.anyIdentity;
    let budget = FLATTEN_BUDGET;
    const build = (identity: number, own: (PortTable | null)[] | undefined): Map<number, LookupResult> | null => {
      const t = new Map<number, LookupResult>();
      for (let proto = 0; proto < 6; proto++) {
        const ports = new Set<number>();
        own?.[proto]?.exact?.forEach((_, p) => ports.add(p));
        any?.[proto]?.exact?.forEach((_, p) => ports.add(p));
        budget -= ports.size + 1;
        if (budget < 0) return null;
        for (const p of ports) t.set(proto * 65536 + p, this.scanLookup(identity, proto, p));
        // every other port outside the port ranges sees only the wildcard entries (port -1 matches
        // no exact entry and no range); ports inside [rangeLo, rangeHi] still scan
        let rangeLo = 65536;
        let rangeHi = -1;
        for (const r of [...(own?.[proto]?.ranges ?? []), ...(any?.[proto]?.ranges ?? [])]) {
          rangeLo = Math.min(rangeLo, r.portLo);
          rangeHi = Math.max(rangeHi, r.portHi);
        }
        const fb: FlatFallback = { result: this.scanLookup(identity, proto, -1), rangeLo, rangeHi };
        t.set(-1 - proto, fb as unknown as LookupResult);
      }
      return t;
    };
    for (const [id, own] of this.byIdentity) {
      const t = build(id, own);
      if (t === null) return this.giveUpFlatten();
      flat.set(id, t);
    }
    if (any !== null) {
      const t = build(ANY_IDENTITY, undefined);
      if (t === null) return this.giveUpFlatten();
      this.anyFlat = t;
    } else this.anyFlat = null;
    return (this.flat = flat);
  }

  /** a map too large to flatten (ANY-identity ports × identities) keeps the table scan */
  private giveUpFlatten(): Map<number, Map<number, LookupResult>> {
    this.anyFlat = new Map();
    return (this.flat = new Map());
  }

  private scanLookup(identity: number, proto: number, port: number): LookupResult {
    const own = identity === ANY_IDENTITY ? undefined : this.byIdentity.get(identity);
    const any = this.anyIdentity;
    if (own === undefined && any === null) return NO_MATCH;
    if (!this.hasDeny && own !== undefined) {
      const e = own[proto]?.exact?.get(port);
      if (e !== undefined) return resultOf(e);
    }
    this.bestAny = null;
    this.bestDeny = null;
    this.bestAnySpec = -1;
    this.bestDenySpec = -1;
    if (own !== undefined) {
      this.scan(own[proto], port, true);
      this.scan(own[PROTO_ANY], port, false);
    }
    if (any !== null) {
      this.scan(any[proto], port, true);
      this.scan(any[PROTO_ANY], port, false);
    }
    const win = this.bestDeny ?? this.bestAny;
    this.bestAny = this.bestDeny = null;
    if (!win) return NO_MATCH;
    return resultOf(win);
  }

  /** every entry covering the flow, most specific first (for explanations, off the hot path) */
  candidates(identity: number, proto: number, port: number): MapEntry[] {
    const cands: MapEntry[] = [];
    this.probe(this.table(identity, proto), port, cands, true);
    this.probe(this.table(identity, PROTO_ANY), port, cands, false);
    this.probe(this.table(ANY_IDENTITY, proto), port, cands, true);
    this.probe(this.table(ANY_IDENTITY, PROTO_ANY), port, cands, false);
    if (cands.length > 1) cands.sort((a, b) => specificity(b, port) - specificity(a, port));
    return cands;
  }

  /** the entry with exactly this key, if any */
  find(identity: number, proto: number, lo: number, hi: number, wildcardPort: boolean): MapEntry | undefined {
    const t = this.table(identity, proto);
    if (!t) return undefined;
    if (wildcardPort) return t.wildcard ?? undefined;
    if (lo === hi) return t.exact?.get(lo);
    return t.ranges?.find((r) => r.portLo === lo && r.portHi === hi);
  }

  /**
   * Keeps the counters of entries that survive a recompile (same key, same action), as the BPF map
   * keeps them when the agent only syncs the difference; new entries start at zero.
   */
  carryCountersFrom(old: PolicyMapDir): void {
    if (old.entries.length === 0) return;
    for (const e of this.entries) {
      const o = old.find(e.identity, e.proto, e.portLo, e.portHi, e.wildcardPort);
      if (o && o.deny === e.deny && o.packets > 0) {
        e.packets = o.packets;
        e.bytes = o.bytes;
        e.lastHit = o.lastHit;
      }
    }
  }

  // scratch state of lookup(); plain fields so a lookup allocates nothing but its result
  private bestAny: MapEntry | null = null;
  private bestDeny: MapEntry | null = null;
  private bestAnySpec = -1;
  private bestDenySpec = -1;

  private consider(e: MapEntry, port: number): void {
    // strict ">" keeps the first-probed entry among equals, as the stable sort of candidates() does
    const s = e.wildcardPort || e.portLo === e.portHi ? fixedSpecificity(e) : specificity(e, port);
    if (s > this.bestAnySpec) {
      this.bestAnySpec = s;
      this.bestAny = e;
    }
    if (e.deny && s > this.bestDenySpec) {
      this.bestDenySpec = s;
      this.bestDeny = e;
    }
  }

  private table(identity: number, proto: number): PortTable | null | undefined {
    return (identity === ANY_IDENTITY ? this.anyIdentity : this.byIdentity.get(identity))?.[proto];
  }

  private scan(t: PortTable | null | undefined, port: number, withPorts: boolean): void {
    if (t === undefined || t === null) return;
    if (withPorts) {
      if (t.exact !== null) {
        const e = t.exact.get(port);
        if (e !== undefined) this.consider(e, port);
      }
      if (t.ranges !== null) for (let i = 0; i < t.ranges.length; i++) {
        const r = t.ranges[i];
        if (port >= r.portLo && port <= r.portHi) this.consider(r, port);
      }
    }
    if (t.wildcard !== null) this.consider(t.wildcard, port);
  }

  private probe(t: PortTable | null | undefined, port: number, out: MapEntry[], withPorts: boolean): void {
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
