// Security identities: reserved 1–10, cluster-scoped pod identities (≥ 256) and local CIDR/FQDN
// identities (≥ 16777217). Listeners hear about CIDR identities coming and going, because selectors
// such as `world` or a toCIDR must start or stop selecting them.
import { fnv1a } from "./hash";
import { indexLabels, type LabelIndex } from "./labels";
import { cidrContains, type Cidr } from "./ip";
import { RESERVED_IDENTITY_NAMES } from "../../lib/flow/enums";

export type IdentityKind = "reserved" | "pod" | "cidr";

export interface Identity {
  id: number;
  kind: IdentityKind;
  /** sorted "source:key=value" strings, as Hubble prints them */
  labels: string[];
  index: LabelIndex;
  /** CIDR identities: the prefix they stand for */
  cidr?: Cidr;
  /** CIDR identities created for IPs learned through DNS (toFQDNs) */
  fqdn?: boolean;
}

export const MIN_POD_IDENTITY = 256;
export const MAX_POD_IDENTITY = 65535;
export const MIN_LOCAL_IDENTITY = 16777217;

export type IdentityListener = (change: { added: Identity[]; removed: Identity[] }) => void;

export class IdentityRegistry {
  private readonly byId = new Map<number, Identity>();
  private readonly podByKey = new Map<string, Identity>();
  private readonly cidrByPrefix = new Map<string, Identity>();
  private nextLocal = MIN_LOCAL_IDENTITY;
  private readonly listeners: IdentityListener[] = [];
  /** all(), sorted once per change: selectors read it for every peer they resolve */
  private sorted: readonly Identity[] | undefined;
  /** IPv4 CIDR identities by network address (then length), and IPv6 ones: see cidrIdentitiesWithin */
  private byPrefix: { v4: Identity[]; v6: Identity[] } | undefined;

  constructor() {
    for (let id = 1; id <= 10; id++) {
      const name = RESERVED_IDENTITY_NAMES[id];
      const labels = [`reserved:${name}`];
      // kube-apiserver on a remote node is also a remote node (pkg/identity)
      if (id === 7) labels.push("reserved:remote-node");
      this.add({ id, kind: "reserved", labels: labels.sort(), index: indexLabels(labels) });
    }
  }

  private add(i: Identity): void {
    this.byId.set(i.id, i);
    this.changed();
  }

  private changed(): void {
    this.sorted = undefined;
    this.byPrefix = undefined;
  }

  onChange(l: IdentityListener): void {
    this.listeners.push(l);
  }

  get(id: number): Identity | undefined {
    return this.byId.get(id);
  }

  all(): readonly Identity[] {
    return (this.sorted ??= [...this.byId.values()].sort((a, b) => a.id - b.id));
  }

  /**
   * Pod identities from label sets. Numbers come from a hash of the label set, probing in sorted
   * label-set order on collisions, so they are stable for a scenario and across unrelated edits.
   */
  allocatePodIdentities(labelSets: string[][]): Map<string, Identity> {
    const keys = [...new Set(labelSets.map((l) => l.join(",")))].sort();
    const span = MAX_POD_IDENTITY - MIN_POD_IDENTITY + 1;
    for (const key of keys) {
      if (this.podByKey.has(key)) continue;
      let n = MIN_POD_IDENTITY + (fnv1a(key) % span);
      while (this.byId.has(n)) n = n >= MAX_POD_IDENTITY ? MIN_POD_IDENTITY : n + 1;
      const labels = key.split(",");
      const ident: Identity = { id: n, kind: "pod", labels, index: indexLabels(labels) };
      this.add(ident);
      this.podByKey.set(key, ident);
    }
    return this.podByKey;
  }

  podIdentity(labels: string[]): Identity | undefined {
    return this.podByKey.get(labels.join(","));
  }

  cidrIdentity(prefix: string): Identity | undefined {
    return this.cidrByPrefix.get(prefix);
  }

  cidrIdentities(): Identity[] {
    return [...this.cidrByPrefix.values()];
  }

  /**
   * The CIDR identities whose prefix lies inside `outer`, in identity order. A policy with thousands of
   * CIDR rules asks this once per rule, so IPv4 prefixes are kept sorted by network address: those
   * inside `outer` are one run of that order, found by binary search, instead of a scan of every CIDR
   * identity per rule.
   */
  cidrIdentitiesWithin(outer: Cidr): Identity[] {
    const idx = (this.byPrefix ??= this.indexPrefixes());
    if (outer.v6 !== undefined) return idx.v6.filter((i) => cidrContains(outer, i.cidr!)).sort((a, b) => a.id - b.id);
    const first = outer.addr;
    const last = outer.addr + 2 ** (32 - outer.len) - 1;
    let lo = 0;
    let hi = idx.v4.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idx.v4[mid]!.cidr!.addr < first) lo = mid + 1;
      else hi = mid;
    }
    const out: Identity[] = [];
    for (let k = lo; k < idx.v4.length; k++) {
      const c = idx.v4[k]!.cidr!;
      if (c.addr > last) break;
      if (c.len >= outer.len) out.push(idx.v4[k]!);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  private indexPrefixes(): { v4: Identity[]; v6: Identity[] } {
    const v4: Identity[] = [];
    const v6: Identity[] = [];
    for (const i of this.cidrByPrefix.values()) if (i.cidr) (i.cidr.v6 === undefined ? v4 : v6).push(i);
    v4.sort((a, b) => a.cidr!.addr - b.cidr!.addr || a.cidr!.len - b.cidr!.len);
    return { v4, v6 };
  }

  /**
   * Makes the set of CIDR identities equal to `wanted` (policy-referenced prefixes plus learned FQDN
   * IPs). New prefixes are allocated in sorted order so a fresh start numbers them the same way.
   */
  syncCidrIdentities(wanted: Map<string, { cidr: Cidr; fqdn: boolean; extraLabels?: string[] }>): { added: Identity[]; removed: Identity[] } {
    const added: Identity[] = [];
    const removed: Identity[] = [];
    const labelsOf = (prefix: string, w: { cidr: Cidr; extraLabels?: string[] }) =>
      // /0 is the world itself: it has no cidr label (pkg/labels/cidr.go)
      [...new Set([...(w.cidr.len === 0 ? ["reserved:world"] : [`cidr:${prefix}`, "reserved:world"]), ...(w.extraLabels ?? [])])].sort();
    for (const [prefix, ident] of this.cidrByPrefix) {
      const w = wanted.get(prefix);
      // other labels (a CIDR group added or dropped the prefix) make another identity, as in Cilium
      if (!w || labelsOf(prefix, w).join(",") !== ident.labels.join(",")) {
        this.cidrByPrefix.delete(prefix);
        this.byId.delete(ident.id);
        this.changed();
        removed.push(ident);
      }
    }
    for (const prefix of [...wanted.keys()].sort()) {
      const w = wanted.get(prefix)!;
      const existing = this.cidrByPrefix.get(prefix);
      if (existing) {
        existing.fqdn = w.fqdn;
        continue;
      }
      const labels = labelsOf(prefix, w);
      const ident: Identity = { id: this.nextLocal++, kind: "cidr", labels, index: indexLabels(labels), cidr: w.cidr, fqdn: w.fqdn };
      this.cidrByPrefix.set(prefix, ident);
      this.add(ident);
      added.push(ident);
    }
    if (added.length || removed.length) for (const l of this.listeners) l({ added, removed });
    return { added, removed };
  }
}
