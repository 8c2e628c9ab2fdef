// Kubernetes NetworkPolicy → Cilium rules, as pkg/k8s/network_policy.go translates them (§2.9).
import { Checker, join } from "../../scenario/check";
import { parsePrefixNotation, cidrContains, type Cidr } from "../../cluster/ip";
import { LABEL_NAMESPACE, NS_LABEL_PREFIX } from "../../cluster/labels";
import { makeSelector, nsExistsRequirement, nsRequirement } from "../selector";
import { parseSelectorRequirements, type RuleContext } from "./parse-rule";
import type { Peer, PeerRule, PortSel, Requirement, Rule } from "./types";

function k8sSelector(c: Checker, v: unknown, path: string, keyPrefix: string): Requirement[] {
  return parseSelectorRequirements(c, v, path, (k) => ({ source: "k8s", key: keyPrefix + k }));
}

/**
 * A podSelector confined to the policy's namespace as Cilium confines it (network_policy.go): the
 * namespace is written into matchLabels, so a namespace the policy put there itself is replaced, not
 * ANDed. A namespace expression (matchExpressions) stays and is ANDed.
 */
function podSelectorIn(c: Checker, v: unknown, path: string, ns: string): Requirement[] {
  const reqs = k8sSelector(c, v, path, "");
  const labels = v && typeof v === "object" ? (v as { matchLabels?: unknown }).matchLabels : undefined;
  const own = labels && typeof labels === "object" ? (labels as Record<string, unknown>)[LABEL_NAMESPACE] : undefined;
  if (typeof own === "string") {
    // matchLabels are parsed first: the first requirement equal to it is the one matchLabels made
    const i = reqs.findIndex((r) => r.key === LABEL_NAMESPACE && r.op === "In" && r.values.length === 1 && r.values[0] === own);
    if (i >= 0) reqs.splice(i, 1);
  }
  return [...reqs, nsRequirement(ns)];
}

/** The API server's NetworkPolicyPort validation (ValidateNetworkPolicyPort): a number 1-65535, or an IANA service name. */
function parseKnpPort(c: Checker, v: unknown, path: string): number | string | undefined {
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= 1 && v <= 65535) return v;
    c.err(path, `must be between 1 and 65535, inclusive (got ${v})`);
    return undefined;
  }
  const s = c.str(v, path);
  if (s === undefined) return undefined;
  // IsValidPortName: at most 15 characters of a-z, 0-9 and '-', at least one letter, no '--', no hyphen at either end
  if (s.length === 0 || s.length > 15 || !/^[-a-z0-9]+$/.test(s) || !/[a-z]/.test(s) || s.includes("--") || s.startsWith("-") || s.endsWith("-")) {
    c.err(path, `must be a port number or a port name (at most 15 lower-case letters, digits and single inner hyphens, with at least one letter), got ${JSON.stringify(s).slice(0, 80)}`);
    return undefined;
  }
  return s;
}

function parsePorts(ctx: RuleContext, v: unknown, path: string): PortSel[] | null {
  const { c } = ctx;
  const list = c.arr(v, path);
  if (list.length === 0) return null;
  return list.map((pp, i) => {
    const p = join(path, i);
    const x = c.obj(pp, p, ["protocol", "port", "endPort"]);
    const proto = x.protocol === undefined ? "TCP" : c.oneOf(x.protocol, join(p, "protocol"), ["TCP", "UDP", "SCTP"] as const) ?? "TCP";
    // an omitted port means every port of that protocol
    const port = x.port === undefined ? 0 : parseKnpPort(c, x.port, join(p, "port")) ?? 0;
    const sel: PortSel = { proto, port, path: p };
    const endPort = c.num(x.endPort, join(p, "endPort"), { int: true, min: 1, max: 65535 });
    if (endPort !== undefined) {
      // the API server's NetworkPolicy validation: endPort needs a numeric port
      if (x.port === undefined) c.err(join(p, "port"), "must be specified when endPort is specified");
      else if (typeof port !== "number") c.err(join(p, "endPort"), "endPort cannot be used with a named port");
      else if (endPort < port) c.err(join(p, "endPort"), `endPort ${endPort} is lower than port ${port}`);
      else if (endPort > port) sel.endPort = endPort;
    }
    return sel;
  });
}

function parsePeer(ctx: RuleContext, v: unknown, path: string, ns: string): Peer | undefined {
  const { c } = ctx;
  const o = c.obj(v, path, ["podSelector", "namespaceSelector", "ipBlock"]);
  if (o.ipBlock !== undefined) {
    if (o.podSelector !== undefined || o.namespaceSelector !== undefined) c.err(path, "ipBlock cannot be combined with podSelector or namespaceSelector");
    const b = c.obj(o.ipBlock, join(path, "ipBlock"), ["cidr", "except"], ["cidr"]);
    const cs = c.str(b.cidr, join(path, "ipBlock.cidr"));
    if (cs === undefined) return undefined;
    const cidr = parsePrefixNotation(cs);
    if ("error" in cidr) {
      c.err(join(path, "ipBlock.cidr"), cidr.error);
      return undefined;
    }
    const except: Cidr[] = [];
    c.arr(b.except, join(path, "ipBlock.except")).forEach((e, i) => {
      const p = join(join(path, "ipBlock.except"), i);
      const es = c.str(e, p);
      if (es === undefined) return;
      const ex = parsePrefixNotation(es);
      if ("error" in ex) c.err(p, ex.error);
      else if (!cidrContains(cidr, ex)) c.err(p, `except ${ex.text} is not inside ${cidr.text}`);
      else except.push(ex);
    });
    return { kind: "cidr", cidr, except, text: except.length ? `${cidr.text} except ${except.map((e) => e.text).join(", ")}` : cidr.text, path: join(path, "ipBlock") };
  }
  if (o.podSelector === undefined && o.namespaceSelector === undefined) {
    c.err(path, "must set podSelector, namespaceSelector or ipBlock");
    return undefined;
  }
  if (o.namespaceSelector === undefined) return { kind: "selector", sel: makeSelector(podSelectorIn(c, o.podSelector, join(path, "podSelector"), ns)), path };
  const reqs = o.podSelector !== undefined ? k8sSelector(c, o.podSelector, join(path, "podSelector"), "") : [];
  const nsReqs = k8sSelector(c, o.namespaceSelector, join(path, "namespaceSelector"), NS_LABEL_PREFIX);
  reqs.push(...nsReqs);
  if (nsReqs.length === 0) reqs.push(nsExistsRequirement());
  return { kind: "selector", sel: makeSelector(reqs), path };
}

export function parseKnpSpec(ctx: RuleContext, v: unknown, path: string, ns: string): Rule | undefined {
  const { c } = ctx;
  const before = c.issues.length;
  const o = c.obj(v, path, ["podSelector", "policyTypes", "ingress", "egress"], ["podSelector"]);
  const subject = makeSelector(podSelectorIn(c, o.podSelector, join(path, "podSelector"), ns));
  const types = c.arr(o.policyTypes, join(path, "policyTypes")).map((t, i) => c.oneOf(t, join(join(path, "policyTypes"), i), ["Ingress", "Egress"] as const));

  const direction = (key: "ingress" | "egress"): PeerRule[] => {
    const peerKey = key === "ingress" ? "from" : "to";
    const rules: PeerRule[] = [];
    c.arr(o[key], join(path, key)).forEach((r, i) => {
      const p = join(join(path, key), i);
      const x = c.obj(r, p, [peerKey, "ports"]);
      const ports = parsePorts(ctx, x.ports, join(p, "ports"));
      const toPorts = ports ? [{ ports, path: join(p, "ports") }] : null;
      const peers = c.arr(x[peerKey], join(p, peerKey));
      // no peers: every identity, including world and host
      if (peers.length === 0) {
        rules.push({ path: p, deny: false, peers: "all", empty: false, toPorts, icmps: null });
        return;
      }
      peers.forEach((pv, j) => {
        const peer = parsePeer(ctx, pv, join(join(p, peerKey), j), ns);
        if (peer) rules.push({ path: join(join(p, peerKey), j), deny: false, peers: [peer], empty: false, toPorts, icmps: null });
      });
    });
    return rules;
  };
  const ingress = direction("ingress");
  const egress = direction("egress");
  const emptyRule = (p: string): PeerRule => ({ path: p, deny: false, peers: "all", empty: true, toPorts: null, icmps: null });
  const hasIngressType = types.includes("Ingress");
  const hasEgressType = types.includes("Egress");
  const ingressDD = ingress.length > 0 || hasIngressType || !hasEgressType;
  const egressDD = egress.length > 0 || hasEgressType;
  if (ingress.length === 0 && ingressDD) ingress.push(emptyRule(join(path, "policyTypes")));
  if (egress.length === 0 && egressDD) egress.push(emptyRule(join(path, "policyTypes")));
  if (c.issues.length > before) return undefined;
  return {
    policy: ctx.policy,
    path,
    subject,
    hostPolicy: false,
    ingress,
    egress,
    defaultDeny: { ingress: ingressDD, egress: egressDD },
    requires: { ingress: [], egress: [], ingressDeny: [], egressDeny: [] },
    l7Visibility: { ingress: false, egress: false },
  };
}
