// Rules selecting one endpoint → its two policy maps (§2.1–2.5). Peers are resolved through the
// selector cache, named ports against the cluster, and every entry remembers the rules behind it.
import type { Cluster, Pod } from "../cluster/model";
import type { ScenarioSettings } from "../scenario/types";
import type { L7Grant } from "./l7/proxy-types";
import { ANY_IDENTITY, PolicyMapDir, PROTO_ANY, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from "./policy-map";
import type { SelectorCache } from "./selector-cache";
import { selectorMatches } from "./selector";
import { mergeableRules, type L7ParserConflict } from "./l7-parser-conflicts";
import type { L4Proto, PeerRule, PolicyRecord, PortSel, Rule, Selector } from "./policy/types";

export type Direction = "ingress" | "egress";

export interface CompiledEndpoint {
  ingress: PolicyMapDir;
  egress: PolicyMapDir;
  /** selector-cache keys this endpoint used, so it can be found when identities change */
  selectorKeys: Set<string>;
  /** selector-cache key → the policies whose rules use it here (for `policy selectors`) */
  selectorPolicies: Map<string, Set<PolicyRecord>>;
  /** policies left out of these maps because their L7 parsers clash with others' on a port */
  l7Conflicts: L7ParserConflict[];
}

const PROTO_IDX: Record<string, number> = { TCP: PROTO_TCP, UDP: PROTO_UDP, SCTP: PROTO_SCTP };

function protos(p: L4Proto): number[] {
  // ANY is expanded to TCP, UDP and SCTP (pkg/policy/rule.go mergeIngress/mergeEgress)
  return p === "ANY" ? [PROTO_TCP, PROTO_UDP, PROTO_SCTP] : [PROTO_IDX[p]];
}

interface PortRange {
  proto: number;
  lo: number;
  hi: number;
  wildcard: boolean;
}

/**
 * The port ranges a port selector stands for. A named port resolves on ingress against this endpoint's
 * containers, and on egress against the named ports of every pod in the cluster, whatever peers the
 * rule selects (Cilium 1.17's Endpoint.GetNamedPort; per-peer resolution came later, cilium#44429). A
 * name declared with different numbers for one protocol resolves to nothing: GetNamedPort fails with
 * ErrDuplicateNamedPorts and no entry is added.
 */
export function resolvePorts(sel: PortSel, dir: Direction, ep: Pod, cluster: Cluster): PortRange[] {
  if (typeof sel.port === "string") {
    const named = dir === "ingress" ? ep.ports.filter((p) => p.name === sel.port) : cluster.namedPorts(sel.port);
    const out: PortRange[] = [];
    const conflicting = new Set<number>();
    for (const np of named) {
      if (sel.proto !== "ANY" && sel.proto !== np.protocol) continue;
      const proto = PROTO_IDX[np.protocol];
      if (out.some((o) => o.proto === proto && o.lo !== np.port)) conflicting.add(proto);
      if (!out.some((o) => o.proto === proto && o.lo === np.port)) out.push({ proto, lo: np.port, hi: np.port, wildcard: false });
    }
    return out.filter((o) => !conflicting.has(o.proto));
  }
  const wildcard = sel.port === 0 && sel.endPort === undefined;
  return protos(sel.proto).map((proto) => ({ proto, lo: sel.port as number, hi: sel.endPort ?? (sel.port as number), wildcard }));
}

export function ruleSelects(rule: Rule, ep: Pod): boolean {
  // host policies select host endpoints by node labels, and only them (host firewall)
  if (ep.hostEndpoint) return rule.hostPolicy && selectorMatches(rule.subject, ep.hostEndpoint.labelIndex);
  if (rule.hostPolicy) return false;
  for (const r of rule.subject.reqs) {
    // fast path for the namespace requirement every CNP subject has
    if (r.key === "io.kubernetes.pod.namespace" && r.op === "In" && r.values.length === 1 && r.values[0] !== ep.namespace) return false;
  }
  return subjectMatch(rule.subject, ep);
}

function subjectMatch(sel: Selector, ep: Pod): boolean {
  return selectorMatches(sel, ep.identity.index);
}

export function compileEndpoint(ep: Pod, selecting: Rule[], cluster: Cluster, selectors: SelectorCache, settings: ScenarioSettings): CompiledEndpoint {
  const { rules, conflicts } = mergeableRules(selecting, ep, cluster);
  const selectorKeys = new Set<string>();
  const selectorPolicies = new Map<string, Set<PolicyRecord>>();
  const dirMap = (dir: Direction): PolicyMapDir => {
    const m = new PolicyMapDir();
    if (settings.policyEnforcementMode === "never") {
      m.disabled = true;
      return m;
    }
    m.rules = rules.filter((r) => r[dir].length > 0 || r.defaultDeny[dir]);
    m.defaultDenyBy = rules.filter((r) => r.defaultDeny[dir]);
    m.defaultDenyPolicies = [...new Set(m.defaultDenyBy.map((r) => r.policy))];
    // the host firewall enforces host policies only: "always" would otherwise cut every node off
    // (kubelet, health checks) in scenarios written before host policies existed
    m.enforced = (settings.policyEnforcementMode === "always" && !ep.hostEndpoint) || m.defaultDenyBy.length > 0;
    // rules select the endpoint in this direction but none enables default deny: still enforced, with an allow-all
    const implicitAllowAll = !m.enforced && m.rules.length > 0;
    if (implicitAllowAll) m.enforced = true;
    const requires = rules.flatMap((r) => r.requires[dir]);
    const requiresDeny = rules.flatMap((r) => r.requires[dir === "ingress" ? "ingressDeny" : "egressDeny"]);
    for (const rule of rules) for (const pr of rule[dir]) addPeerRule(m, rule, pr, dir, pr.deny ? requiresDeny : requires);
    if (implicitAllowAll) m.addImplicitAllowAll();
    return m;
  };

  const addPeerRule = (m: PolicyMapDir, rule: Rule, pr: PeerRule, dir: Direction, requires: Selector[]) => {
    if (pr.empty) return;
    let ids: number[] | "ANY";
    if (pr.peers === "all") ids = "ANY";
    else {
      const set = new Set<number>();
      let any = false;
      for (const peer of pr.peers) {
        const reqs = peer.kind === "selector" ? requires : [];
        const sk = selectors.keyOf(peer, ep.node, reqs);
        selectorKeys.add(sk);
        let users = selectorPolicies.get(sk);
        if (!users) selectorPolicies.set(sk, (users = new Set()));
        users.add(rule.policy);
        const r = selectors.resolve(peer, ep.endpointId, ep.node, reqs);
        if (r === "ANY") any = true;
        else for (const id of r) set.add(id);
      }
      ids = any ? "ANY" : [...set];
    }
    const idList = ids === "ANY" ? [ANY_IDENTITY] : ids;
    const visibilityOnly = rule.l7Visibility[dir];

    if (pr.icmps) {
      pr.icmps.forEach((ic) => {
        const proto = ic.family === "IPv6" ? PROTO_ICMPV6 : PROTO_ICMP;
        for (const id of idList) m.add(id, proto, ic.type, ic.type, false, pr.deny, { rule, peerRule: pr, path: ic.path }, null);
      });
      return;
    }
    if (!pr.toPorts) {
      for (const id of idList) m.add(id, PROTO_ANY, 0, 65535, true, pr.deny, { rule, peerRule: pr, path: pr.path }, null);
      return;
    }
    for (const portRule of pr.toPorts) {
      const grant: L7Grant | null = portRule.l7 && !pr.deny && !visibilityOnly ? { rules: portRule.l7.rules, policy: rule.policy.hubble, rulePath: portRule.l7.path } : null;
      for (const sel of portRule.ports) {
        for (const range of resolvePorts(sel, dir, ep, cluster)) {
          // the proxies speak TCP and UDP: an SCTP port of an ANY rule is allowed, never redirected
          if (portRule.l7 && !pr.deny && range.proto !== PROTO_SCTP && !m.l7Ports.some((p) => p.proto === range.proto && p.lo === range.lo && p.hi === range.hi)) {
            m.l7Ports.push({ proto: range.proto, lo: range.lo, hi: range.hi, kind: portRule.l7.kind });
          }
          for (const id of idList) m.add(id, range.proto, range.lo, range.hi, range.wildcard, pr.deny, { rule, peerRule: pr, path: sel.path }, grant);
        }
      }
    }
  };

  const ingress = dirMap("ingress");
  const egress = dirMap("egress");
  ingress.seal();
  egress.seal();
  return { ingress, egress, selectorKeys, selectorPolicies, l7Conflicts: conflicts };
}
