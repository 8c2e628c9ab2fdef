// The compiled policy map of one direction, shaped like Cilium's BPF policy map: entries keyed
// (identity | ANY, protocol | ANY, port range | ANY). Lookups read answers precomputed from these
// entries (flat-table.ts); they never walk the policy rules. One map serves every endpoint whose
// compile inputs are the same (engine.ts), so it holds nothing per endpoint: packet counters live
// in entry-stats.ts.
import type { L7Grant } from "./l7/proxy-types";
import type { PeerRule, PolicyRecord, Rule } from "./policy/types";
import { buildFlatTable, lookupAnswer, prefixBlockStarts, type FlatRow, type FlatTable, type RangeSegments } from "./flat-table";

export const PROTO_ANY = 0;
export const PROTO_TCP = 1;
export const PROTO_UDP = 2;
export const PROTO_SCTP = 3;
export const PROTO_ICMP = 4;
export const PROTO_ICMPV6 = 5;
export const PROTO_NAMES = ["ANY", "TCP", "UDP", "SCTP", "ICMP", "ICMPv6"] as const;
/** identity 0 never names a real peer, so it stands for "any identity" */
export const ANY_IDENTITY = 0;
/** Hubble's AuthType numbers (flow.proto): what an allow entry demands before traffic passes */
export const AUTH_NONE = 0;
export const AUTH_SPIRE = 1;
export const AUTH_TEST_ALWAYS_FAIL = 2;

export interface RuleRef {
  rule: Rule;
  peerRule: PeerRule;
  /** the most precise path inside the policy, e.g. "spec.ingress[0].toPorts[0].ports[1]" */
  path: string;
}

export interface MapEntry {
  /**
   * An entry is its own lookup result (entry.entry === entry): a hit returns the entry, so reading
   * `result.entry.deny` touches one object instead of a result object and then the entry, one
   * dependent memory load fewer per packet once the maps no longer fit in the caches.
   */
  readonly entry: MapEntry;
  readonly matchType: MatchType;
  identity: number;
  proto: number;
  /** [portLo, portHi]; wildcardPort means every port of the protocol (port 0 / L3-only) */
  portLo: number;
  portHi: number;
  wildcardPort: boolean;
  deny: boolean;
  /**
   * mutual authentication the entry demands (AUTH_NONE, AUTH_SPIRE, AUTH_TEST_ALWAYS_FAIL): set by
   * a contributing rule (explicit) or inherited from the most specific covering entry of the same
   * identity that sets one (derived), as Cilium's mapstate does
   */
  authType: number;
  authExplicit: boolean;
  /** position in the map's entries: per-endpoint counters are indexed by it */
  readonly index: number;
  allowRules: RuleRef[];
  denyRules: RuleRef[];
  /** the distinct policies behind allowRules / denyRules, so counting needs no dedup per flow */
  allowPolicies: PolicyRecord[];
  denyPolicies: PolicyRecord[];
  /** a contributing allow rule had no L7 rules for this traffic: L7 allow-all (§2.5) */
  l7AllowAll: boolean;
  /** the allow rules without L7 rules that made it so (none for the implicit allow-all) */
  l7AllowAllRules: RuleRef[];
  l7Grants: L7Grant[];
  /** the allow-all no policy wrote: added when rules select the endpoint but none enables default deny */
  implicit: boolean;
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

// A lookup's answer packed into one integer, as a BPF policy map value carries the verdict bits next
// to the key: a decision reads no object, and the entry (which rules, for attribution) is fetched
// by its index only when a record names it. Bits: matched, deny, match type (3 bits); index above.
export const VERDICT_MATCHED = 1;
export const VERDICT_DENY = 2;
const VERDICT_INDEX_SHIFT = 8;

export function verdictMatchType(code: number): MatchType {
  return ((code >> 2) & 7) as MatchType;
}

function verdictBits(r: LookupResult): number {
  if (r.entry === null) return 0;
  return VERDICT_MATCHED | (r.entry.deny ? VERDICT_DENY : 0) | (r.matchType << 2);
}
/** marks a map too large to flatten (ANY-identity ports × identities): it keeps the table scan */
const OVER_BUDGET: FlatTable = Object.freeze(buildFlatTable([]));
/** precomputed answers per map at most; beyond, lookups scan the tables */
const FLATTEN_BUDGET = 1_000_000;

/** `c` covers every packet `e` covers with a key at least as broad (same identity not checked) */
function covers(c: MapEntry, e: MapEntry): boolean {
  if (c.proto !== PROTO_ANY && c.proto !== e.proto) return false;
  if (c.wildcardPort) return true;
  return !e.wildcardPort && c.portLo <= e.portLo && e.portHi <= c.portHi && (c.proto !== e.proto || c.portLo !== e.portLo || c.portHi !== e.portHi);
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

/** specificity of exact-port and wildcard entries, which does not depend on the port */
function fixedSpecificity(e: MapEntry): number {
  return ((e.proto === PROTO_ANY ? 0 : 8) + (e.wildcardPort ? 0 : 16)) * 2 + (e.identity === ANY_IDENTITY ? 0 : 1);
}

function specificity(e: MapEntry, port: number): number {
  // proto/port prefix length first, identity breaks ties (bpf/lib/policy.h precedence)
  return ((e.proto === PROTO_ANY ? 0 : 8) + portPrefixLen(e, port)) * 2 + (e.identity === ANY_IDENTITY ? 0 : 1);
}

export function matchTypeOf(e: MapEntry): MatchType {
  return matchTypeFor(e.identity, e.proto, e.wildcardPort);
}

function matchTypeFor(identity: number, proto: number, wildcardPort: boolean): MatchType {
  const specificId = identity !== ANY_IDENTITY;
  if (proto !== PROTO_ANY && !wildcardPort) return specificId ? 2 : 3;
  if (proto !== PROTO_ANY) return specificId ? 5 : 6;
  return specificId ? 1 : 4;
}

// one literal for every entry, so all entries share one hidden class and the hot reads stay monomorphic
function newEntry(identity: number, proto: number, portLo: number, portHi: number, wildcardPort: boolean, index: number): MapEntry {
  // the fields a lookup's caller reads first come first, so they share the object's first cache line
  const e: { -readonly [K in keyof MapEntry]: MapEntry[K] } = {
    entry: null as unknown as MapEntry, deny: false, matchType: matchTypeFor(identity, proto, wildcardPort), authType: AUTH_NONE, index,
    identity, proto, portLo, portHi, wildcardPort, authExplicit: false,
    allowRules: [], denyRules: [], allowPolicies: [], denyPolicies: [], l7AllowAll: false, l7AllowAllRules: [], l7Grants: [], implicit: false,
  };
  e.entry = e;
  return e;
}

export class PolicyMapDir {
  /**
   * identity → port tables indexed by protocol (PROTO_ANY … PROTO_ICMPV6), the ANY identity in its
   * own slot: the entries as the compiler adds them. Lookups read the flat table computed from them;
   * explanations (candidates) and counter carry-over (find) read these.
   */
  private readonly byIdentity = new Map<number, (PortTable | null)[]>();
  private anyIdentity: (PortTable | null)[] | null = null;
  private readonly entries: MapEntry[] = [];
  l7Ports: L7Port[] = [];
  /** some entry is a deny: the exact-hit fast path of lookup() must then look further */
  private hasDeny = false;
  /** packets of the direction are looked up (default deny, or rules without it: see allowAllAdded) */
  enforced = false;
  /** enforced without default deny: addImplicitAllowAll() put the allow-all in */
  allowAllAdded = false;
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

  /**
   * Cilium's wildcard rule for a direction that rules select but none makes default-deny
   * (computePolicyEnforcementAndRules): the direction stays enforced, so packets are looked up and logged,
   * and whatever no deny stops is allowed, at L7 too.
   */
  addImplicitAllowAll(): void {
    this.allowAllAdded = true;
    this.flat = null;
    const protos = (this.anyIdentity ??= [null, null, null, null, null, null]);
    const t = (protos[PROTO_ANY] ??= { exact: null, ranges: null, wildcard: null });
    let e = t.wildcard;
    if (!e) {
      e = t.wildcard = newEntry(ANY_IDENTITY, PROTO_ANY, 0, 65535, true, this.entries.length);
      this.entries.push(e);
    }
    e.implicit = true;
    e.l7AllowAll = true;
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
      e = newEntry(identity, proto, wildcardPort ? 0 : lo, wildcardPort ? 65535 : hi, wildcardPort, this.entries.length);
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
      else {
        e.l7AllowAll = true;
        e.l7AllowAllRules.push(ref);
      }
      const auth = ref.peerRule.auth;
      // Cilium's MapStateEntry.Merge: an explicit requirement beats a derived one, the higher type wins
      if (auth !== undefined && (!e.authExplicit || auth > e.authType)) {
        e.authType = auth;
        e.authExplicit = true;
      }
    }
  }

  /**
   * Allow entries without an authentication mode of their own take the one of the most specific
   * covering entry with the same identity that has one (Cilium's authPreferredInsert): an L3 rule
   * demanding auth also covers the identity's port-specific entries. Done once every entry is in.
   */
  private deriveAuth(): void {
    if (!this.entries.some((e) => e.authExplicit)) return;
    for (const e of this.entries) {
      if (e.deny || e.authExplicit) continue;
      let best: MapEntry | null = null;
      for (const c of this.entries) {
        if (c === e || c.deny || !c.authExplicit || c.identity !== e.identity || !covers(c, e)) continue;
        if (best === null || covers(best, c)) best = c;
      }
      e.authType = best === null ? AUTH_NONE : best.authType;
    }
  }

  /**
   * Called once the compiler has added every entry: builds the lookup table now, so the first
   * packet does not pay for it. (Later adds still work; the table is rebuilt on the next lookup.)
   */
  seal(): void {
    if (this.flat === null) this.flatten();
  }

  /** some allow entry demands mutual authentication */
  get requiresAuth(): boolean {
    return this.entries.some((e) => e.authType !== AUTH_NONE);
  }

  /**
   * Lookup per §2.4: a deny covering the flow wins; otherwise the most specific allow. The answers
   * are precomputed per (identity, protocol, port) into flat tables (flat-table.ts), so a lookup is a
   * probe or two whatever the number of rules; a peer without entries of its own falls back to the
   * ANY identity's answers. Nothing is allocated.
   */
  lookup(identity: number, proto: number, port: number): LookupResult {
    if (this.flat === null) this.flatten();
    if (this.flat === OVER_BUDGET) return this.scanLookup(identity, proto, port, false);
    return this.results[this.verdict(identity, proto, port) >>> VERDICT_INDEX_SHIFT]!;
  }

  /**
   * The same answer as lookup(), packed (VERDICT_MATCHED, VERDICT_DENY, verdictMatchType): what
   * deciding a packet needs, read from the table alone.
   */
  verdict(identity: number, proto: number, port: number): number {
    if (this.flat === null) this.flatten();
    const t = this.flat!;
    if (t === OVER_BUDGET) return verdictBits(this.scanLookup(identity, proto, port, false));
    const code = lookupAnswer(t, identity, proto, port, ANY_IDENTITY);
    return code < 0 ? 0 : code;
  }

  // the lookup table (flat-table.ts), null until built
  private flat: FlatTable | null = null;
  /** result index (a verdict code >>> VERDICT_INDEX_SHIFT) → result; 0 is NO_MATCH */
  private results: LookupResult[] = [NO_MATCH];

  /**
   * Rows of answers for every identity with entries of its own, and for the ANY identity. An
   * identity needs rows only for the protocols it has entries for (or all, with PROTO_ANY entries):
   * for the others its answers are the ANY identity's, which the lookup falls back to. Each row
   * holds the answer for every exact port in its tables or the ANY identity's, deny precedence and
   * the ANY-identity entries already folded in, one answer for all other ports, and segments for
   * the ports inside port ranges.
   */
  private flatten(): void {
    this.deriveAuth();
    const index = new Map<LookupResult, number>([[NO_MATCH, 0]]);
    const results: LookupResult[] = [NO_MATCH];
    // the table holds verdict codes: the result's index and its verdict bits
    const idx = (r: LookupResult): number => {
      let i = index.get(r);
      if (i === undefined) {
        index.set(r, (i = results.length));
        results.push(r);
      }
      return (i << VERDICT_INDEX_SHIFT) | verdictBits(r);
    };
    const any = this.anyIdentity;
    const rows: FlatRow[] = [];
    let budget = FLATTEN_BUDGET;
    const build = (identity: number, own: (PortTable | null)[] | undefined): boolean => {
      for (let proto = 0; proto < 6; proto++) {
        const mine = own === undefined ? any : own;
        if (!mine?.[proto] && !mine?.[PROTO_ANY]) continue;
        const ports = new Set<number>();
        own?.[proto]?.exact?.forEach((_, p) => ports.add(p));
        any?.[proto]?.exact?.forEach((_, p) => ports.add(p));
        const exact: [number, number][] = [];
        for (const p of ports) exact.push([p, idx(this.scanLookup(identity, proto, p, false))]);
        const ranges = [...(own?.[proto]?.ranges ?? []), ...(any?.[proto]?.ranges ?? [])];
        const segments = ranges.length ? this.segmentsOf(identity, proto, ranges, idx) : null;
        budget -= ports.size + 1 + (segments ? segments.starts.length : 0);
        if (budget < 0) return false;
        // port −1 matches no exact entry and no range: only the wildcards answer
        rows.push({ identity, proto, exact, fallback: idx(this.scanLookup(identity, proto, -1, false)), segments });
      }
      return true;
    };
    let ok = true;
    for (const [id, own] of this.byIdentity) if (ok) ok = build(id, own);
    if (ok && any !== null) ok = build(ANY_IDENTITY, undefined);
    if (!ok) {
      this.flat = OVER_BUDGET;
      return;
    }
    this.results = results;
    this.flat = buildFlatTable(rows);
  }

  /** answers for the non-exact ports of [min lo, max hi], constant between the returned starts */
  private segmentsOf(identity: number, proto: number, ranges: MapEntry[], idx: (r: LookupResult) => number): RangeSegments {
    let lo = 65536;
    let hi = -1;
    const cuts = new Set<number>();
    for (const r of ranges) {
      lo = Math.min(lo, r.portLo);
      hi = Math.max(hi, r.portHi);
      for (const s of prefixBlockStarts(r.portLo, r.portHi)) cuts.add(s);
      cuts.add(r.portHi + 1);
    }
    const sorted = [...cuts].filter((c) => c > lo && c <= hi).sort((a, b) => a - b);
    const starts: number[] = [];
    const results: number[] = [];
    for (const s of [lo, ...sorted]) {
      const r = idx(this.scanLookup(identity, proto, s, true));
      // neighbours with the same answer merge, so the search stays short
      if (results.length && results[results.length - 1] === r) continue;
      starts.push(s);
      results.push(r);
    }
    return { lo, hi, starts, results };
  }

  /** the answer by walking the tables; `skipExact` answers as for a port without exact entries */
  private scanLookup(identity: number, proto: number, port: number, skipExact: boolean): LookupResult {
    const own = identity === ANY_IDENTITY ? undefined : this.byIdentity.get(identity);
    const any = this.anyIdentity;
    if (own === undefined && any === null) return NO_MATCH;
    if (!this.hasDeny && !skipExact && own !== undefined) {
      const e = own[proto]?.exact?.get(port);
      if (e !== undefined) return e;
    }
    this.bestAny = null;
    this.bestDeny = null;
    this.bestAnySpec = -1;
    this.bestDenySpec = -1;
    if (own !== undefined) {
      this.scan(own[proto], port, true, skipExact);
      this.scan(own[PROTO_ANY], port, false, skipExact);
    }
    if (any !== null) {
      this.scan(any[proto], port, true, skipExact);
      this.scan(any[PROTO_ANY], port, false, skipExact);
    }
    const win = this.bestDeny ?? this.bestAny;
    this.bestAny = this.bestDeny = null;
    if (!win) return NO_MATCH;
    return win;
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

  private scan(t: PortTable | null | undefined, port: number, withPorts: boolean, skipExact: boolean): void {
    if (t === undefined || t === null) return;
    if (withPorts) {
      if (t.exact !== null && !skipExact) {
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

  /** is (proto, port) a port with L7 rules on this side? */
  l7PortFor(proto: number, port: number): L7Port | undefined {
    for (const p of this.l7Ports) if (p.proto === proto && port >= p.lo && port <= p.hi) return p;
    return undefined;
  }

  /**
   * The L7 port an allow entry redirects to the proxy, if any. Cilium gives a proxy port to the
   * entries of a port whose rules carry L7 rules (for any peer on it), but not to a peer's L3-only
   * entry or an entry of another port range: the datapath then forwards that peer's packets itself,
   * even on the port other peers are proxied on (a key of its own wins over the wildcard lookups).
   */
  redirectOf(e: MapEntry): L7Port | undefined {
    if (e.deny || e.wildcardPort) return undefined;
    for (const p of this.l7Ports) if ((p.proto === e.proto || e.proto === 0) && p.lo === e.portLo && p.hi === e.portHi) return p;
    return undefined;
  }
}
