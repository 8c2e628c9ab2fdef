// Policy repository + compiled maps for every endpoint, kept up to date incrementally: a policy
// change recompiles only the endpoints the policy selects or used to select, plus endpoints whose
// peer selectors changed because identities (CIDR prefixes, learned FQDN IPs) came or went.
// Endpoints with the same compile inputs (compile-key.ts: the identity, plus what the compiler reads
// of the endpoint itself) share one compiled map, compiled once, as Cilium shares the resolved
// policy of an identity: 500 endpoints of 100 workloads are 100 maps, which keeps lookups in the
// CPU caches. Per-endpoint state (packet counters) stays per endpoint in entry-stats.ts.
import type { Cluster, Pod } from "../cluster/model";
import { formatIPv4, parseCidr, type Cidr } from "../cluster/ip";
import type { ScenarioSettings } from "../scenario/types";
import { compileEndpoint, ruleSelects, type CompiledEndpoint, type Direction } from "./compiler";
import { inputsOf, shareKey, subjectKey, type EndpointInputs } from "./compile-key";
import { EntryStats } from "./entry-stats";
import { FqdnCache } from "./fqdn-cache";
import { Ipcache } from "./ipcache";
import { SelectorCache, servicesSelectedBy } from "./selector-cache";
import type { PolicyRecord, Rule } from "./policy/types";
import { cidrGroupLabels, type CidrGroup } from "./policy/cidr-group";

export interface ApplyStats {
  changedPolicies: number;
  /** endpoints whose compiled map was replaced */
  recompiledEndpoints: number;
  /** maps compiled for them: one per set of endpoints sharing a map */
  compiledMaps: number;
}

/** one compiled map and the endpoints it serves */
interface SharedMap {
  compiled: CompiledEndpoint;
  endpoints: Set<number>;
}

export class PolicyEngine {
  readonly policies = new Map<string, PolicyRecord>();
  /** endpoint id → its compiled map; endpoints with the same compile key get the same object */
  readonly compiled = new Map<number, CompiledEndpoint>();
  /** sharing key → the map and its endpoints */
  private readonly shared = new Map<string, SharedMap>();
  /** endpoint id → its sharing key */
  private readonly keyOfEndpoint = new Map<number, string>();
  /** endpoint id → its entry counters per direction */
  private readonly stats = new Map<number, { ingress: EntryStats; egress: EntryStats }>();
  readonly fqdn: FqdnCache;
  readonly ipcache: Ipcache;
  readonly selectors: SelectorCache;
  private rev = 1;
  /** bumped whenever compiled maps, identities or selectors may have changed (callers memoise on it) */
  generation = 0;
  /** policy key → endpoint ids it selects */
  private readonly selects = new Map<string, Set<number>>();
  /** endpoint id → policy keys selecting it (in policy order) */
  private readonly selectedBy = new Map<number, Set<string>>();
  /** per policy: the prefixes it references, for CIDR identity allocation */
  private readonly prefixes = new Map<string, Cidr[]>();
  /** CiliumCIDRGroups by name: their CIDRs are identities too, labelled with the group */
  readonly cidrGroups = new Map<string, CidrGroup>();

  constructor(
    readonly cluster: Cluster,
    readonly settings: ScenarioSettings,
  ) {
    this.fqdn = new FqdnCache(settings.fqdnMinTTL);
    this.ipcache = new Ipcache(cluster, (ip, node) => this.fqdnVisible(ip, node));
    this.selectors = new SelectorCache(cluster, this.fqdn, this.cidrGroups);
    const all = new Set<number>();
    for (const ep of [...cluster.endpoints, ...cluster.hostEndpoints]) {
      this.selectedBy.set(ep.endpointId, new Set());
      all.add(ep.endpointId);
    }
    // identities that exist with no policy at all (an API server outside the nodes)
    this.syncIdentities();
    this.recompile(all);
  }

  /** how many distinct compiled maps serve the endpoints */
  get sharedMapCount(): number {
    return this.shared.size;
  }

  /** the endpoints served by the same compiled map as `endpointId` (itself included), ascending */
  sharingWith(endpointId: number): number[] {
    const key = this.keyOfEndpoint.get(endpointId);
    const s = key === undefined ? undefined : this.shared.get(key);
    return s ? [...s.endpoints].sort((a, b) => a - b) : [];
  }

  /** the endpoint's own counters of its map's entries */
  statsOf(endpointId: number, dir: Direction): EntryStats | undefined {
    return this.stats.get(endpointId)?.[dir];
  }

  revision(): number {
    return this.rev;
  }

  rulesFor(ep: Pod): Rule[] {
    const out: Rule[] = [];
    for (const key of this.selectedBy.get(ep.endpointId) ?? []) {
      const p = this.policies.get(key);
      if (p) for (const r of p.rules) if (ruleSelects(r, ep)) out.push(r);
    }
    return out;
  }

  selectedEndpoints(key: string): number[] {
    return [...(this.selects.get(key) ?? [])].sort((a, b) => a - b);
  }

  /** Adds or replaces policies and removes `deleteKeys`, as one revision. */
  apply(upserts: PolicyRecord[], deleteKeys: string[] = []): ApplyStats {
    if (upserts.length === 0 && deleteKeys.length === 0) return { changedPolicies: 0, recompiledEndpoints: 0, compiledMaps: 0 };
    this.rev++;
    this.generation++;
    const affected = new Set<number>();
    const markOld = (key: string) => {
      for (const ep of this.selects.get(key) ?? []) {
        affected.add(ep);
        this.selectedBy.get(ep)?.delete(key);
      }
      this.selects.delete(key);
    };
    for (const key of deleteKeys) {
      markOld(key);
      this.policies.delete(key);
      this.prefixes.delete(key);
    }
    for (const p of upserts) {
      markOld(p.key);
      p.revision = this.rev;
      p.hubble = {
        name: p.name,
        ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
        labels: p.labels,
        revision: String(this.rev),
        kind: p.kind,
      };
      this.policies.delete(p.key); // re-insert so map order follows the latest change
      this.policies.set(p.key, p);
      this.prefixes.set(p.key, referencedPrefixes(p, this.cluster));
      const sel = new Set<number>();
      const candidates = p.rules.some((r) => r.hostPolicy) ? [...this.cluster.endpoints, ...this.cluster.hostEndpoints] : this.cluster.endpoints;
      for (const ep of candidates) {
        if (p.rules.some((r) => ruleSelects(r, ep))) {
          sel.add(ep.endpointId);
          this.selectedBy.get(ep.endpointId)!.add(p.key);
          affected.add(ep.endpointId);
        }
      }
      this.selects.set(p.key, sel);
    }
    for (const ep of this.syncIdentities()) affected.add(ep);
    const r = this.recompile(affected);
    return { changedPolicies: upserts.length + deleteKeys.length, ...r };
  }

  /**
   * Adds or replaces CiliumCIDRGroups and removes `deleteNames`, as one revision: their CIDR
   * identities follow, and the endpoints whose cidrGroupRef / cidrGroupSelector peers now resolve
   * differently are recompiled.
   */
  applyCidrGroups(upserts: CidrGroup[], deleteNames: string[] = []): ApplyStats {
    if (upserts.length === 0 && deleteNames.length === 0) return { changedPolicies: 0, recompiledEndpoints: 0, compiledMaps: 0 };
    this.rev++;
    this.generation++;
    for (const n of deleteNames) this.cidrGroups.delete(n);
    for (const g of upserts) this.cidrGroups.set(g.name, g);
    const dirty = this.syncIdentities();
    // a group can change without any identity coming or going (its CIDR was already one)
    for (const ep of this.selectors.refresh("cidrGroup")) dirty.add(ep);
    const r = this.recompile(dirty);
    return { changedPolicies: upserts.length + deleteNames.length, ...r };
  }

  /** FQDN cache changed: learned IPs become (or stop being) identities, selectors follow */
  onFqdnChange(): number {
    this.generation++;
    const dirty = this.syncIdentities(true);
    return this.recompile(dirty).recompiledEndpoints;
  }

  private syncIdentities(fqdnChanged = false): Set<number> {
    const wanted = new Map<string, { cidr: Cidr; fqdn: boolean; extraLabels?: string[] }>();
    // IPv6 prefixes contain no address of the (IPv4) simulated cluster: no identities of their own
    for (const list of this.prefixes.values()) for (const c of list) if (c.len > 0 && c.v6 === undefined) wanted.set(c.text, { cidr: c, fqdn: false });
    for (const g of this.cidrGroups.values()) {
      for (const c of g.cidrs) {
        if (c.len === 0 || c.v6 !== undefined) continue;
        const w = wanted.get(c.text) ?? { cidr: c, fqdn: false };
        w.extraLabels = [...(w.extraLabels ?? []), ...cidrGroupLabels(g)];
        wanted.set(c.text, w);
      }
    }
    // An API server address that is no node's is outside the cluster as far as Cilium knows: it gets a
    // local CIDR identity carrying reserved:kube-apiserver beside its cidr and reserved:world labels
    // (ipcache resolveIdentity), so `world` and CIDR rules select it as well as `kube-apiserver`.
    // Identity 7 is only for an API server on a remote node.
    for (const ipNum of this.cluster.apiServerIps) {
      if (this.cluster.nodeByIp.has(ipNum)) continue;
      const c = parseCidr(`${formatIPv4(ipNum)}/32`);
      if ("error" in c) continue;
      const w = wanted.get(c.text) ?? { cidr: c, fqdn: false };
      w.extraLabels = [...(w.extraLabels ?? []), "reserved:kube-apiserver"];
      wanted.set(c.text, w);
    }
    // Only names some toFQDNs selector cares about reach the ipcache (NameManager.updateDNSIPs skips
    // the others): an address DNS gave for any other name stays world, or its policy prefix.
    const selectorRes = this.fqdnSelectors();
    for (const [name, ips] of this.fqdn.names()) {
      if (!selectorRes.some((re) => re.test(`${name}.`))) continue;
      for (const ip of ips) {
        const c = parseCidr(`${ip}/32`);
        if (!("error" in c) && !wanted.has(c.text)) wanted.set(c.text, { cidr: c, fqdn: true });
      }
    }
    const { added, removed } = this.cluster.identities.syncCidrIdentities(wanted);
    this.ipcache.rebuildCidrs(this.cluster.identities.cidrIdentities());
    // an already-known IP learned for a new name changes FQDN selectors without new identities
    if (added.length === 0 && removed.length === 0) return fqdnChanged ? this.selectors.refresh("fqdn") : new Set();
    return this.selectors.refresh();
  }

  private hostFirewallMemo: { rev: number; on: boolean } | undefined;

  /**
   * Whether the agents run the host firewall: host policies only take effect with it, so a loaded
   * one means it is on. It changes which trace a pod's packet to its own host gets (bpf_lxc to_host).
   */
  hostFirewall(): boolean {
    if (this.hostFirewallMemo?.rev !== this.rev) {
      let on = false;
      for (const p of this.policies.values()) if (p.rules.some((r) => r.hostPolicy)) on = true;
      this.hostFirewallMemo = { rev: this.rev, on };
    }
    return this.hostFirewallMemo.on;
  }

  private fqdnSelectorsMemo: { rev: number; res: RegExp[] } | undefined;

  /** the toFQDNs selectors of every policy loaded */
  private fqdnSelectors(): RegExp[] {
    if (this.fqdnSelectorsMemo?.rev === this.rev) return this.fqdnSelectorsMemo.res;
    const seen = new Map<string, RegExp>();
    for (const p of this.policies.values()) {
      for (const r of p.rules) {
        for (const pr of r.egress) {
          if (pr.peers === "all") continue;
          for (const peer of pr.peers) if (peer.kind === "fqdn" && !seen.has(peer.text)) seen.set(peer.text, peer.re);
        }
      }
    }
    this.fqdnSelectorsMemo = { rev: this.rev, res: [...seen.values()] };
    return this.fqdnSelectorsMemo.res;
  }

  private fqdnVisibleMemo: { version: number; rev: number; byNode: Map<string, Set<string>> } | undefined;

  /**
   * Whether the ipcache of `node` maps `ip` to its FQDN identity: a lookup on that node learned it for
   * a name a toFQDNs selector matches. Other nodes' name managers never heard of it.
   */
  fqdnVisible(ip: string, node: string): boolean {
    let memo = this.fqdnVisibleMemo;
    if (memo === undefined || memo.version !== this.fqdn.version || memo.rev !== this.rev) {
      memo = this.fqdnVisibleMemo = { version: this.fqdn.version, rev: this.rev, byNode: new Map() };
    }
    let ips = memo.byNode.get(node);
    if (ips === undefined) {
      ips = new Set();
      const res = this.fqdnSelectors();
      for (const [name, learned] of this.fqdn.names(node)) if (res.some((re) => re.test(`${name}.`))) for (const x of learned) ips.add(x);
      memo.byNode.set(node, ips);
    }
    return ips.has(ip);
  }

  /**
   * Recompiles the maps of `eps`: each affected endpoint gets its (possibly new) sharing key, and
   * each key's map is compiled once, from any one of its endpoints, for all of them. Endpoints of an
   * identity are affected together (policies and selectors select identities), so a shared map is
   * never left serving an endpoint whose rules changed.
   */
  private recompile(eps: Set<number>): { recompiledEndpoints: number; compiledMaps: number } {
    const bySubject = new Map<string, { rules: Rule[]; inputs: EndpointInputs }>();
    const moved = new Map<string, number[]>();
    for (const id of eps) {
      const ep = this.cluster.endpointById.get(id);
      if (!ep) continue;
      const subject = subjectKey(ep);
      let s = bySubject.get(subject);
      if (!s) {
        const rules = this.rulesFor(ep);
        bySubject.set(subject, (s = { rules, inputs: inputsOf(rules) }));
      }
      const key = shareKey(ep, subject, s.inputs);
      this.leave(id);
      this.keyOfEndpoint.set(id, key);
      let list = moved.get(key);
      if (!list) moved.set(key, (list = []));
      list.push(id);
    }
    let recompiledEndpoints = 0;
    for (const [key, ids] of moved) {
      const endpoints = this.shared.get(key)?.endpoints ?? new Set<number>();
      for (const id of ids) endpoints.add(id);
      const first = this.cluster.endpointById.get(ids[0])!;
      const compiled = compileEndpoint(first, bySubject.get(subjectKey(first))!.rules, this.cluster, this.selectors, this.settings);
      this.shared.set(key, { compiled, endpoints });
      for (const id of endpoints) {
        // the compiler registered the endpoint it compiled from; the others use the same selectors
        this.selectors.use(compiled.selectorKeys, id);
        this.compiled.set(id, compiled);
        const st = this.stats.get(id);
        if (st) {
          st.ingress.rebase(compiled.ingress);
          st.egress.rebase(compiled.egress);
        } else this.stats.set(id, { ingress: new EntryStats(compiled.ingress), egress: new EntryStats(compiled.egress) });
        recompiledEndpoints++;
      }
    }
    if (moved.size) {
      const live = new Map<number, Set<string>>();
      for (const [id, c] of this.compiled) live.set(id, c.selectorKeys);
      this.selectors.prune(live);
    }
    return { recompiledEndpoints, compiledMaps: moved.size };
  }

  /** takes the endpoint out of the map it shares; a map nobody uses any more goes */
  private leave(id: number): void {
    const key = this.keyOfEndpoint.get(id);
    if (key === undefined) return;
    const s = this.shared.get(key);
    if (s) {
      s.endpoints.delete(id);
      if (s.endpoints.size === 0) this.shared.delete(key);
    }
    this.keyOfEndpoint.delete(id);
  }
}

function referencedPrefixes(p: PolicyRecord, cluster: Cluster): Cidr[] {
  const out: Cidr[] = [];
  for (const r of p.rules) {
    for (const pr of [...r.ingress, ...r.egress]) {
      if (pr.peers === "all") continue;
      for (const peer of pr.peers) {
        if (peer.kind === "cidr") out.push(peer.cidr, ...peer.except);
        // carved-out prefixes need identities of their own, or their IPs match the group's
        else if (peer.kind === "cidrGroup") out.push(...peer.except);
        // a Service without a selector is a toCIDRSet of its endpoints' addresses
        else if (peer.kind === "service") {
          for (const s of servicesSelectedBy(peer, cluster)) {
            for (const a of s.addresses ?? []) {
              const c = parseCidr(`${a.ip}/32`);
              if (!("error" in c)) out.push(c);
            }
          }
        }
      }
    }
  }
  return out;
}
