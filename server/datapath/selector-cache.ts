// Peer selector → identities, cached per selector like Cilium's SelectorCache. When identities come
// or go (CIDR prefixes, learned FQDN IPs) only the selectors whose answer changed report the
// endpoints that used them, so only those endpoints (and the maps they share) recompile.
import type { Cluster, ClusterService } from "../cluster/model";
import { LABEL_NAMESPACE, type LabelIndex } from "../cluster/labels";
import { cidrContains, type Cidr } from "../cluster/ip";
import { selectorMatches } from "./selector";
import type { FqdnCache } from "./fqdn-cache";
import type { Peer, Selector } from "./policy/types";
import type { CidrGroup } from "./policy/cidr-group";

export type IdentitySet = number[] | "ANY";


export class SelectorCache {
  private readonly cache = new Map<string, { peer: Peer; node: string; requires: Selector[]; ids: IdentitySet }>();
  private readonly users = new Map<string, Set<number>>();

  constructor(
    private readonly cluster: Cluster,
    private readonly fqdn: FqdnCache,
    /** CiliumCIDRGroups by name (the engine's registry, read at resolve time) */
    private readonly cidrGroups: ReadonlyMap<string, CidrGroup> = new Map(),
  ) {}

  private key(peer: Peer, node: string, requires: Selector[]): string {
    const reqText = peer.kind === "selector" && requires.length ? `|req:${requires.map((r) => r.text).join(";")}` : "";
    switch (peer.kind) {
      case "selector":
        return `sel:${peer.sel.text}${reqText}`;
      case "entity":
        return peer.entity === "kube-apiserver" ? `ent:${peer.entity}@${node}` : `ent:${peer.entity}`;
      case "cidr":
        return `cidr:${peer.text}`;
      case "cidrGroup":
        return `cg:${peer.text}`;
      case "fqdn":
        // each node's name manager selects what its own DNS proxy learned
        return `fqdn:${peer.text}@${node}`;
      case "service":
        return `svc:${peer.text}`;
    }
  }

  resolve(peer: Peer, endpointId: number, node: string, requires: Selector[]): IdentitySet {
    const k = this.key(peer, node, requires);
    let c = this.cache.get(k);
    if (!c) {
      c = { peer, node, requires, ids: this.compute(peer, node, requires) };
      this.cache.set(k, c);
    }
    let u = this.users.get(k);
    if (!u) this.users.set(k, (u = new Set()));
    u.add(endpointId);
    return c.ids;
  }

  /** `endpointId` uses these cached selectors too (it shares a map compiled from another endpoint) */
  use(keys: Iterable<string>, endpointId: number): void {
    for (const k of keys) {
      if (!this.cache.has(k)) continue;
      let u = this.users.get(k);
      if (!u) this.users.set(k, (u = new Set()));
      u.add(endpointId);
    }
  }

  /** after identities changed: recompute every cached selector, return endpoints whose selectors changed */
  refresh(only?: Peer["kind"]): Set<number> {
    const dirty = new Set<number>();
    for (const [k, c] of this.cache) {
      if (only && c.peer.kind !== only) continue;
      const ids = this.compute(c.peer, c.node, c.requires);
      if (!sameSet(ids, c.ids)) {
        c.ids = ids;
        for (const ep of this.users.get(k) ?? []) dirty.add(ep);
      }
    }
    return dirty;
  }

  /** drop cached selectors nobody uses any more (after policies were removed) */
  prune(liveEndpoints: Map<number, Set<string>>): void {
    for (const [k, u] of this.users) {
      for (const ep of u) if (!liveEndpoints.get(ep)?.has(k)) u.delete(ep);
      if (u.size === 0) {
        this.users.delete(k);
        this.cache.delete(k);
      }
    }
  }

  /** every cached selector with its current identities and the endpoints using it */
  list(): { key: string; peer: Peer; ids: IdentitySet; users: number[] }[] {
    return [...this.cache].map(([key, c]) => ({ key, peer: c.peer, ids: c.ids, users: [...(this.users.get(key) ?? [])].sort((a, b) => a - b) }));
  }

  keyOf(peer: Peer, node: string, requires: Selector[]): string {
    return this.key(peer, node, requires);
  }

  private compute(peer: Peer, node: string, requires: Selector[]): IdentitySet {
    const reg = this.cluster.identities;
    switch (peer.kind) {
      case "selector": {
        const out: number[] = [];
        for (const i of reg.all()) {
          if (!selectorMatches(peer.sel, i.index)) continue;
          if (requires.length && !requires.every((r) => selectorMatches(r, i.index))) continue;
          out.push(i.id);
        }
        return out;
      }
      case "entity":
        return this.entity(peer.entity, node);
      case "cidr": {
        const out: number[] = [];
        out.push(...worldOfSlashZero([peer.cidr], peer.except));
        for (const i of reg.cidrIdentitiesWithin(peer.cidr)) {
          if (peer.except.some((e) => cidrContains(e, i.cidr!))) continue;
          out.push(i.id);
        }
        return out;
      }
      case "cidrGroup": {
        // like a CIDRSet of the groups' CIDRs: every CIDR identity inside one of them
        const groups = peer.ref !== undefined ? [this.cidrGroups.get(peer.ref)].filter((g) => g !== undefined) : [...this.cidrGroups.values()].filter((g) => selectorMatches(peer.sel!, g.labelIndex));
        const cidrs = groups.flatMap((g) => g.cidrs);
        const inside = new Set<number>();
        for (const c of cidrs) {
          for (const i of reg.cidrIdentitiesWithin(c)) if (!peer.except.some((e) => cidrContains(e, i.cidr!))) inside.add(i.id);
        }
        return [...worldOfSlashZero(cidrs, peer.except), ...[...inside].sort((a, b) => a - b)];
      }
      case "fqdn": {
        const out: number[] = [];
        for (const [name, ips] of this.fqdn.names(node)) {
          if (!peer.re.test(`${name}.`)) continue;
          for (const ip of ips) {
            const id = reg.cidrIdentity(`${ip}/32`);
            if (id && !out.includes(id.id)) out.push(id.id);
          }
        }
        return out;
      }
      case "service": {
        // As the policy watcher rewrites toServices (pkg/policy/k8s/service.go): a Service with a
        // selector becomes that selector plus its namespace, matched against identity labels (so a
        // selector on a label the identity filter drops selects nothing); one without becomes a
        // toCIDRSet of its endpoints' addresses (which, as CIDR rules do, never selects a node).
        const out = new Set<number>();
        for (const s of servicesSelectedBy(peer, this.cluster)) {
          if (s.addresses?.length) {
            for (const a of s.addresses) {
              if (this.cluster.nodeByIp.has(a.ipNum)) continue;
              const id = reg.cidrIdentity(`${a.ip}/32`);
              if (id) out.add(id.id);
            }
            continue;
          }
          for (const i of reg.all()) if (i.kind === "pod" && serviceSelects(s, i.index)) out.add(i.id);
        }
        return [...out];
      }
    }
  }

  private entity(e: string, node: string): IdentitySet {
    const reg = this.cluster.identities;
    const cidrIds = () => reg.cidrIdentities().map((i) => i.id);
    // an API server outside the nodes (its CIDR identity carries reserved:kube-apiserver, see engine.ts)
    const apiServerCidrIds = () => reg.cidrIdentities().filter((i) => i.labels.includes("reserved:kube-apiserver")).map((i) => i.id);
    switch (e) {
      case "all":
        return "ANY";
      case "none":
        return [];
      case "host":
        return [1];
      case "remote-node":
        return [6, 7];
      case "kube-apiserver":
        return [...(this.cluster.nodeByName.get(node)?.runsApiServer ? [1, 7] : [7]), ...apiServerCidrIds()];
      case "ingress":
        return [8];
      case "health":
        return [4];
      case "init":
        return [5];
      case "unmanaged":
        return [3];
      case "world":
        return [2, 9, 10, ...cidrIds()];
      case "world-ipv4":
        // Only dual-stack clusters label outside addresses reserved:world-ipv4 (GetWorldIdentityFromIP);
        // in the simulated IPv4-only cluster they are reserved:world (2), so this entity selects none of them.
        return [9];
      case "world-ipv6":
        return [10];
      case "cluster":
        return [1, 3, 4, 5, 6, 7, 8, ...apiServerCidrIds(), ...reg.all().filter((i) => i.kind === "pod").map((i) => i.id)];
      default:
        return [];
    }
  }
}

function sameSet(a: IdentitySet, b: IdentitySet): boolean {
  if (a === "ANY" || b === "ANY") return a === b;
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/**
 * The reserved identities a /0 among `prefixes` selects, unless an except /0 of its family removes it:
 * 0.0.0.0/0 covers addresses outside every referenced prefix, which carry the plain world identity
 * (world, world-ipv4); ::/0 is the IPv6 world (world-ipv6), which no address of the IPv4 cluster carries.
 */
function worldOfSlashZero(prefixes: readonly Cidr[], except: readonly Cidr[]): number[] {
  const out: number[] = [];
  const covers = (v6: boolean) => prefixes.some((c) => c.len === 0 && (c.v6 !== undefined) === v6) && !except.some((e) => e.len === 0 && (e.v6 !== undefined) === v6);
  if (covers(false)) out.push(2, 9);
  if (covers(true)) out.push(10);
  return out;
}

/** the Services a toServices peer names (k8sService) or selects by their own labels (k8sServiceSelector) */
export function servicesSelectedBy(peer: Extract<Peer, { kind: "service" }>, cluster: Cluster): ClusterService[] {
  return cluster.services.filter(
    (s) =>
      (peer.namespace === undefined || s.namespace === peer.namespace) &&
      (peer.name === undefined || s.name === peer.name) &&
      (!peer.reqs || selectorMatches({ reqs: peer.reqs, text: "" }, s.labelIndex)),
  );
}

/** the endpoint selector Cilium generates from a Service's selector: its labels (any source) in its namespace */
function serviceSelects(s: ClusterService, idx: LabelIndex): boolean {
  if (!idx.get(LABEL_NAMESPACE)?.some((l) => l.source === "k8s" && l.value === s.namespace)) return false;
  for (const [k, v] of Object.entries(s.selector)) if (!idx.get(k)?.some((l) => l.value === v)) return false;
  return true;
}
