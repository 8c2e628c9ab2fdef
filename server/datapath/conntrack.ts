// Connection tracking with bounds, as Cilium's CT map and its garbage collector keep it: an entry
// lives for the protocol's lifetime after its last packet (bpf-ct-timeout-regular-tcp 6h for an
// established TCP connection, bpf-ct-timeout-regular-any 60s for UDP/ICMP/SCTP) and the table has
// a fixed size (bpf-ct-global-*-max): beyond it the least recently seen entry goes. The simulator
// runs for days, so neither time nor traffic volume may grow it without limit.
//
// Each lifetime class is a Map in last-seen order (a touched entry is re-inserted at the end), so
// the oldest entry of a class is always its first and both expiry and eviction pop from the front.

export interface ConntrackOptions {
  /** total entries across protocols (default 100,000) */
  maxEntries?: number;
  /** established TCP lifetime after the last packet (default 6 h) */
  tcpLifetimeMs?: number;
  /** lifetime of every other protocol (default 60 s) */
  anyLifetimeMs?: number;
}

export interface ConntrackEntry {
  key: string;
  proto: string;
  created: number;
  lastSeen: number;
  expires: number;
  packets: number;
}

export const CT_DEFAULTS = { maxEntries: 100_000, tcpLifetimeMs: 6 * 3600_000, anyLifetimeMs: 60_000 } as const;

export class Conntrack {
  readonly maxEntries: number;
  readonly tcpLifetimeMs: number;
  readonly anyLifetimeMs: number;
  private readonly tcp = new Map<string, ConntrackEntry>();
  private readonly other = new Map<string, ConntrackEntry>();
  /** entries removed because their lifetime ran out / because the table was full */
  expired = 0;
  evicted = 0;

  constructor(opts: ConntrackOptions = {}) {
    this.maxEntries = positive(opts.maxEntries, CT_DEFAULTS.maxEntries, "conntrack.maxEntries");
    this.tcpLifetimeMs = positive(opts.tcpLifetimeMs, CT_DEFAULTS.tcpLifetimeMs, "conntrack.tcpLifetimeMs");
    this.anyLifetimeMs = positive(opts.anyLifetimeMs, CT_DEFAULTS.anyLifetimeMs, "conntrack.anyLifetimeMs");
  }

  get size(): number {
    return this.tcp.size + this.other.size;
  }

  /** records a connection (or another packet of it): 2 packets, the request and its reply */
  upsert(key: string, proto: string, now: number): void {
    this.gc(now);
    const table = proto === "TCP" ? this.tcp : this.other;
    const old = table.get(key);
    if (old) table.delete(key);
    const e: ConntrackEntry = {
      key, proto, created: old?.created ?? now, lastSeen: now,
      expires: now + (proto === "TCP" ? this.tcpLifetimeMs : this.anyLifetimeMs), packets: (old?.packets ?? 0) + 2,
    };
    table.set(key, e);
    while (this.size > this.maxEntries) this.evictOldest();
  }

  /** the live entry for key, if any */
  get(key: string, now: number): ConntrackEntry | undefined {
    const e = this.tcp.get(key) ?? this.other.get(key);
    return e && e.expires > now ? { ...e } : undefined;
  }

  /** drops expired entries; returns how many */
  gc(now: number): number {
    let n = 0;
    for (const table of [this.tcp, this.other]) {
      for (const [k, e] of table) {
        if (e.expires > now) break; // last-seen order = expiry order within a class
        table.delete(k);
        n++;
      }
    }
    this.expired += n;
    return n;
  }

  list(): ConntrackEntry[] {
    return [...this.tcp.values(), ...this.other.values()].map((e) => ({ ...e }));
  }

  private evictOldest(): void {
    const t = this.tcp.values().next().value;
    const o = this.other.values().next().value;
    const victim = !o || (t && t.lastSeen <= o.lastSeen) ? t : o;
    if (!victim) return;
    (victim.proto === "TCP" ? this.tcp : this.other).delete(victim.key);
    this.evicted++;
  }
}

function positive(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${field} must be a positive number, got ${v}`);
  return v;
}
