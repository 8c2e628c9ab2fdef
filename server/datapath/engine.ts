// Policy repository + compiled maps for every endpoint, kept up to date incrementally: a policy
// change recompiles only the endpoints the policy selects or used to select, plus endpoints whose
// peer selectors changed because identities (CIDR prefixes, learned FQDN IPs) came or went.
import type { Cluster, Pod } from "../cluster/model";
import { parseCidr, type Cidr } from "../cluster/ip";
import type { ScenarioSettings } from "../scenario/types";
import { compileEndpoint, ruleSelects, type CompiledEndpoint } from "./compiler";
import { FqdnCache } from "./fqdn-cache";
import { Ipcache } from "./ipcache";
import { SelectorCache } from "./selector-cache";
import type { PolicyRecord, Rule } from "./policy/types";
import { cidrGroupLabels, type CidrGroup } from "./policy/cidr-group";

export interface ApplyStats {
  changedPolicies: number;
  recompiledEndpoints: number;
}

export class PolicyEngine {
  readonly policies = new Map<string, PolicyRecord>();
  readonly compiled = new Map<number, CompiledEndpoint>();
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
    this.ipcache = new Ipcache(cluster);
    this.selectors = new SelectorCache(cluster, this.fqdn, this.cidrGroups);
    for (const ep of [...cluster.endpoints, ...cluster.hostEndpoints]) {
      this.selectedBy.set(ep.endpointId, new Set());
      this.compiled.set(ep.endpointId, compileEndpoint(ep, [], cluster, this.selectors, settings));
    }
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
    if (upserts.length === 0 && deleteKeys.length === 0) return { changedPolicies: 0, recompiledEndpoints: 0 };
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
      this.prefixes.set(p.key, referencedPrefixes(p));
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
    this.recompile(affected);
    return { changedPolicies: upserts.length + deleteKeys.length, recompiledEndpoints: affected.size };
  }

  /**
   * Adds or replaces CiliumCIDRGroups and removes `deleteNames`, as one revision: their CIDR
   * identities follow, and the endpoints whose cidrGroupRef / cidrGroupSelector peers now resolve
   * differently are recompiled.
   */
  applyCidrGroups(upserts: CidrGroup[], deleteNames: string[] = []): ApplyStats {
    if (upserts.length === 0 && deleteNames.length === 0) return { changedPolicies: 0, recompiledEndpoints: 0 };
    this.rev++;
    this.generation++;
    for (const n of deleteNames) this.cidrGroups.delete(n);
    for (const g of upserts) this.cidrGroups.set(g.name, g);
    const dirty = this.syncIdentities();
    // a group can change without any identity coming or going (its CIDR was already one)
    for (const ep of this.selectors.refresh("cidrGroup")) dirty.add(ep);
    this.recompile(dirty);
    return { changedPolicies: upserts.length + deleteNames.length, recompiledEndpoints: dirty.size };
  }

  /** FQDN cache changed: learned IPs become (or stop being) identities, selectors follow */
  onFqdnChange(): number {
    this.generation++;
    const dirty = this.syncIdentities(true);
    this.recompile(dirty);
    return dirty.size;
  }

  private syncIdentities(fqdnChanged = false): Set<number> {
    const wanted = new Map<string, { cidr: Cidr; fqdn: boolean; extraLabels?: string[] }>();
    for (const list of this.prefixes.values()) for (const c of list) if (c.len > 0) wanted.set(c.text, { cidr: c, fqdn: false });
    for (const g of this.cidrGroups.values()) {
      for (const c of g.cidrs) {
        if (c.len === 0) continue;
        const w = wanted.get(c.text) ?? { cidr: c, fqdn: false };
        w.extraLabels = [...(w.extraLabels ?? []), ...cidrGroupLabels(g)];
        wanted.set(c.text, w);
      }
    }
    for (const ip of this.fqdn.allIps()) {
      const c = parseCidr(`${ip}/32`);
      if (!("error" in c) && !wanted.has(c.text)) wanted.set(c.text, { cidr: c, fqdn: true });
    }
    const { added, removed } = this.cluster.identities.syncCidrIdentities(wanted);
    this.ipcache.rebuildCidrs(this.cluster.identities.cidrIdentities());
    // an already-known IP learned for a new name changes FQDN selectors without new identities
    if (added.length === 0 && removed.length === 0) return fqdnChanged ? this.selectors.refresh("fqdn") : new Set();
    return this.selectors.refresh();
  }

  private recompile(eps: Set<number>): void {
    for (const id of eps) {
      const ep = this.cluster.endpointById.get(id);
      if (!ep) continue;
      const fresh = compileEndpoint(ep, this.rulesFor(ep), this.cluster, this.selectors, this.settings);
      const old = this.compiled.get(id);
      if (old) {
        fresh.ingress.carryCountersFrom(old.ingress);
        fresh.egress.carryCountersFrom(old.egress);
      }
      this.compiled.set(id, fresh);
    }
    if (eps.size) {
      const live = new Map<number, Set<string>>();
      for (const [id, c] of this.compiled) live.set(id, c.selectorKeys);
      this.selectors.prune(live);
    }
  }
}

function referencedPrefixes(p: PolicyRecord): Cidr[] {
  const out: Cidr[] = [];
  for (const r of p.rules) {
    for (const pr of [...r.ingress, ...r.egress]) {
      if (pr.peers === "all") continue;
      for (const peer of pr.peers) {
        if (peer.kind === "cidr") out.push(peer.cidr, ...peer.except);
        // carved-out prefixes need identities of their own, or their IPs match the group's
        else if (peer.kind === "cidrGroup") out.push(...peer.except);
      }
    }
  }
  return out;
}
