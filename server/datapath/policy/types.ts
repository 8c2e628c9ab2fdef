// Parsed, validated policy rules in the engine's own shape. CNP, CCNP and KNP all become `Rule`s.
import type { PolicyCounters } from "../counters";
import type { Policy, PolicyKind } from "../../../lib/flow/types";
import type { L7Rules } from "../l7/proxy-types";
import type { Cidr } from "../../cluster/ip";

export type { PolicyKind };
export type Op = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface Requirement {
  /** label source; "any" matches every source */
  source: string;
  key: string;
  op: Op;
  values: string[];
}

export interface Selector {
  reqs: Requirement[];
  /** canonical text: the selector-cache key and what explanations print */
  text: string;
}

export type Peer =
  | { kind: "selector"; sel: Selector; path: string }
  | { kind: "entity"; entity: string; path: string }
  | { kind: "cidr"; cidr: Cidr; except: Cidr[]; text: string; path: string }
  /** CIDRSet entry naming CiliumCIDRGroups: by name (ref) or by their labels (sel) */
  | { kind: "cidrGroup"; ref?: string; sel?: Selector; except: Cidr[]; text: string; path: string }
  | { kind: "fqdn"; text: string; re: RegExp; path: string }
  /** toServices: selects the pods behind matching services (services with selectors, §1.8) */
  | { kind: "service"; namespace: string | undefined; name?: string; reqs?: Requirement[]; text: string; path: string };

export type L4Proto = "TCP" | "UDP" | "SCTP" | "ANY";

export interface PortSel {
  proto: L4Proto;
  /** number, or a lower-cased IANA port name */
  port: number | string;
  endPort?: number;
  path: string;
}

export interface L7Spec {
  kind: "http" | "kafka" | "dns" | "l7proto";
  rules: L7Rules;
  path: string;
}

export interface PortRuleSpec {
  ports: PortSel[];
  l7?: L7Spec;
  path: string;
  /** TLS inspection and listener fields the rule sets, which the simulator does not enforce (lint says so) */
  envoyOnly?: string[];
}

export interface IcmpSel {
  family: "IPv4" | "IPv6";
  type: number;
  path: string;
}

export interface PeerRule {
  /** e.g. "spec.ingress[0]" */
  path: string;
  deny: boolean;
  /** "all": no L3 member (every identity); otherwise the listed peers (OR) */
  peers: "all" | Peer[];
  /** `- {}`: selects no traffic, only turns default deny on */
  empty: boolean;
  /**
   * The peer field given as an explicit empty list (`fromEndpoints: []` …): since Cilium 1.15 it selects
   * no identity at all (cilium/cilium#29608), where an absent field selects every one.
   */
  emptyPeerList?: string;
  /** null: all ports and protocols (L3-only) */
  toPorts: PortRuleSpec[] | null;
  icmps: IcmpSel[] | null;
  /**
   * `authentication.mode` when the rule sets one, as Hubble's AuthType number (0 disabled, 1 SPIRE
   * for "required", 2 test-always-fail); absent when the rule says nothing (an explicit "disabled"
   * is not the same: it overrides a requirement inherited from a broader entry)
   */
  auth?: number;
}

export interface Rule {
  policy: PolicyRecord;
  /** "spec" or "specs[1]" */
  path: string;
  subject: Selector;
  /** nodeSelector rules (host firewall) are parsed but not enforced on pod endpoints */
  hostPolicy: boolean;
  ingress: PeerRule[];
  egress: PeerRule[];
  /** effective default-deny per direction (explicit enableDefaultDeny, else "has rules") */
  defaultDeny: { ingress: boolean; egress: boolean };
  /**
   * fromRequires / toRequires selectors (deprecated; ANDed into endpoint peers), per direction; those of
   * allow rules narrow allow peers only and those of deny rules deny peers only, as Cilium keeps them apart
   */
  requires: { ingress: Selector[]; egress: Selector[]; ingressDeny: Selector[]; egressDeny: Selector[] };
  /** rule has L7 rules but enableDefaultDeny false for that direction: L7 allow-all (§2.1) */
  l7Visibility: { ingress: boolean; egress: boolean };
  /** `log.value`: Hubble lists it in policy_log of the verdicts this rule decides (Cilium 1.18) */
  log?: string;
}

export interface PolicyRecord {
  /** kind/namespace/name */
  key: string;
  kind: PolicyKind;
  name: string;
  namespace?: string;
  uid: string;
  source: string;
  documentIndex: number;
  yaml: string;
  revision: number;
  /** derived-from labels, sorted */
  labels: string[];
  /** the Hubble Policy object, built once per revision */
  hubble: Policy;
  rules: Rule[];
  /** verdict counters, created on first use and zero again for a changed policy (a new record) */
  counters?: PolicyCounters;
}

export interface PolicyWarning {
  file: string;
  /** same as file (the name the API layer uses) */
  source: string;
  /** 1-based document index within the file */
  document: number;
  line?: number;
  kind?: string;
  name?: string;
  namespace?: string;
  path: string;
  message: string;
  /** the full one-line text: file, document, field path and problem */
  text: string;
}
