// "Why was this dropped?": finds the allow rule that came closest to matching a flow and says what
// was missing (wrong label, wrong namespace, port not covered, …). Only runs for explanations, never
// on the decision path.
import type { Identity } from "../cluster/identities";
import type { Cluster, Pod } from "../cluster/model";
import { cidrContainsIp, parseIPv4 } from "../cluster/ip";
import { describeRequirement, firstMismatch, isNamespaceKey } from "./selector";
import type { SelectorCache } from "./selector-cache";
import { PROTO_ICMP, PROTO_NAMES, type MatchType, type PolicyMapDir, type MapEntry } from "./policy-map";
import { resolvePorts, type Direction } from "./compiler";
import type { Peer, PeerRule, Rule, Selector } from "./policy/types";
import { POLICY_MATCH_TYPE_NAMES } from "../../lib/flow/enums";

export function policyName(r: Rule): string {
  const p = r.policy;
  return `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`;
}

export function identityText(i: Identity | undefined, id: number): string {
  if (!i) return `identity ${id}`;
  const short = i.labels.filter((l) => !l.includes("io.cilium.k8s.namespace.labels") && !l.includes("policy.cluster") && !l.includes("serviceaccount"));
  return `identity ${id} (${short.join(", ")})`;
}

export function entryText(e: MapEntry, identities: Cluster["identities"]): string {
  const who = e.identity === 0 ? "ANY" : `${e.identity}`;
  const port = e.wildcardPort ? "ANY" : e.portLo === e.portHi ? `${e.portLo}` : `${e.portLo}-${e.portHi}`;
  const by = (e.deny ? e.denyRules : e.allowRules).map((r) => `${policyName(r.rule)} ${r.path}`);
  if (e.implicit && !e.deny) by.push("the allow-all Cilium adds when no policy selecting the endpoint enables default deny");
  void identities;
  return `${e.deny ? "DENY" : "ALLOW"} (${who}, ${PROTO_NAMES[e.proto]}, ${port}) from ${[...new Set(by)].join("; ")}`;
}

export function matchTypeName(m: MatchType): string {
  return POLICY_MATCH_TYPE_NAMES[m];
}

/** `requires`: the fromRequires/toRequires selectors every selector peer of this direction must also meet */
function peerReason(peer: Peer, ident: Identity, peerIp: string, ids: number[] | "ANY", peerNames: string[], requires: { sel: Selector; key: string }[] = [], learnedOn: string[] = []): string | null {
  if (ids === "ANY" || ids.includes(ident.id)) return null;
  switch (peer.kind) {
    case "selector": {
      if (ident.kind !== "pod") return `${peer.path} selects pods (${peer.sel.text}) but the peer is ${ident.labels.join(", ")}`;
      const miss = firstMismatch(peer.sel, ident.index);
      if (!miss) {
        const unmet = requires.find((r) => firstMismatch(r.sel, ident.index));
        if (unmet) return `${peer.path} (${peer.sel.text}) selects the peer, but it does not meet ${unmet.key} ${unmet.sel.text} (${describeRequirement(firstMismatch(unmet.sel, ident.index)!)}), which every rule of this direction requires`;
        return `${peer.path} (${peer.sel.text}) does not select the peer`;
      }
      if (isNamespaceKey(miss)) {
        const ns = ident.index.get("io.kubernetes.pod.namespace")?.[0]?.value ?? "?";
        return `wrong namespace: ${peer.path} needs ${describeRequirement(miss)} but the peer is in namespace ${ns}`;
      }
      return `wrong label: ${peer.path} needs ${describeRequirement(miss)}, which the peer's labels do not satisfy`;
    }
    case "entity":
      return `${peer.path}: entity ${peer.entity} does not include the peer (${ident.labels.join(", ")})`;
    case "cidr": {
      if (ident.kind === "pod" || ident.id === 1 || ident.id === 6 || ident.id === 7)
        return `${peer.path}: CIDR ${peer.text} never matches cluster pods or nodes (the peer has identity ${ident.id})`;
      if (peer.cidr.v6 !== undefined) return `${peer.path}: ${peer.cidr.text} is an IPv6 prefix and ${peerIp} an IPv4 address`;
      const ip = parseIPv4(peerIp);
      if (ip !== undefined && !cidrContainsIp(peer.cidr, ip)) return `${peer.path}: ${peerIp} is outside ${peer.cidr.text}`;
      return `${peer.path}: ${peerIp} falls in an except range of ${peer.text}`;
    }
    case "fqdn":
      // the names DNS answers gave this address (toFQDNs selects what any endpoint's lookups learned):
      // the usual case is a name the rule does not allow
      if (peerNames.length) return `${peer.path}: ${peerIp} is ${peerNames.join(", ")} (learned from DNS answers), which ${peer.text} does not allow`;
      // each agent's DNS proxy keeps its own cache: a lookup on another node teaches this one nothing
      if (learnedOn.length) return `${peer.path}: ${peerIp} was learned from DNS answers on ${learnedOn.join(", ")} only; each node's DNS proxy keeps its own cache, and no lookup on this endpoint's node gave it, so ${peer.text} does not select it here`;
      return `${peer.path}: no DNS answer seen by the proxy gave ${peerIp}, and ${peer.text} allows only addresses learned from DNS answers`;
    case "service":
      return `${peer.path}: the peer is not a backend of ${peer.text}`;
    default:
      return `${peer.path} does not select the peer`;
  }
}

function portReason(pr: PeerRule, dir: Direction, ep: Pod, cluster: Cluster, proto: number, port: number): string | null {
  if (pr.icmps) {
    if (proto === PROTO_ICMP && pr.icmps.some((i) => i.type === port)) return null;
    return `only ICMP types ${pr.icmps.map((i) => `${i.family}/${i.type}`).join(", ")} are covered`;
  }
  if (!pr.toPorts) return null;
  const allowed: string[] = [];
  for (const tp of pr.toPorts) {
    for (const sel of tp.ports) {
      const ranges = resolvePorts(sel, dir, ep, cluster);
      if (typeof sel.port === "string" && ranges.length === 0) {
        const declared = [...new Set((dir === "ingress" ? ep.ports : cluster.namedPorts(sel.port)).filter((p) => p.name === sel.port).sort((a, b) => a.port - b.port).map((p) => `${p.port}/${p.protocol}`))];
        allowed.push(
          dir === "egress" && declared.length > 1
            ? `named port "${sel.port}" (declared as ${declared.join(", ")} by different pods: Cilium cannot resolve it and adds no entry)`
            : `named port "${sel.port}" (not declared by ${dir === "ingress" ? "this pod" : "any pod"})`,
        );
      }
      for (const r of ranges) {
        if (r.proto === proto && (r.wildcard || (port >= r.lo && port <= r.hi))) return null;
        allowed.push(`${r.wildcard ? "any port" : r.lo === r.hi ? r.lo : `${r.lo}-${r.hi}`}/${PROTO_NAMES[r.proto]}`);
      }
    }
  }
  return `port not covered: ${pr.path}.toPorts allows ${allowed.join(", ") || "nothing that resolves"}, not ${proto === PROTO_ICMP ? `ICMP type ${port}` : `${port}/${PROTO_NAMES[proto]}`}`;
}

/** the closest allow rule of this direction and why it did not match */
export function nearestMiss(
  m: PolicyMapDir,
  dir: Direction,
  ep: Pod,
  peer: Identity,
  peerIp: string,
  proto: number,
  port: number,
  cluster: Cluster,
  selectors: SelectorCache,
  /** the DNS names `peerIp` was learned by on the endpoint's node (egress) */
  peerNames: string[],
  /** the nodes whose DNS proxies learned `peerIp` (egress) */
  learnedOn: string[] = [],
): string | undefined {
  let best: { score: number; text: string } | undefined;
  for (const rule of m.rules) {
    for (const pr of rule[dir]) {
      if (pr.deny || pr.empty) continue;
      let peerWhy: string | null = null;
      if (pr.emptyPeerList !== undefined) peerWhy = `its ${pr.emptyPeerList} is an empty list, which selects no peer`;
      else if (pr.peers !== "all") {
        const reasons: string[] = [];
        let ok = false;
        const requires = m.rules.flatMap((r) => r.requires[dir]);
        const requiresKey = dir === "ingress" ? "fromRequires" : "toRequires";
        for (const p of pr.peers) {
          const ids = selectors.resolve(p, ep.endpointId, ep.node, p.kind === "selector" ? requires : []);
          const why = peerReason(p, peer, peerIp, ids, peerNames, requires.map((sel) => ({ sel, key: requiresKey })), learnedOn);
          if (!why) ok = true;
          else reasons.push(why);
        }
        if (!ok) peerWhy = reasons[0] ?? "no peer matches";
      }
      const portWhy = portReason(pr, dir, ep, cluster, proto, port);
      // ties go to namespaced policies: they are the ones written for this workload
      const score = ((peerWhy ? 0 : 2) + (portWhy ? 0 : 1)) * 2 + (rule.policy.kind === "CiliumClusterwideNetworkPolicy" ? 0 : 1);
      const text = `nearest rule: ${policyName(rule)} ${pr.path}: ${[peerWhy, portWhy].filter(Boolean).join("; ") || "matches (but another check failed)"}`;
      if (!best || score > best.score) best = { score, text };
    }
  }
  return best?.text;
}
