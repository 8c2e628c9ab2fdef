// IP → security identity, as the BPF ipcache answers it: exact entries for pods and nodes; otherwise
// the longest CIDR prefix with an identity (policy-referenced prefixes, learned FQDN IPs, an API server
// outside the nodes); otherwise world. Node IPs depend on
// who asks: the local node is `host`, every other node `remote-node` (or kube-apiserver). So do learned
// FQDN IPs: each agent's ipcache holds only what its own DNS proxy learned.
import type { Cluster } from "../cluster/model";
import type { Identity } from "../cluster/identities";
import { formatIPv4, maskOf } from "../cluster/ip";
import { ReservedIdentity } from "../../lib/flow/enums";

export interface IpcacheEntry {
  prefix: string;
  identity: number;
  source: "pod" | "node" | "kube-apiserver" | "cidr" | "fqdn";
  /** the pod's node, or the node whose IP this is */
  node?: string;
  /** set for pods on another node than the observer: the IP of their node, where the tunnel goes */
  tunnelEndpoint?: string;
}

export class Ipcache {
  /** per prefix length, network address → identity; lengths kept longest first */
  private byLen = new Map<number, Map<number, Identity>>();
  private lengths: number[] = [];

  constructor(
    private readonly cluster: Cluster,
    /** whether `node`'s ipcache holds the FQDN identity of `ip` (what that node's DNS proxy learned) */
    private readonly fqdnVisible: (ip: string, node: string) => boolean = () => true,
  ) {}

  rebuildCidrs(cidrIdentities: Identity[]): void {
    const byLen = new Map<number, Map<number, Identity>>();
    for (const i of cidrIdentities) {
      if (!i.cidr) continue;
      let m = byLen.get(i.cidr.len);
      if (!m) byLen.set(i.cidr.len, (m = new Map()));
      m.set(i.cidr.addr, i);
    }
    this.byLen = byLen;
    this.lengths = [...byLen.keys()].sort((a, b) => b - a);
  }

  /** identity of `ip` as seen from `observerNode` */
  lookup(ip: number, observerNode: string): number {
    const pod = this.cluster.podByIp.get(ip);
    if (pod) return pod.identity.id;
    const node = this.cluster.nodeByIp.get(ip);
    if (node) {
      if (node.name === observerNode) return ReservedIdentity.HOST;
      return node.runsApiServer ? ReservedIdentity.KUBE_APISERVER : ReservedIdentity.REMOTE_NODE;
    }
    return this.lookupCidr(ip, observerNode)?.id ?? ReservedIdentity.WORLD;
  }

  /** the longest prefix with an identity, in `observerNode`'s ipcache if given */
  lookupCidr(ip: number, observerNode?: string): Identity | undefined {
    for (const len of this.lengths) {
      const hit = this.byLen.get(len)!.get((ip & maskOf(len)) >>> 0);
      if (hit && !(hit.fqdn && observerNode !== undefined && !this.fqdnVisible(formatIPv4(hit.cidr!.addr), observerNode))) return hit;
    }
    return undefined;
  }

  /** the whole table, for `ipcache list`-style inspection */
  list(observerNode?: string): IpcacheEntry[] {
    const out: IpcacheEntry[] = [];
    for (const p of this.cluster.endpoints) {
      // Cilium writes the pod's host IP as tunnel endpoint unless it is the local node's
      // (pkg/datapath/ipcache/listener.go); node IPs get none without host firewall or encryption
      const remote = observerNode !== undefined && p.node !== observerNode;
      const tunnel = remote ? this.cluster.nodeByName.get(p.node)?.ip : undefined;
      out.push({ prefix: `${p.ip}/32`, identity: p.identity.id, source: "pod", node: p.node, ...(tunnel ? { tunnelEndpoint: tunnel } : {}) });
    }
    for (const n of this.cluster.nodes) {
      const id = observerNode === undefined || n.name === observerNode ? ReservedIdentity.HOST : n.runsApiServer ? ReservedIdentity.KUBE_APISERVER : ReservedIdentity.REMOTE_NODE;
      out.push({ prefix: `${n.ip}/32`, identity: id, source: "node", node: n.name });
    }
    for (const len of this.lengths) {
      for (const i of this.byLen.get(len)!.values()) {
        if (i.fqdn && observerNode !== undefined && !this.fqdnVisible(formatIPv4(i.cidr!.addr), observerNode)) continue;
        out.push({ prefix: i.cidr!.text, identity: i.id, source: i.labels.includes("reserved:kube-apiserver") ? "kube-apiserver" : i.fqdn ? "fqdn" : "cidr" });
      }
    }
    return out;
  }
}
