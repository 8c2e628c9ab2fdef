// The DNS proxies' caches: which IPs each endpoint learned for which name, until the TTL runs out.
// Every agent runs its own DNS proxy and name manager, so what a lookup teaches stays on its node:
// toFQDNs selectors select the IPs learned for matching names by any endpoint on the same node, and
// another node knows nothing of them. `fqdn-cache list` shows the per-endpoint view.

export interface FqdnCacheEntry {
  endpointId: number;
  /** the node whose DNS proxy saw the answer (the endpoint's) */
  node: string;
  name: string;
  ips: string[];
  ttl: number;
  /** ms since epoch */
  lookupTime: number;
  expiresAt: number;
  source: "dns-proxy";
}

export class FqdnCache {
  private readonly entries = new Map<string, FqdnCacheEntry>();
  private nextExpiry = Infinity;
  /** bumped whenever the set of (name, ip) pairs changes */
  version = 0;
  /** namesForIp answers, asked for on every request; dropped whenever an entry's names or IPs change */
  private namesMemo = new Map<string, readonly string[]>();

  /**
   * Bounded like Cilium's per-endpoint DNS history (tofqdns-endpoint-max-ip-per-hostname,
   * tofqdns-max-deferred-connection-deletes): at most `maxEntries` (endpoint, name) entries, the least
   * recently learned going first, and at most `maxIpsPerName` IPs kept per answer.
   */
  constructor(
    public minTTL = 0,
    readonly maxEntries = 10_000,
    readonly maxIpsPerName = 50,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** records an answer the DNS proxy let through; true when a new (name, ip) pair appeared */
  learn(endpointId: number, node: string, name: string, ips: string[], ttl: number, now: number): boolean {
    const n = name.toLowerCase().replace(/\.$/, "");
    const before = new Set(this.ipsFor(n, node));
    const effTtl = Math.max(ttl, this.minTTL);
    const e: FqdnCacheEntry = { endpointId, node, name: n, ips: ips.slice(0, this.maxIpsPerName), ttl: effTtl, lookupTime: now, expiresAt: now + effTtl * 1000, source: "dns-proxy" };
    const key = `${endpointId}|${n}`;
    const old = this.entries.get(key);
    if (!old || old.ips.length !== e.ips.length || old.ips.some((ip, i) => ip !== e.ips[i])) this.namesMemo.clear();
    this.entries.delete(key); // re-insert: the map stays in learn order, oldest first
    this.entries.set(key, e);
    let evicted = false;
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
      evicted = true;
      this.namesMemo.clear();
    }
    this.nextExpiry = Math.min(this.nextExpiry, e.expiresAt);
    const changed = evicted || e.ips.some((ip) => !before.has(ip));
    if (changed) this.version++;
    return changed;
  }

  /** drops expired entries; true when some (name, ip) pair disappeared */
  expire(now: number): boolean {
    if (now < this.nextExpiry) return false;
    const pairs = this.pairCount();
    let next = Infinity;
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) {
        this.entries.delete(k);
        this.namesMemo.clear();
      } else next = Math.min(next, e.expiresAt);
    }
    this.nextExpiry = next;
    const changed = this.pairCount() !== pairs;
    if (changed) this.version++;
    return changed;
  }

  private pairCount(): number {
    const s = new Set<string>();
    for (const e of this.entries.values()) for (const ip of e.ips) s.add(`${e.node}|${e.name}|${ip}`);
    return s.size;
  }

  /** the IPs learned for `name` (on `node`, if given) */
  ipsFor(name: string, node?: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (e.name === name && (node === undefined || e.node === node)) for (const ip of e.ips) out.add(ip);
    return [...out];
  }

  /** every live name → IPs, as the name manager of `node` knows them (all nodes' if not given) */
  names(node?: string): Map<string, Set<string>> {
    const m = new Map<string, Set<string>>();
    for (const e of this.entries.values()) {
      if (node !== undefined && e.node !== node) continue;
      let s = m.get(e.name);
      if (!s) m.set(e.name, (s = new Set()));
      for (const ip of e.ips) s.add(ip);
    }
    return m;
  }

  /**
   * the names `ip` was learned for, by `endpointId` if given, else on `node` if given, sorted;
   * shared, do not modify
   */
  namesForIp(ip: string, endpointId?: number, node?: string): string[] {
    const key = endpointId !== undefined ? `${ip}|${endpointId}` : node !== undefined ? `${ip}@${node}` : ip;
    let names = this.namesMemo.get(key);
    if (names === undefined) {
      const out = new Set<string>();
      for (const e of this.entries.values()) {
        if (endpointId !== undefined && e.endpointId !== endpointId) continue;
        if (node !== undefined && e.node !== node) continue;
        if (e.ips.includes(ip)) out.add(e.name);
      }
      names = [...out].sort();
      this.namesMemo.set(key, names);
    }
    return names as string[];
  }

  /** the nodes whose DNS proxies learned `ip`, sorted */
  nodesThatLearned(ip: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (e.ips.includes(ip)) out.add(e.node);
    return [...out].sort();
  }

  list(endpointId?: number): FqdnCacheEntry[] {
    return [...this.entries.values()]
      .filter((e) => endpointId === undefined || e.endpointId === endpointId)
      .sort((a, b) => a.endpointId - b.endpointId || a.name.localeCompare(b.name))
      .map((e) => ({ ...e, ips: [...e.ips] }));
  }

  clear(): void {
    this.entries.clear();
    this.namesMemo.clear();
    this.nextExpiry = Infinity;
    this.version++;
  }
}
