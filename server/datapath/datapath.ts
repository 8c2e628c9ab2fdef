// The Datapath: one simulated Cilium datapath for a scenario. process() takes a request through
// egress policy at the source, the L7 proxy where redirected, ingress policy at the destination and
// connection tracking, and returns the Hubble records Cilium would emit plus a trace summary.
import { derivedPolicy } from "../../lib/flow/derived-policy";
import { watch, type FSWatcher } from "node:fs";
import { Cluster, HOST_IFINDEX, TUNNEL_IFINDEX, type ClusterService, type HostEndpoint, type Node, type Pod } from "../cluster/model";
import type { Identity } from "../cluster/identities";
import { formatIPv4, parseIPv4 } from "../cluster/ip";
import { loadScenarioFile } from "../scenario/load";
import type { Scenario, TrafficEntry, TrafficRequest } from "../scenario/types";
import type { Endpoint, Ethernet, Flow, FlowEnvelope, FlowscopeExtension, Layer4, Layer7, NetworkInterface, Policy, TrafficDirection, Verdict } from "../../lib/flow/types";
import { DropReason, ReservedIdentity, dropReasonName } from "../../lib/flow/enums";
import { createL7Proxy } from "./l7/proxy";
import type { DnsAnswerSource, L7Context, L7Grant, L7Outcome, L7Protocol, L7Proxy, L7RequestSpec, UpstreamFailure } from "./l7/proxy-types";
import { PolicyEngine } from "./engine";
import { listPolicyFiles, parsePolicyText, policyKey, type PolicyText } from "./policy/documents";
import type { PolicyRecord, PolicyWarning, Rule } from "./policy/types";
import { CIDR_GROUP_KIND, type CidrGroup } from "./policy/cidr-group";
import { PolicyFileCache } from "./policy/parse-thread";
import { AUTH_NONE, PROTO_ICMP, PROTO_SCTP, PROTO_TCP, PROTO_UDP, type MapEntry, type MatchType, type PolicyMapDir } from "./policy-map";
import { AuthManager, AuthMap, AUTH_TYPE_NAMES, type AuthKey } from "./auth-map";
import type { Direction } from "./compiler";
import { buildFlow, extension, formatTime, l4Summary, layer4, localEndpoint, type Packet } from "./flow-builder";
import { clientSends, clientSendsData, connectionNote, handshakeTraces, serverAnswers, serverAnswersAndBothClose, synTraces, type Handshake } from "./tcp-lifecycle";
import { entryText, identityText, matchTypeName, nearestMiss, policyName } from "./explain";
import type { FqdnCacheEntry } from "./fqdn-cache";
import type { IpcacheEntry } from "./ipcache";
import { countDefaultDeny, countEntryHit } from "./counters";
import type { EntryStats } from "./entry-stats";
import { Conntrack, type ConntrackEntry, type ConntrackOptions } from "./conntrack";
import { fnv1a } from "../cluster/hash";
import { requestBytes } from "./request-size";
import { conflictText, type L7ParserConflict } from "./l7-parser-conflicts";

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** Cilium's DNSGCJobInterval: expired FQDN cache entries are collected once a minute */
export const FQDN_GC_INTERVAL_MS = 60_000;

export interface SideResult {
  enforced: boolean;
  verdict: Verdict;
  match_type: string;
  allowed_by: Policy[];
  denied_by: Policy[];
  default_deny_by?: Policy[];
}

export interface TraceResult {
  request: Record<string, unknown>;
  verdict: "FORWARDED" | "DROPPED" | "AUDIT";
  drop_reason_desc?: string;
  l7_denied?: boolean;
  response?: { http_code?: number; kafka_error_code?: number; dns_rcode?: string };
  egress?: SideResult;
  ingress?: SideResult;
  explanation: string[];
  flows: FlowEnvelope[];
}

export interface PolicyInfo {
  key: string;
  name: string;
  namespace?: string;
  kind: string;
  revision: number;
  labels: string[];
  source: string;
  document: number;
  yaml: string;
  rules: number;
  selectedEndpoints: number[];
  /** the selected endpoints with their pods */
  selects: { id: number; pod: string; namespace: string }[];
}

/** A loaded CiliumCIDRGroup (not a policy: policies refer to it from CIDRSet entries). */
export interface CidrGroupInfo {
  name: string;
  labels: Record<string, string>;
  cidrs: string[];
  source: string;
  document: number;
  yaml: string;
}

/** what a policy change applied, and what it refused */
export interface PolicyChange {
  applied: PolicyInfo[];
  appliedCidrGroups: CidrGroupInfo[];
  warnings: PolicyWarning[];
}

export interface DatapathOptions {
  extraPolicyPaths?: string[];
  audit?: boolean;
  proxy?: L7Proxy;
  /** count packets/bytes/last hit per policy-map entry and verdicts per policy (default on) */
  counters?: boolean;
  /** connection-tracking bounds (defaults: Cilium's CT GC lifetimes, 100,000 entries) */
  conntrack?: ConntrackOptions;
}

export interface EndpointInfo {
  id: number;
  pod: string;
  namespace: string;
  workload: string;
  node: string;
  ip: string;
  identity: number;
  labels: string[];
  policyEnabled: { ingress: boolean; egress: boolean };
}

interface Decision {
  dir: Direction;
  checked: boolean;
  enforced: boolean;
  emit: boolean;
  verdict: "FORWARDED" | "REDIRECTED" | "DROPPED" | "AUDIT";
  dropReason?: number;
  matchType: MatchType;
  entry: MapEntry | null;
  allowedBy: Policy[];
  deniedBy: Policy[];
  defaultDenyBy: Policy[];
  grants: L7Grant[] | null;
  /** with grants null: what lets every L7 request of this peer through (allow rules without L7 rules) */
  l7AllowAllBy?: Policy[];
  l7AllowAllRule?: string;
  l7AllowAllNote?: string;
  l7Kind?: string;
  rule?: string;
  notes: string[];
  /** the matched allow entry's auth type (AUTH_NONE for none): flows carry it as auth_type */
  authType: number;
  /** the auth map must be checked before the packet passes (not in audit mode, which skips it) */
  needsAuth: boolean;
  /** audit mode let an auth-requiring entry pass without checking the auth map */
  audited: boolean;
  /** this decision when the auth map has no entry for the pair, per remote node: an AUTH_REQUIRED drop (built once) */
  authMissing?: Map<number, Decision>;
  // what every request with this decision shares (decisions are memoised per endpoint and direction)
  side: SideResult;
  /** the notes as explanation lines, prefixed with the side */
  lines: string[];
  verdictExt?: FlowscopeExtension;
  dropExt?: FlowscopeExtension;
  /** the policy list the policy-verdict record carries as *_allowed_by / *_denied_by */
  allowedList?: Policy[];
  deniedList?: Policy[];
  /** the `log.value`s of the rules behind the entry that record names (Hubble's policy_log) */
  policyLog?: string[];
}

/** one endpoint's side: its map, its counters and the decisions made there so far */
interface SideMemo {
  m: PolicyMapDir;
  stats: EntryStats;
  decisions: Map<number, Decision | Map<string, Decision>>;
}

/** the time of one request's records: a shared prefix and a nanosecond part that grows per record */
interface Clock {
  ms: number;
  ns: number;
  prefix: string;
}

/** one request on its way through the datapath: what its sides and records share */
interface Step {
  req: TrafficRequest;
  clock: Clock;
  result: TraceResult;
  explanation: string[] | null;
  flows: FlowEnvelope[];
  pkt: Packet;
  protoIdx: number;
  /** the port, or the ICMP type, that policy looks up */
  key: number;
  bytes: number;
  port: number;
  authority: string;
  ipFwd: NonNullable<Flow["IP"]>;
  l4Fwd: Layer4;
  summaryFwd: string;
  /** the source as the destination's node sees it (and the destination as the source's node does) */
  srcE: Endpoint;
  /** the source as its own node sees it, and the destination likewise: they differ for node addresses */
  srcSelfE: Endpoint;
  dstSelfE: Endpoint;
  dstE: Endpoint;
  dstNames: string[];
  srcEp: Pod | undefined;
  audited: boolean;
  l7Req: L7RequestSpec | null;
  dnsResolvedByProxy: boolean;
  /** L7 responses waiting for the forward path's events; `due`: when the response is stamped (HTTP) */
  pending: { env: FlowEnvelope; due?: Stamp }[] | null;
  /** how the source's egress proxy, having forwarded the request, answers when the destination side fails it */
  relay: ((upstream: UpstreamFailure) => void) | null;
  /** the outcome of the proxy that refused the request, if one did */
  refusal: L7Outcome | null;
  /** what the DNS proxy's answer teaches the FQDN cache, applied once the query reached its server */
  dnsLearn: (() => void) | null;
  /** the request bytes the last proxy passed on unchanged (Kafka, DNS): the next proxy sees the same */
  l7Forwarded: { protocol: L7Protocol; bytes: Uint8Array } | null;
  /**
   * the destination's ingress proxy allowed the request on the client's TCP connection, which it
   * terminates: `conn` is that connection's handshake as traced (null when none was), `node` the proxy's
   */
  ingressProxy: { conn: Handshake | null; node: string } | null;
}

/** Envoy's default idle timeout of an upstream HTTP connection (1 h), after which the pool closes it */
const UPSTREAM_IDLE_MS = 3_600_000;
/** the pooled connections remembered at most (the least recently used go first) */
const MAX_UPSTREAM_POOL = 10_000;
/** Cilium's CT report interval: an established connection's packet is traced at least this often per direction */
const CT_REPORT_INTERVAL_MS = 5000;

function nextTime(c: Clock): string {
  c.ns += 1000;
  // a record after one stamped late in its millisecond (an L7 response) starts the next millisecond
  if (c.ns >= 1_000_000) {
    c.ms += Math.floor(c.ns / 1_000_000);
    c.ns %= 1_000_000;
    c.prefix = formatTime(c.ms, 0).slice(0, -7);
  }
  return c.prefix + pad6(c.ns) + "Z";
}

/** a point on a request's clock: milliseconds since the epoch, and nanoseconds into that millisecond */
interface Stamp {
  ms: number;
  ns: number;
}

/** `at` plus `ns` nanoseconds, carried into milliseconds */
function later(at: Stamp, ns: number): Stamp {
  const total = at.ns + ns;
  return { ms: at.ms + Math.floor(total / 1e6), ns: total % 1e6 };
}

export interface ProcessOptions {
  /** build the trace's explanation lines (default true); the flows are the same either way */
  explain?: boolean;
}

interface Place {
  ip: string;
  ipNum: number;
  pod?: Pod;
  node?: Node;
  service?: ClusterService;
  label: string;
}

/** the distinct non-empty `log.value`s of the rules (Hubble's policy_log), or undefined when none is set */
function uniqLogs(rules: { rule: Rule }[] | Rule[]): string[] | undefined {
  let out: string[] | undefined;
  for (const x of rules) {
    const log = ("rule" in x ? x.rule : x).log;
    if (log && !out?.includes(log)) (out ??= []).push(log);
  }
  return out;
}

function uniqPolicies(rules: { rule: Rule }[] | Rule[]): Policy[] {
  const seen = new Set<string>();
  const out: Policy[] = [];
  for (const x of rules) {
    const r = "rule" in x ? x.rule : x;
    if (seen.has(r.policy.key)) continue;
    seen.add(r.policy.key);
    out.push(r.policy.hubble);
  }
  return out;
}

const PROTO_IDX = { TCP: PROTO_TCP, UDP: PROTO_UDP, SCTP: PROTO_SCTP, ICMP: PROTO_ICMP } as const;

// shared, never-modified parts of flow records
const SYN = Object.freeze({ SYN: true });
const SYN_ACK = Object.freeze({ SYN: true, ACK: true });
const EVENT_VERDICT = Object.freeze({ type: 5 });
const EVENT_TRACE = Object.freeze({ type: 4 });
const EVENT_TRACE_HOST = Object.freeze({ type: 4, sub_type: 2 });
const EVENT_TRACE_STACK = Object.freeze({ type: 4, sub_type: 3 });
/** TRACE_TO_PROXY: bpf_lxc sends it as it redirects a packet to the L7 proxy (Envoy or the DNS proxy) */
const EVENT_TRACE_PROXY = Object.freeze({ type: 4, sub_type: 1 });
const EVENT_TRACE_OVERLAY = Object.freeze({ type: 4, sub_type: 4 });
/** the tunnel device every simulated node encapsulates pod-to-pod traffic through */
const TUNNEL_IF: NetworkInterface = Object.freeze({ index: TUNNEL_IFINDEX, name: "cilium_vxlan" });
/** cilium_host, where bpf_lxc hands packets for the host firewall (TRACE_TO_HOST) */
const HOST_IF: NetworkInterface = Object.freeze({ index: HOST_IFINDEX, name: "cilium_host" });
const EVENT_L7 = Object.freeze({ type: 129 });
const EVENT_DROP_DENY = Object.freeze({ type: 1, sub_type: DropReason.POLICY_DENY });
const EVENT_DROP_DENIED = Object.freeze({ type: 1, sub_type: DropReason.POLICY_DENIED });
const EVENT_DROP_AUTH = Object.freeze({ type: 1, sub_type: DropReason.AUTH_REQUIRED });
const NO_NAMES: string[] = [];
// the L7 request assumed when a request on a redirected port names none
const DEFAULT_KAFKA = Object.freeze({ apiKey: "metadata" });
const DEFAULT_DNS = Object.freeze({ query: "example.com", type: "A" });
const DEFAULT_HTTP = Object.freeze({ method: "GET", path: "/" });

function podLabel(p: Pod): string {
  return `${p.namespace}/${p.name}`;
}

const PAD = ["", "0", "00", "000", "0000", "00000"];
function pad6(n: number): string {
  const s = String(n);
  return s.length >= 6 ? s : PAD[6 - s.length] + s;
}

/**
 * The authority a client sends: an HTTP/1.1 client leaves the default port out of Host (curl sends
 * "Host: deathstar.default.svc.cluster.local"); gRPC clients send the dial target, port included.
 */
function hostPort(host: string, port: number, grpc: boolean): string {
  return port === 80 && !grpc ? host : `${host}:${port}`;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** see Datapath.snapshot() */
export interface DatapathSnapshot {
  scenario: Scenario;
  audit: boolean;
  cidrGroups: CidrGroup[];
  policies: PolicyRecord[];
}

export class Datapath {
  readonly cluster: Cluster;
  readonly engine: PolicyEngine;
  warnings: PolicyWarning[] = [];
  private readonly proxy: L7Proxy;
  private readonly policyPaths: string[];
  private readonly audit: boolean;
  private sport = 40000;
  private readonly conntrack: Conntrack;
  /** the ingress proxies' pooled upstream connections (see finishThroughIngressProxy), oldest use first */
  private readonly upstreamPool = new Map<string, { sport: number; usedMs: number; reportedMs: number }>();
  /** cilium_auth_map and the agent's auth manager that fills it (mutual authentication) */
  readonly authMap = new AuthMap();
  private readonly authManager = new AuthManager(this.authMap);
  /** node name → the datapath's node id (1-based; 0 means the local node) */
  private readonly nodeIds: Map<string, number>;
  /** per-entry and per-policy counting; off only to measure what it costs */
  readonly counting: boolean;

  /** each policy file's last parse: reloads parse only what changed */
  private readonly policyFiles = new PolicyFileCache();
  constructor(
    readonly scenario: Scenario,
    opts: DatapathOptions = {},
  ) {
    this.cluster = new Cluster(scenario);
    this.nodeIds = new Map(this.cluster.nodes.map((n, i) => [n.name, i + 1]));
    this.engine = new PolicyEngine(this.cluster, scenario.settings);
    this.proxy = opts.proxy ?? createL7Proxy();
    this.audit = opts.audit ?? scenario.settings.policyAuditMode;
    this.counting = opts.counters ?? true;
    this.conntrack = new Conntrack(opts.conntrack);
    this.policyPaths = [...scenario.policies, ...(opts.extraPolicyPaths ?? [])];
    const { policies, warnings, cidrGroups } = this.policyFiles.readSync(this.policyPaths);
    this.warnings = warnings;
    this.engine.applyCidrGroups(cidrGroups);
    this.engine.apply(policies);
  }

  /**
   * A datapath for the same cluster with the policies and CIDR groups in force now, and nothing learned
   * (no connections, FQDN cache, authentications or counters): what-if evaluation never touches this one.
   */
  sandbox(): Datapath {
    // Copies: applying a record stamps its revision, and the live ones must keep theirs. Records are plain
    // data (the policy parse thread hands them over the same way); parsing their YAML again took seconds
    // with a few thousand policies in force.
    const s = this.snapshot();
    return Datapath.fromSnapshot({ ...s, cidrGroups: s.cidrGroups.map((g) => structuredClone(g)), policies: s.policies.map((p) => structuredClone(p)) });
  }

  /**
   * What sandbox() is built from, as plain data: the cluster, audit mode and the policies and CIDR groups
   * in force (shared, not copied). Sent to another thread it is copied on the way, and fromSnapshot()
   * there builds the same sandbox, so a what-if on thousands of rules does not hold the main thread.
   */
  snapshot(): DatapathSnapshot {
    return {
      scenario: { ...this.scenario, policies: [] },
      audit: this.audit,
      cidrGroups: [...this.engine.cidrGroups.values()],
      policies: [...this.engine.policies.values()],
    };
  }

  /** a datapath from a snapshot's own records (they are applied, and so stamped, as they are) */
  static fromSnapshot(s: DatapathSnapshot): Datapath {
    const copy = new Datapath(s.scenario, { audit: s.audit, counters: false });
    copy.engine.applyCidrGroups(s.cidrGroups);
    copy.engine.apply(s.policies);
    return copy;
  }

  /** policy audit mode for every endpoint (policy-audit-mode) */
  get auditMode(): boolean {
    return this.audit;
  }

  static fromScenarioFile(path: string, opts: DatapathOptions = {}): Datapath {
    return new Datapath(loadScenarioFile(path), opts);
  }

  // ---------------------------------------------------------------- policies

  revision(): number {
    return this.engine.revision();
  }

  policies(): PolicyInfo[] {
    return [...this.engine.policies.values()].map((p) => this.policyInfo(p));
  }

  private policyInfo(p: PolicyRecord): PolicyInfo {
    return {
      key: p.key,
      name: p.name,
      ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
      kind: p.kind,
      revision: p.revision,
      labels: p.labels,
      source: p.source,
      document: p.documentIndex,
      yaml: p.yaml,
      rules: p.rules.length,
      selectedEndpoints: this.engine.selectedEndpoints(p.key),
      selects: this.engine.selectedEndpoints(p.key).map((id) => {
        const ep = this.cluster.endpointById.get(id)!;
        return { id, pod: ep.name, namespace: ep.namespace };
      }),
    };
  }

  /**
   * Policies left out of some endpoints' maps because their L7 parser clashes with another on a port
   * (l7-parser-conflicts.ts), one line per clash and workload (a node's host endpoint on its own).
   */
  l7ParserConflicts(): { policy: PolicyRecord; path: string; message: string }[] {
    const groups = new Map<string, { conflict: L7ParserConflict; workload: string; pods: string[] }>();
    for (const ep of [...this.cluster.endpoints, ...this.cluster.hostEndpoints]) {
      for (const c of this.engine.compiled.get(ep.endpointId)?.l7Conflicts ?? []) {
        const workload = ep.hostEndpoint ? ep.name : `${ep.namespace}/${ep.workload}`;
        const key = `${workload}|${c.policy.key}|${c.with.key}|${c.dir}|${c.port}|${c.parsers.join("/")}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { conflict: c, workload, pods: [] }));
        g.pods.push(ep.hostEndpoint ? ep.name : `${ep.namespace}/${ep.name}`);
      }
    }
    return [...groups.values()].map((g) => ({
      policy: g.conflict.policy,
      path: g.conflict.paths[0],
      message: conflictText(g.conflict, g.pods.length === 1 ? g.pods[0]! : `${g.workload} (${g.pods.length} endpoints)`),
    }));
  }

  cidrGroups(): CidrGroupInfo[] {
    return [...this.engine.cidrGroups.values()].map((g) => cidrGroupInfo(g));
  }

  upsertPolicyYaml(yamlText: string, source: string): PolicyChange {
    return this.applyPolicyText(parsePolicyText(yamlText, source));
  }

  /** Applies what parsePolicyText made of a text (here, or on the policy parse thread: it is plain data). */
  applyPolicyText({ policies, warnings, cidrGroups }: PolicyText): PolicyChange {
    this.engine.applyCidrGroups(cidrGroups);
    this.engine.apply(policies);
    return { applied: policies.map((p) => this.policyInfo(p)), appliedCidrGroups: cidrGroups.map((g) => cidrGroupInfo(g)), warnings };
  }

  deletePolicy(kind: string, namespace: string | undefined, name: string): boolean {
    if (kind === CIDR_GROUP_KIND) {
      if (!this.engine.cidrGroups.has(name)) return false;
      this.engine.applyCidrGroups([], [name]);
      return true;
    }
    const ns = kind === "CiliumClusterwideNetworkPolicy" ? undefined : namespace ?? "default";
    const key = policyKey(kind, ns, name);
    if (!this.engine.policies.has(key)) return false;
    this.engine.apply([], [key]);
    return true;
  }

  /** Re-reads the scenario's policy files; only policies whose text changed (or vanished) are re-applied. */
  reloadPolicyFiles(): { warnings: PolicyWarning[] } {
    return this.applyPolicyFiles(this.policyFiles.readSync(this.policyPaths));
  }

  /** reloadPolicyFiles, parsing only the files that changed, and large ones off the main thread */
  async reloadPolicyFilesAsync(): Promise<{ warnings: PolicyWarning[] }> {
    return this.applyPolicyFiles(await this.policyFiles.read(this.policyPaths));
  }

  private applyPolicyFiles({ policies, warnings, cidrGroups }: PolicyText): { warnings: PolicyWarning[] } {
    const files = new Set(listPolicyFiles(this.policyPaths).files);
    const fromFiles = (source: string) => files.has(source) || this.policyPaths.some((root) => source.startsWith(root));
    const freshGroups = new Map(cidrGroups.map((g) => [g.name, g]));
    const invalidGroups = new Set(warnings.filter((w) => w.kind === CIDR_GROUP_KIND && w.name).map((w) => w.name!));
    this.engine.applyCidrGroups(
      cidrGroups.filter((g) => {
        const old = this.engine.cidrGroups.get(g.name);
        return !old || old.yaml !== g.yaml || old.source !== g.source;
      }),
      [...this.engine.cidrGroups.values()].filter((g) => !freshGroups.has(g.name) && fromFiles(g.source) && !invalidGroups.has(g.name)).map((g) => g.name),
    );
    const fresh = new Map(policies.map((p) => [p.key, p]));
    const upserts = policies.filter((p) => {
      const old = this.engine.policies.get(p.key);
      return !old || old.yaml !== p.yaml || old.source !== p.source;
    });
    const invalidKeys = new Set(warnings.filter((w) => w.kind && w.name).map((w) => policyKey(w.kind!, w.kind === "CiliumClusterwideNetworkPolicy" ? undefined : w.namespace ?? "default", w.name!)));
    const deletes = [...this.engine.policies.values()]
      // a file policy that vanished is deleted; one that became invalid keeps its last good version, as in Cilium
      .filter((p) => !fresh.has(p.key) && (files.has(p.source) || this.policyPaths.some((root) => p.source.startsWith(root))) && !invalidKeys.has(p.key))
      .map((p) => p.key);
    this.engine.apply(upserts, deletes);
    this.warnings = warnings;
    return { warnings };
  }

  watchPolicyFiles(onChange: () => void): () => void {
    const watchers: FSWatcher[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reloading: Promise<unknown> = Promise.resolve();
    const fire = () => {
      if (timer) clearTimeout(timer);
      // editors write files in several steps; settle before re-reading
      timer = setTimeout(() => {
        timer = undefined;
        // one reload at a time, applied in the order the changes came
        reloading = reloading
          .then(() => this.reloadPolicyFilesAsync())
          .then(onChange, (err: Error) => console.error(`policy files: reload failed: ${err.message}`));
      }, 100);
    };
    for (const p of this.policyPaths) {
      try {
        watchers.push(watch(p, { recursive: true }, fire));
      } catch {
        /* a missing path was already reported as a warning */
      }
    }
    return () => {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    };
  }

  // ---------------------------------------------------------------- inspection

  trafficEntries(): TrafficEntry[] {
    return this.scenario.traffic.map((t) => ({ ...t }));
  }

  endpoints(): EndpointInfo[] {
    return this.cluster.endpoints.map((p) => {
      const c = this.engine.compiled.get(p.endpointId)!;
      return {
        id: p.endpointId,
        pod: p.name,
        namespace: p.namespace,
        workload: p.workload,
        node: p.node,
        ip: p.ip,
        identity: p.identity.id,
        labels: p.identity.labels,
        policyEnabled: { ingress: c.ingress.enforced, egress: c.egress.enforced },
      };
    });
  }

  identities(): { id: number; labels: string[]; kind: string }[] {
    return this.cluster.identities.all().map((i) => ({ id: i.id, labels: i.labels, kind: i.kind }));
  }

  ipcache(observerNode?: string): IpcacheEntry[] {
    return this.engine.ipcache.list(observerNode);
  }

  policyMap(endpointId: number, direction?: "ingress" | "egress"): { direction: string; enforced: boolean; entries: ReturnType<Datapath["entryInfo"]>[] }[] {
    const c = this.engine.compiled.get(endpointId);
    if (!c) return [];
    const dirs: Direction[] = direction ? [direction] : ["ingress", "egress"];
    return dirs.map((d) => {
      const stats = this.engine.statsOf(endpointId, d);
      return { direction: d, enforced: c[d].enforced, entries: c[d].all().map((e) => this.entryInfo(e, c[d], stats)) };
    });
  }

  private entryInfo(e: MapEntry, m: PolicyMapDir, stats: EntryStats | undefined) {
    const redirect = m.redirectOf(e) !== undefined;
    return {
      identity: e.identity === 0 ? "ANY" : e.identity,
      proto: ["ANY", "TCP", "UDP", "SCTP", "ICMP", "ICMPv6"][e.proto],
      port: e.wildcardPort ? "ANY" : e.portLo === e.portHi ? String(e.portLo) : `${e.portLo}-${e.portHi}`,
      action: e.deny ? "deny" : "allow",
      redirect,
      rules: (e.deny ? e.denyRules : e.allowRules).map((r) => ({ policy: r.rule.policy.hubble, path: r.path })),
      packets: stats?.packets(e) ?? 0,
      bytes: stats?.bytes(e) ?? 0,
      lastHit: stats?.lastHit(e) ? new Date(stats.lastHit(e)).toISOString() : null,
    };
  }

  fqdnCache(endpointId?: number): FqdnCacheEntry[] {
    return this.engine.fqdn.list(endpointId);
  }

  connections(): ConntrackEntry[] {
    return this.conntrack.list();
  }

  /** connection-tracking entries held (bounded by the table's size, like bpf-ct-global-*-max) */
  connectionCount(): number {
    return this.conntrack.size;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Decides one request and builds its Hubble records. `explain: false` leaves the trace's
   * `explanation` lines empty (the flows are the same): the live simulator does not read them.
   */
  process(req: TrafficRequest, now: Date = new Date(), opts?: ProcessOptions): TraceResult {
    const ms = now.getTime();
    // Expired names leave policy when the DNS garbage collector next runs (every minute), not the moment
    // their TTL ends: until then their IPs stay allowed, as in Cilium.
    if (this.nextFqdnGc === undefined) this.nextFqdnGc = ms + FQDN_GC_INTERVAL_MS;
    else if (ms >= this.nextFqdnGc) {
      this.nextFqdnGc = ms + FQDN_GC_INTERVAL_MS;
      if (this.engine.fqdn.expire(ms)) this.engine.onFqdnChange();
    }
    const clock: Clock = { ms, ns: 0, prefix: this.timePrefix(ms) };
    const explain = opts?.explain !== false;
    if (req.toFQDN) return this.processFqdn(req, clock, explain);
    return this.processOne(req, clock, explain ? [] : null);
  }

  private processFqdn(req: TrafficRequest, clock: Clock, explain: boolean): TraceResult {
    const name = req.toFQDN!;
    // The pod that looks the name up is the one that connects: its own FQDN cache names the address
    // (destination_names), as the DNS proxy learned it for that endpoint.
    const from = this.resolveSource(req);
    const lookup = this.processOne({ from: req.from, dns: { query: name, type: "A" } }, clock, explain ? [`resolving ${name} through kube-dns first`] : null, undefined, from);
    const answered = lookup.verdict !== "DROPPED" ? this.lastDnsIps : [];
    if (lookup.verdict === "DROPPED" || answered.length === 0) {
      if (answered.length === 0 && lookup.verdict !== "DROPPED" && explain) lookup.explanation.push(`kube-dns has no record for ${name}; the request ends with the lookup`);
      return { ...lookup, request: { ...this.describeRequest(req), lookup: lookup.request } };
    }
    const ip = answered[0];
    const conn = this.processOne({ ...req, toFQDN: undefined, toIP: ip }, clock, explain ? [`${name} resolved to ${answered.join(", ")}; connecting to ${ip}`] : null, name, from);
    return {
      ...conn,
      request: { ...this.describeRequest(req), resolved_ip: ip, connection: conn.request },
      explanation: explain ? [...lookup.explanation, ...conn.explanation] : [],
      flows: [...lookup.flows, ...conn.flows],
    };
  }

  private lastDnsIps: string[] = [];

  /**
   * The port a node's proxy listens on for a redirect: Cilium gives the DNS proxy one port per agent and
   * Envoy one per listener (ingress or egress, per L7 parser), taken from 10000-20000. Here it is derived
   * from those, so one listener keeps its port.
   */
  private proxyPort(node: string, dir: Direction, req: TrafficRequest): number {
    const parser = req.dns ? "dns" : req.kafka ? "kafka" : req.grpc ? "grpc" : "http";
    return 10000 + (fnv1a(parser === "dns" ? `${node}|dns` : `${node}|${dir}|${parser}`) % 10000);
  }
  private readonly hubbleNodeNames = new Map<string, string>();

  /**
   * A node as Hubble names it: cluster/node, except in a cluster named "default" (GetAbsoluteNodeName),
   * which is what `--node-name` patterns and the spec's examples (kind-kind/kind-worker) match.
   */
  private hubbleNodeName(node: string): string {
    let n = this.hubbleNodeNames.get(node);
    if (n === undefined) {
      const cluster = this.scenario.cluster.name;
      n = cluster && cluster !== "default" ? `${cluster}/${node}` : node;
      this.hubbleNodeNames.set(node, n);
    }
    return n;
  }
  /** when the DNS garbage collector runs next (ms); set by the first request */
  private nextFqdnGc: number | undefined;

  private describeRequest(req: TrafficRequest): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k in req) {
      const v = (req as unknown as Record<string, unknown>)[k];
      if (v !== undefined && k !== "rate") out[k] = v;
    }
    return out;
  }

  // one round-robin counter per list and role (source, destination, service backends)
  private readonly rrFrom = new WeakMap<Pod[], number>();
  private readonly rrTo = new WeakMap<Pod[], number>();
  private readonly rrSvc = new WeakMap<ClusterService, number>();

  private pick<K extends object>(rr: WeakMap<K, number>, key: K, list: Pod[]): Pod {
    const n = rr.get(key) ?? 0;
    rr.set(key, n + 1);
    return list[n % list.length];
  }

  private placeOfIp(ip: string): Place {
    const ipNum = parseIPv4(ip);
    if (ipNum === undefined) throw new RequestError(`"${ip}" is not an IPv4 address`);
    const pod = this.cluster.podByIp.get(ipNum);
    if (pod) return { ip, ipNum, pod, label: podLabel(pod) };
    const node = this.cluster.nodeByIp.get(ipNum);
    if (node) return { ip, ipNum, node, label: `node ${node.name}` };
    const svc = this.cluster.serviceByIp.get(ipNum);
    if (svc) return { ip, ipNum, service: svc, label: `service ${svc.namespace}/${svc.name}` };
    const ext = this.scenario.external.find((e) => e.ips.includes(ip));
    return { ip, ipNum, label: ext?.name ? `${ext.name} (${ip})` : ip };
  }

  /** the Place of a pod never changes, so it is built once */
  private readonly podPlaces = new WeakMap<Pod, Place>();

  private podPlace(pod: Pod): Place {
    let p = this.podPlaces.get(pod);
    if (!p) {
      p = pod.hostNetwork
        ? { ip: pod.ip, ipNum: pod.ipNum, node: this.cluster.nodeByName.get(pod.node), label: `${pod.namespace}/${pod.name} (hostNetwork)` }
        : { ip: pod.ip, ipNum: pod.ipNum, pod, label: podLabel(pod) };
      this.podPlaces.set(pod, p);
    }
    return p;
  }

  private resolveSource(req: TrafficRequest): Place {
    if (typeof req.from === "string") {
      const pods = this.cluster.workloadPods(req.from);
      if (!pods) throw new RequestError(`unknown workload "${req.from}" in from`);
      return this.podPlace(this.pick(this.rrFrom, pods, pods));
    }
    return this.placeOfIp(req.from.ip);
  }

  private resolveDest(req: TrafficRequest): Place {
    let svc: ClusterService | undefined;
    if (req.to) {
      const pods = this.cluster.workloadPods(req.to);
      if (pods) return this.podPlace(this.pick(this.rrTo, pods, pods));
      svc = this.cluster.serviceByKey.get(req.to);
      if (!svc) throw new RequestError(`unknown workload or service "${req.to}" in to`);
    } else if (req.toService) {
      svc = this.cluster.serviceByKey.get(req.toService);
      if (!svc) throw new RequestError(`unknown service "${req.toService}"`);
    } else if (req.toIP) {
      const p = this.placeOfIp(req.toIP);
      if (!p.service) return p;
      svc = p.service;
    } else if (req.dns) {
      svc = this.cluster.serviceByKey.get("kube-system/kube-dns");
      if (!svc) throw new RequestError("no kube-dns service to send the DNS query to");
    } else throw new RequestError("request has no destination");
    return { ip: svc.clusterIP, ipNum: svc.ipNum, service: svc, label: `service ${svc.namespace}/${svc.name}` };
  }

  // Flow records are serialised as soon as they are published and never modified, so the parts that
  // do not change between requests (endpoints, services, policy lists, extensions) are shared.
  private readonly podEndpoints = new WeakMap<Pod, Endpoint>();
  private readonly identityEndpoints = new WeakMap<Identity, Endpoint>();
  private readonly hostEndpoints = new WeakMap<HostEndpoint, Endpoint>();
  private readonly identityTexts = new WeakMap<Identity, string>();

  private endpointOf(place: Place, identity: Identity): Endpoint {
    const p = place.pod;
    if (p && p.identity.id === identity.id) {
      let e = this.podEndpoints.get(p);
      if (!e) {
        e = { ID: p.endpointId, identity: identity.id, cluster_name: this.cluster.name, namespace: p.namespace, labels: identity.labels, pod_name: p.name, workloads: [{ name: p.workload, kind: "Deployment" }] };
        // records taken on other nodes show the pod without its endpoint ID and workloads
        localEndpoint(e, this.hubbleNodeName(p.node));
        this.podEndpoints.set(p, e);
      }
      return e;
    }
    // The local host is an endpoint of its own in Cilium (the host endpoint), and Hubble prints its ID;
    // a remote node's host is seen as remote-node, with no local endpoint.
    const host = identity.id === ReservedIdentity.HOST ? this.hostEndpointOf(place) : undefined;
    if (host) {
      let h = this.hostEndpoints.get(host);
      if (!h) {
        // the agent merges reserved:kube-apiserver into the host identity's labels on a node that runs
        // the API server (ipcache updateReservedHostLabels), and Hubble prints them
        const labels = host.labels.includes("reserved:kube-apiserver") ? [...identity.labels, "reserved:kube-apiserver"].sort() : identity.labels;
        this.hostEndpoints.set(host, (h = { ID: host.endpointId, identity: identity.id, labels }));
      }
      return h;
    }
    let e = this.identityEndpoints.get(identity);
    if (!e) this.identityEndpoints.set(identity, (e = { identity: identity.id, labels: identity.labels }));
    return e;
  }

  /** per pod, the record parts its veth pair gives: made once, shared by every record (frozen by buildFlow) */
  private readonly podL2 = new WeakMap<Pod, { leaving: Ethernet; arriving: Ethernet; lxc: NetworkInterface }>();

  private l2Of(ep: Pod | undefined): { leaving: Ethernet; arriving: Ethernet; lxc: NetworkInterface } | undefined {
    const link = ep?.link;
    if (!link) return undefined;
    let l2 = this.podL2.get(ep);
    if (!l2) {
      l2 = {
        // leaving the pod: from its eth0 to the host side of its veth (Cilium answers ARP with that MAC)
        leaving: { source: link.mac, destination: link.lxcMac },
        // delivered to the pod: rewritten to come from the host side of its veth
        arriving: { source: link.lxcMac, destination: link.mac },
        lxc: { index: link.ifIndex, name: link.ifName },
      };
      this.podL2.set(ep, l2);
    }
    return l2;
  }

  private leaving(ep: Pod | undefined): Ethernet | undefined {
    return this.l2Of(ep)?.leaving;
  }

  private arriving(ep: Pod | undefined): Ethernet | undefined {
    return this.l2Of(ep)?.arriving;
  }

  private lxcOf(ep: Pod | undefined): NetworkInterface | undefined {
    return this.l2Of(ep)?.lxc;
  }

  private identityTextOf(i: Identity): string {
    let t = this.identityTexts.get(i);
    if (t === undefined) this.identityTexts.set(i, (t = identityText(i, i.id)));
    return t;
  }

  /** A response's envelope with its time: when it is due (the clock moves on to it), else the next tick. */
  private stamped(p: { env: FlowEnvelope; due?: Stamp }, clock: Clock): FlowEnvelope {
    const due = p.due;
    if (due === undefined || due.ms < clock.ms || (due.ms === clock.ms && due.ns <= clock.ns)) return withTime(p.env, nextTime(clock));
    clock.ms = due.ms;
    clock.ns = due.ns;
    clock.prefix = this.timePrefix(due.ms);
    return withTime(p.env, clock.prefix + pad6(due.ns) + "Z");
  }

  private lastMs = NaN;
  private lastPrefix = "";

  /** "2024-01-01T00:00:00.123": the part of a flow time shared by every record of one request */
  private timePrefix(ms: number): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastPrefix = formatTime(ms, 0).slice(0, -7);
    }
    return this.lastPrefix;
  }

  // A name that exists answers every type, with the addresses of that type: an AAAA query for a name
  // with only A records is NOERROR with no answers (NODATA), not NXDOMAIN.
  private readonly dns: DnsAnswerSource = {
    resolve: (name: string, qtype: string) => {
      const n = name.toLowerCase().replace(/\.$/, "");
      const rec = this.scenario.dns.find((d) => d.name === n);
      const svc = rec ? undefined : this.cluster.services.find((s) => n === `${s.name}.${s.namespace}.svc.cluster.local` || n === `${s.name}.${s.namespace}.svc` || n === `${s.name}.${s.namespace}`);
      const found = rec ? { ips: rec.ips, ttl: rec.ttl } : svc ? { ips: [svc.clusterIP], ttl: 30 } : undefined;
      if (!found) return undefined;
      const v6 = qtype === "AAAA";
      const ips = qtype === "A" || qtype === "ANY" || v6 ? found.ips.filter((ip) => ip.includes(":") === v6 || qtype === "ANY") : [];
      return { ips, ttl: found.ttl };
    },
  };

  private dnsSource(): DnsAnswerSource {
    return this.dns;
  }

  /** `dialedName`: the DNS name the client resolved to reach req.toIP (its Host / :authority) */
  /** `from`: the source already chosen (a DNS lookup and the connection it leads to come from one pod) */
  private processOne(req: TrafficRequest, clock: Clock, explanation: string[] | null, dialedName?: string, from?: Place): TraceResult {
    const flows: FlowEnvelope[] = [];
    const src = from ?? this.resolveSource(req);
    const dst = this.resolveDest(req);
    const proto = req.protocol ?? (req.dns ? "UDP" : "TCP");
    let port = proto === "ICMP" ? 0 : req.port ?? (req.dns ? 53 : 0);
    const icmpType = req.icmpType ?? 8;
    const svc = dst.service;
    let via = dst;
    let authority = "";
    if (svc) {
      if (proto === "ICMP") throw new RequestError(`service ${svc.namespace}/${svc.name} does not forward ICMP`);
      const sp = svc.ports.find((p) => p.port === port && p.protocol === proto);
      if (!sp) throw new RequestError(`service ${svc.namespace}/${svc.name} has no port ${port}/${proto}`);
      authority = hostPort(`${svc.name}.${svc.namespace}.svc.cluster.local`, port, Boolean(req.grpc));
      if (svc.addresses?.length) {
        // backends by address (default/kubernetes → the API server): the address is whoever has it
        const n = this.rrSvc.get(svc) ?? 0;
        this.rrSvc.set(svc, n + 1);
        const backend = svc.addresses[n % svc.addresses.length]!;
        const target = typeof sp.targetPort === "number" ? sp.targetPort : backend.port;
        via = this.placeOfIp(backend.ip);
        explanation?.push(`service ${svc.namespace}/${svc.name} ${svc.clusterIP}:${port} → backend ${via.label} ${backend.ip}:${target} (policy sees the backend address and port)`);
        port = target;
      } else {
        if (svc.backends.length === 0) throw new RequestError(`service ${svc.namespace}/${svc.name} has no backends`);
        const backend = this.pick(this.rrSvc, svc, svc.backends);
        const target = typeof sp.targetPort === "number" ? sp.targetPort : backend.ports.find((p) => p.name === sp.targetPort)?.port;
        if (target === undefined) throw new RequestError(`service ${svc.namespace}/${svc.name} targets port "${sp.targetPort}", which ${backend.name} does not declare`);
        explanation?.push(`service ${svc.namespace}/${svc.name} ${svc.clusterIP}:${port} → backend ${backend.name} ${backend.ip}:${target} (policy sees the backend port)`);
        port = target;
        via = { ip: backend.ip, ipNum: backend.ipNum, pod: backend, label: podLabel(backend) };
      }
    } else authority = hostPort(dst.pod ? dst.pod.workload : dst.ip, port, Boolean(req.grpc));
    // A client that dialed a name sends that name; one that dialed an IP literal sends the IP, whatever
    // names the FQDN cache holds for it. An explicit host wins over both.
    if (dialedName !== undefined) authority = hostPort(dialedName.replace(/\.$/, ""), port, Boolean(req.grpc));
    if (req.http?.host) authority = req.http.host;

    const srcEp = src.pod;
    const dstEp = via.pod;
    const firstNode = this.cluster.nodes[0].name;
    const srcNode = srcEp?.node ?? src.node?.name ?? dstEp?.node ?? firstNode;
    const dstNode = dstEp?.node ?? via.node?.name ?? srcNode;
    const reg = this.cluster.identities;
    const srcIdent = srcEp ? srcEp.identity : reg.get(this.engine.ipcache.lookup(src.ipNum, dstNode))!;
    const dstIdent = dstEp ? dstEp.identity : reg.get(this.engine.ipcache.lookup(via.ipNum, srcNode))!;
    const sport = proto === "ICMP" ? 0 : this.nextPort();
    const pkt: Packet = { srcIp: src.ip, dstIp: via.ip, proto, sport, dport: port, icmpType };
    const protoIdx = PROTO_IDX[proto];
    const key = proto === "ICMP" ? icmpType : port;
    const bytes = requestBytes(req, proto);
    if (explanation) {
      const l4Text = proto === "ICMP" ? `ICMP type ${icmpType}` : `${port}/${proto}`;
      explanation.push(`source ${src.label} ${src.ip} = ${this.identityTextOf(srcIdent)}${srcEp ? ` on ${srcEp.node}` : ""}`);
      explanation.push(`destination ${via.label} ${via.ip} = ${this.identityTextOf(dstIdent)}${dstEp ? ` on ${dstEp.node}` : ""}, ${l4Text}`);
    }

    const srcE = this.endpointOf(src, srcIdent);
    const dstE = this.endpointOf(via, dstIdent);
    // A node address is the host on that node and remote-node elsewhere: records taken on the source's
    // node see the source as that node does, records on the destination's node the destination likewise.
    const srcSelfE = srcEp ? srcE : this.endpointOf(src, reg.get(this.engine.ipcache.lookup(src.ipNum, srcNode))!);
    const dstSelfE = dstEp ? dstE : this.endpointOf(via, reg.get(this.engine.ipcache.lookup(via.ipNum, dstNode))!);
    // No record names the service: with kube-proxy replacement the socket load balancer has put the
    // backend's address into the connection before any packet is sent, and Hubble looks services up
    // by frontend address only (so real records of ClusterIP traffic carry no destination_service).
    const dstNames = srcEp ? this.engine.fqdn.namesForIp(via.ip, srcEp.endpointId) : NO_NAMES;
    // the parts of the request's records that every record shares
    const ipFwd = { source: pkt.srcIp, destination: pkt.dstIp, ipVersion: "IPv4" as const };
    const l4Fwd = layer4(pkt, false, proto === "TCP" ? SYN : null);
    const summaryFwd = l4Summary(pkt, false);
    const request = this.describeRequest(req);
    request.source = { ip: src.ip, name: src.label, identity: srcIdent.id };
    request.destination = svc
      ? { ip: via.ip, name: via.label, identity: dstIdent.id, port, service: `${svc.namespace}/${svc.name}`, service_ip: svc.clusterIP }
      : { ip: via.ip, name: via.label, identity: dstIdent.id, port };
    const result: TraceResult = { request, verdict: "FORWARDED", explanation: explanation ?? [], flows };
    const st: Step = {
      req, clock, result, explanation, flows, pkt, protoIdx, key, bytes, port, authority, ipFwd, l4Fwd, summaryFwd,
      srcE, dstE, srcSelfE, dstSelfE, dstNames, srcEp, audited: false, l7Req: null, dnsResolvedByProxy: false, pending: null,
      relay: null, refusal: null, dnsLearn: null, l7Forwarded: null, ingressProxy: null,
    };
    this.lastDnsIps = [];

    // the host firewall: the node's own IPs and hostNetwork pods are the host endpoint's traffic
    const srcHost = srcEp ? undefined : this.hostEndpointOf(src);
    const dstHost = dstEp ? undefined : this.hostEndpointOf(via);
    const withinHost = srcHost !== undefined && srcHost === dstHost;
    // the node each peer runs on, if any: the auth map keys on it
    const srcPeerNode = srcEp?.node ?? src.node?.name;
    const dstPeerNode = dstEp?.node ?? via.node?.name;
    const overlay = srcEp !== undefined && dstEp !== undefined && srcNode !== dstNode;
    if (withinHost) explanation?.push(`source and destination are both the host of node ${srcHost.node}: the traffic never leaves it, so no host policy applies`);
    if (srcEp) {
      if (!this.runSide(st, "egress", srcEp, dstIdent, via.ip, srcNode, dstPeerNode)) return this.finish(result, st.audited);
      // Pod to a pod on another node, in tunnel routing (Cilium's default): encapsulated on the way out
      // (TRACE_TO_OVERLAY). Not for what the egress proxy took over: its own connection leaves the host.
      if (overlay && st.l7Req === null) {
        flows.push(buildFlow({
          time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd, l4: l4Fwd, source: st.srcSelfE, destination: dstE, type: "L3_L4",
          nodeName: this.hubbleNodeName(srcNode), destinationNames: dstNames, eventType: EVENT_TRACE_OVERLAY, direction: "EGRESS",
          traceObservationPoint: "TO_OVERLAY", isReply: false, summary: summaryFwd, ethernet: this.leaving(srcEp), iface: TUNNEL_IF,
        }));
      }
    } else if (srcHost && !withinHost && this.hostPolicyApplies(srcHost, "egress")) {
      if (!this.runSide(st, "egress", srcHost, dstIdent, via.ip, srcNode, dstPeerNode)) return this.finish(result, st.audited);
    } else explanation?.push(srcHost && !withinHost ? `egress: no host policy with egress rules selects node ${srcHost.node}, nothing to check` : "egress: the source is not a Cilium endpoint, nothing to check");
    if (dstEp) {
      if (!this.runSide(st, "ingress", dstEp, srcIdent, src.ip, dstNode, srcPeerNode)) return this.finishRelayed(st);
    } else if (dstHost && !withinHost && this.hostPolicyApplies(dstHost, "ingress")) {
      if (!this.runSide(st, "ingress", dstHost, srcIdent, src.ip, dstNode, srcPeerNode)) return this.finishRelayed(st);
    } else explanation?.push(dstHost && !withinHost ? `ingress: no host policy with ingress rules selects node ${dstHost.node}, nothing to check` : "ingress: the destination is not a Cilium endpoint, nothing to check");
    // the query reached its server, which answered: only now is there an answer for toFQDNs to learn
    st.dnsLearn?.();
    if (st.ingressProxy !== null && dstEp) return this.finishThroughIngressProxy(st, st.ingressProxy, dstEp, dstNode);

    // delivered
    if (dstEp) {
      flows.push(buildFlow({
        time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd, l4: l4Fwd, source: srcE, destination: dstE, type: "L3_L4",
        nodeName: this.hubbleNodeName(dstNode), destinationNames: dstNames, eventType: EVENT_TRACE, direction: "INGRESS",
        traceObservationPoint: "TO_ENDPOINT", isReply: false, summary: summaryFwd, ethernet: this.arriving(dstEp), iface: this.lxcOf(dstEp),
      }));
    } else if (srcEp && st.l7Req === null) {
      // to the pod's own node with the host firewall on: handed to cilium_host for the host's policy;
      // anywhere else (and to the own node without it): to the stack, on no particular device. Not what
      // the egress proxy took over: bpf_lxc redirected that, and the proxy's own connection leaves the
      // host without passing bpf_lxc.
      const toHost = dstIdent.id === ReservedIdentity.HOST && this.engine.hostFirewall();
      flows.push(buildFlow({
        time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd, l4: l4Fwd, source: srcE, destination: dstE, type: "L3_L4",
        nodeName: this.hubbleNodeName(srcNode), destinationNames: dstNames, eventType: toHost ? EVENT_TRACE_HOST : EVENT_TRACE_STACK, direction: "EGRESS",
        traceObservationPoint: toHost ? "TO_HOST" : "TO_STACK", isReply: false, summary: summaryFwd, ethernet: this.leaving(srcEp), iface: toHost ? HOST_IF : undefined,
      }));
    }
    // connection tracking: the reply of an allowed connection passes without a policy lookup
    const ctKey = `${proto} ${pkt.srcIp}:${sport} -> ${pkt.dstIp}:${proto === "ICMP" ? icmpType : port}`;
    this.conntrack.upsert(ctKey, proto, clock.ms);
    if (srcEp || dstEp) {
      // the reply's records differ only in where they are traced: the rest is computed once
      const l4Reply = layer4(pkt, true, proto === "TCP" ? SYN_ACK : null);
      const summaryReply = l4Summary(pkt, true);
      const replyTrace = (
        onNode: string,
        eventType: { type: number; sub_type?: number },
        point: "TO_ENDPOINT" | "TO_HOST" | "TO_STACK" | "TO_OVERLAY",
        direction: TrafficDirection,
        l2: { ethernet?: Ethernet; iface?: NetworkInterface },
        sourceNames?: string[],
      ) =>
        buildFlow({
          time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.dstIp, dstIp: pkt.srcIp, l4: l4Reply, source: dstE, destination: srcE, type: "L3_L4",
          nodeName: this.hubbleNodeName(onNode), sourceNames, eventType, direction, traceObservationPoint: point, isReply: true, summary: summaryReply,
          ethernet: l2.ethernet, iface: l2.iface,
        });
      if (srcEp) {
        // the handshake's reply comes before the L7 responses: no HTTP byte is answered before SYN-ACK;
        // from a pod on another node it is encapsulated there first (traced by the server's endpoint,
        // the reply's source, which Hubble reads as INGRESS)
        if (overlay) flows.push(replyTrace(dstNode, EVENT_TRACE_OVERLAY, "TO_OVERLAY", "INGRESS", { ethernet: this.leaving(dstEp), iface: TUNNEL_IF }, dstNames));
        flows.push(replyTrace(srcNode, EVENT_TRACE, "TO_ENDPOINT", "EGRESS", { ethernet: this.arriving(srcEp), iface: this.lxcOf(srcEp) }, dstNames));
        explanation?.push(`reply ${via.ip} → ${src.ip} matches connection-tracking entry "${ctKey}": delivered without a policy lookup`);
      } else {
        // A client that is no endpoint (outside, or a node): the server's reply still leaves through its
        // own bpf_lxc as a CT reply: to the host it came from on this node (with the host firewall on),
        // else to the stack.
        const toHost = srcE.identity === ReservedIdentity.HOST && this.engine.hostFirewall();
        flows.push(replyTrace(dstNode, toHost ? EVENT_TRACE_HOST : EVENT_TRACE_STACK, toHost ? "TO_HOST" : "TO_STACK", "INGRESS", { ethernet: this.leaving(dstEp), iface: toHost ? HOST_IF : undefined }));
        explanation?.push(`reply ${via.ip} → ${src.ip} matches connection-tracking entry "${ctKey}": sent without a policy lookup`);
      }
    }
    // the rest of the connection, traced where its handshake was (tcp-lifecycle.ts)
    const handshake = proto === "TCP" ? handshakeTraces(flows) : null;
    if (handshake !== null) clientSends(flows, handshake, clock, nextTime);
    const pendingResponses = st.pending;
    if (pendingResponses !== null) for (let i = pendingResponses.length - 1; i >= 0; i--) flows.push(this.stamped(pendingResponses[i]!, clock));
    if (handshake !== null) {
      serverAnswersAndBothClose(flows, handshake, clock, nextTime);
      explanation?.push(connectionNote(ctKey, handshake));
    }
    if (req.dns && !st.dnsResolvedByProxy) {
      const ans = this.dnsSource().resolve(req.dns.query, req.dns.type ?? "A");
      this.lastDnsIps = ans?.ips ?? [];
      if (ans) explanation?.push(`DNS answer ${req.dns.query} → ${ans.ips.join(", ")} was not seen by the DNS proxy (no dns rule redirects it), so toFQDNs learns nothing`);
    }
    return this.finish(result, st.audited);
  }

  /**
   * The SYN-ACK of the proxy on `node` that took a TCP connection over (its SYN is already traced), on
   * its way back to the client pod: encapsulated here when the client runs on another node, then
   * delivered to it. The handshake as traced, or null when the request is not TCP. A client that is no
   * pod gets its answers through the host stack, where bpf_lxc traces nothing: only its own packets are.
   */
  private proxyAccepted(st: Step, ep: Pod, dir: Direction, node: string): Handshake | null {
    if (st.pkt.proto !== "TCP") return null;
    const client = st.srcEp;
    if (client === undefined) {
      const own = synTraces(st.flows);
      return own.fwd.length > 0 ? own : null;
    }
    const { pkt, clock, flows } = st;
    const l4 = layer4(pkt, true, SYN_ACK);
    const summary = l4Summary(pkt, true);
    if (client.node !== node) {
      flows.push(buildFlow({
        time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.dstIp, dstIp: pkt.srcIp, l4, source: st.dstE, destination: st.srcE, type: "L3_L4",
        nodeName: this.hubbleNodeName(node), sourceNames: st.dstNames, eventType: EVENT_TRACE_OVERLAY, direction: "INGRESS", traceObservationPoint: "TO_OVERLAY",
        isReply: true, summary, ethernet: dir === "ingress" ? this.leaving(ep) : undefined, iface: TUNNEL_IF,
      }));
    }
    flows.push(buildFlow({
      time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.dstIp, dstIp: pkt.srcIp, l4, source: st.dstE, destination: st.srcE, type: "L3_L4",
      nodeName: this.hubbleNodeName(client.node), sourceNames: st.dstNames, eventType: EVENT_TRACE, direction: "EGRESS", traceObservationPoint: "TO_ENDPOINT",
      isReply: true, summary, ethernet: this.arriving(client), iface: this.lxcOf(client),
    }));
    return handshakeTraces(flows);
  }

  /**
   * The rest of a request the destination's ingress proxy let through on the client's connection, which
   * it terminates (st.ingressProxy). Envoy's ingress listener never uses the client's address upstream:
   * it connects to the server from the node itself, on an ephemeral port, with the client's security
   * identity in the packet mark. bpf_lxc skips policy for the ingress proxy's packets (no
   * policy-verdict) and traces them to-endpoint, source the node's address under the client's
   * identity; the server's packets back are CT replies to a host address, handed to the stack
   * (to-stack, or to-host with the host firewall on). Then the response record, the proxy's answer to
   * the client, and the client's connection closes; the upstream one stays open in Envoy's pool.
   */
  private finishThroughIngressProxy(st: Step, proxy: { conn: Handshake | null; node: string }, server: Pod, node: string): TraceResult {
    const { clock, flows, pkt, explanation } = st;
    const host = this.cluster.nodeByName.get(node)!;
    const hostPlace: Place = { ip: host.ip, ipNum: host.ipNum, node: host, label: `node ${host.name}` };
    const reg = this.cluster.identities;
    const clientId = st.srcE.identity!;
    // Envoy pools upstream connections per source identity: a request finds the one an earlier request
    // of the same identity to the same server opened, unless it has been idle too long
    const poolKey = `${node}|${clientId}|${pkt.dstIp}:${pkt.dport}`;
    let pooled = this.upstreamPool.get(poolKey);
    if (pooled !== undefined && clock.ms - pooled.usedMs > UPSTREAM_IDLE_MS) {
      this.upstreamPool.delete(poolKey);
      pooled = undefined;
    }
    const fresh = pooled === undefined;
    const up: Packet = { srcIp: host.ip, dstIp: pkt.dstIp, proto: "TCP", sport: pooled?.sport ?? this.nextPort(), dport: pkt.dport, icmpType: pkt.icmpType };
    const toHost = this.engine.hostFirewall();
    const fwd = buildFlow({
      time: "", verdict: "FORWARDED", srcIp: up.srcIp, dstIp: up.dstIp, ip: { source: up.srcIp, destination: up.dstIp, ipVersion: "IPv4" },
      l4: layer4(up, false, SYN), source: this.endpointOf(hostPlace, reg.get(clientId)!), destination: st.dstSelfE, type: "L3_L4", nodeName: this.hubbleNodeName(node),
      eventType: EVENT_TRACE, direction: "INGRESS", traceObservationPoint: "TO_ENDPOINT", isReply: false, summary: l4Summary(up, false), ethernet: this.arriving(server), iface: this.lxcOf(server),
    });
    const back = buildFlow({
      time: "", verdict: "FORWARDED", srcIp: up.dstIp, dstIp: up.srcIp, l4: layer4(up, true, SYN_ACK), source: st.dstSelfE, destination: this.endpointOf(hostPlace, reg.get(ReservedIdentity.HOST)!),
      type: "L3_L4", nodeName: this.hubbleNodeName(node), eventType: toHost ? EVENT_TRACE_HOST : EVENT_TRACE_STACK, direction: "INGRESS",
      traceObservationPoint: toHost ? "TO_HOST" : "TO_STACK", isReply: true, summary: l4Summary(up, true), ethernet: this.leaving(server), iface: toHost ? HOST_IF : undefined,
    });
    const clientKey = `TCP ${pkt.srcIp}:${pkt.sport} -> ${pkt.dstIp}:${pkt.dport}`;
    const upstreamKey = `TCP ${up.srcIp}:${up.sport} -> ${up.dstIp}:${up.dport}`;
    this.conntrack.upsert(clientKey, "TCP", clock.ms);
    this.conntrack.upsert(upstreamKey, "TCP", clock.ms);
    const upstream: Handshake = { fwd: [fwd], reply: [back] };
    // Monitor aggregation "medium" traces a packet of an established connection for a TCP flag new to
    // its direction, or once the 5 s report interval has passed: a pooled connection has shown all its
    // flags, so it shows the forwarded request and the answer only that often.
    const reported = fresh || clock.ms - pooled!.reportedMs >= CT_REPORT_INTERVAL_MS;
    if (fresh) {
      flows.push(withTime(fwd, nextTime(clock)), withTime(back, nextTime(clock)));
      // the proxy's ACK and the request it forwards
      clientSends(flows, upstream, clock, nextTime);
    } else if (reported) clientSendsData(flows, upstream, clock, nextTime);
    // the server's answer is sent when the response is (the response record is stamped its latency
    // after the request), just before the proxy logs it
    const pending = st.pending;
    const answeredAt = pending?.[pending.length - 1]?.due;
    if (answeredAt !== undefined) {
      let ms = answeredAt.ms;
      let ns = answeredAt.ns - 2000;
      if (ns < 0) {
        ms -= 1;
        ns += 1_000_000;
      }
      if (ms > clock.ms || (ms === clock.ms && ns > clock.ns)) {
        clock.ms = ms;
        clock.ns = ns;
        clock.prefix = this.timePrefix(ms);
      }
    }
    if (reported) serverAnswers(flows, upstream, clock, nextTime);
    const entry = { sport: up.sport, usedMs: clock.ms, reportedMs: reported ? clock.ms : pooled!.reportedMs };
    this.upstreamPool.delete(poolKey);
    this.upstreamPool.set(poolKey, entry);
    if (this.upstreamPool.size > MAX_UPSTREAM_POOL) this.upstreamPool.delete(this.upstreamPool.keys().next().value!);
    explanation?.push(fresh
      ? `ingress L7 proxy on ${node}: forwards the request on a new connection of its own "${upstreamKey}" from the node, under the client's identity ${clientId} (no policy check: the proxy already decided); the server's packets back go to the stack, where the proxy is. It stays open in Envoy's pool for the next request of this identity: no FIN is traced for it`
      : `ingress L7 proxy on ${node}: forwards the request on its pooled connection "${upstreamKey}" (opened by an earlier request of identity ${clientId}); ${reported ? "the report interval (5 s) has passed, so the forwarded request and the answer are traced" : "every flag of it has been seen within the last 5 s, so monitor aggregation traces none of its packets"}`);
    if (pending !== null) for (let i = pending.length - 1; i >= 0; i--) flows.push(this.stamped(pending[i]!, clock));
    if (proxy.conn !== null) {
      serverAnswersAndBothClose(flows, proxy.conn, clock, nextTime);
      explanation?.push(connectionNote(`${clientKey} (to the ingress proxy)`, proxy.conn));
    }
    return this.finish(st.result, st.audited);
  }

  /** the host endpoint behind a node IP or a hostNetwork pod */
  private hostEndpointOf(place: Place): HostEndpoint | undefined {
    return place.node ? this.cluster.hostEndpointByNode.get(place.node.name) : undefined;
  }

  /**
   * Whether the host firewall looks at this direction of a host endpoint: only when a host policy
   * selecting the node has rules for it (or turns default deny on). Without one, the host's traffic
   * is not checked at all and, as before host policies existed, no policy-verdict is emitted.
   */
  private hostPolicyApplies(host: HostEndpoint, dir: Direction): boolean {
    const m = this.engine.compiled.get(host.endpointId)?.[dir];
    return m !== undefined && !m.disabled && (m.enforced || m.rules.length > 0);
  }

  /** one side (egress at the source, ingress at the destination); false: the request stops here */
  private runSide(st: Step, dir: Direction, ep: Pod, peer: Identity, peerIp: string, node: string, peerNode: string | undefined): boolean {
    const { clock, result, explanation, flows, pkt, ipFwd, l4Fwd, dstNames, req, srcEp } = st;
    // this side's records are taken on its node: its own endpoint as that node sees itself
    const srcE = dir === "egress" ? st.srcSelfE : st.srcE;
    const dstE = dir === "ingress" ? st.dstSelfE : st.dstE;
    // the auth map's remote_node_id: 0 for a peer on this node (or outside every node)
    const remoteNode = peerNode === undefined || peerNode === ep.node ? 0 : this.nodeIds.get(peerNode) ?? 0;
    const d = this.decide(ep, dir, peer, peerIp, st.protoIdx, st.key, st.bytes, clock.ms, remoteNode);
    const label: "INGRESS" | "EGRESS" = dir === "ingress" ? "INGRESS" : "EGRESS";
    // what this side's BPF program sees: the packet leaving its pod, or already addressed to it
    const ethernet = dir === "egress" ? this.leaving(ep) : this.arriving(ep);
    result[dir] = d.side;
    if (explanation) for (let i = 0; i < d.lines.length; i++) explanation.push(d.lines[i]);
    if (d.verdict === "AUDIT" || d.audited) st.audited = true;
    const authType = d.authType !== AUTH_NONE ? AUTH_TYPE_NAMES[d.authType] : undefined;
    if (d.dropReason === DropReason.AUTH_REQUIRED) {
      // the datapath signalled the auth manager, which now performs the handshake out of band
      const hs = this.authManager.onAuthRequired({ local: ep.identity.id, remote: peer.id, remoteNode, authType: d.authType }, clock.ms);
      explanation?.push(`${dir}: auth manager ${authType} handshake for (${ep.identity.id}, ${peer.id}, node ${remoteNode}): ${hs.authenticated ? `succeeded, auth map entry valid until ${new Date(hs.expires!).toISOString()}; the next packets pass` : `failed (${hs.reason}); packets keep being dropped`}`);
    }
    if (d.emit) {
      flows.push(buildFlow({
        time: nextTime(clock), verdict: d.verdict, dropReason: d.verdict === "DROPPED" ? d.dropReason : undefined, srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd,
        l4: l4Fwd, source: srcE, destination: dstE, type: "L3_L4", nodeName: this.hubbleNodeName(node), destinationNames: dstNames, eventType: EVENT_VERDICT,
        direction: label, matchType: d.matchType, isReply: d.verdict === "DROPPED" ? undefined : false, authType, ethernet,
        summary: st.summaryFwd, extensions: d.verdictExt,
        egressAllowedBy: dir === "egress" ? d.allowedList : undefined, ingressAllowedBy: dir === "ingress" ? d.allowedList : undefined,
        egressDeniedBy: dir === "egress" ? d.deniedList : undefined, ingressDeniedBy: dir === "ingress" ? d.deniedList : undefined,
        policyLog: d.policyLog,
      }));
    }
    if (d.verdict === "DROPPED") {
      flows.push(buildFlow({
        time: nextTime(clock), verdict: "DROPPED", dropReason: d.dropReason, srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd, l4: l4Fwd, source: srcE, destination: dstE,
        type: "L3_L4", nodeName: this.hubbleNodeName(node), destinationNames: dstNames, eventType: dropEvent(d.dropReason),
        direction: label, summary: st.summaryFwd, extensions: d.dropExt, ethernet,
        // a pod's policy is enforced in bpf_lxc, the host firewall's in bpf_host
        dropFile: ep.hostEndpoint ? "bpf_host.c" : "bpf_lxc.c",
      }));
      result.verdict = "DROPPED";
      result.drop_reason_desc = dropReasonName(d.dropReason ?? DropReason.POLICY_DENIED);
      return false;
    }
    if (d.verdict === "REDIRECTED") {
      // the redirect itself, as bpf_lxc traces it before the proxy sees the request
      flows.push(buildFlow({
        time: nextTime(clock), verdict: "FORWARDED", srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd, l4: l4Fwd, source: srcE, destination: dstE,
        type: "L3_L4", nodeName: this.hubbleNodeName(node), destinationNames: dstNames, eventType: EVENT_TRACE_PROXY,
        direction: label, traceObservationPoint: "TO_PROXY", proxyPort: this.proxyPort(node, dir, req), isReply: false, summary: st.summaryFwd, ethernet,
      }));
      let l7Req = st.l7Req;
      if (l7Req === null) {
        st.l7Req = l7Req = {};
        if (req.http) l7Req.http = req.http;
        if (req.grpc) l7Req.grpc = req.grpc;
        if (req.kafka) l7Req.kafka = req.kafka;
        if (req.dns) l7Req.dns = req.dns;
      }
      const proxyCtx = this.proxyContext(d, label, l7Req, st.authority, st.port, clock.ms);
      // the same parser on both sides (Cilium has one per port and direction, and the request one wire format)
      if (st.l7Forwarded?.protocol === proxyCtx.protocol) proxyCtx.forwardedBytes = st.l7Forwarded.bytes;
      const outcome = this.proxy.handle(proxyCtx);
      st.l7Forwarded = outcome.forwarded ? { protocol: proxyCtx.protocol, bytes: outcome.forwarded } : null;
      const l4L7 = layer4(pkt, false, null);
      const decided = outcome.decidedBy.length ? outcome.decidedBy : (d.grants ?? []).map((g) => g.policy);
      const refusal = outcome.error ?? (outcome.allowed ? undefined : `no L7 rule of ${decided.map((p) => `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`).join(", ")} matched ${outcome.requestSummary}`);
      // with no rule to check, the record names what made the proxy allow all for this peer
      const ext = d.grants === null && d.l7AllowAllBy
        ? extension({ l7_allow_all_by: d.l7AllowAllBy, rule: d.l7AllowAllRule, explanation: outcome.error ? [outcome.error] : d.l7AllowAllNote ? [d.l7AllowAllNote] : undefined })
        : extension({ l7_decided_by: uniqHubble(decided), rule: outcome.rule, explanation: refusal ? [refusal] : undefined });
      const requestFlow = (l7: Layer7, summary: string) => buildFlow({
        time: nextTime(clock), verdict: outcome.allowed ? "FORWARDED" : "DROPPED", srcIp: pkt.srcIp, dstIp: pkt.dstIp, ip: ipFwd, l4: l4L7, source: srcE, destination: dstE,
        type: "L7", nodeName: this.hubbleNodeName(node), destinationNames: dstNames, l7, eventType: EVENT_L7, direction: label,
        isReply: false, summary, extensions: ext, traceId: outcome.traceId,
      });
      // The proxy terminates the client's TCP connection: it opens, and the request it carries arrives,
      // before the proxy logs the request. That is so for a refusal (the proxy's own answer), and for a
      // request the ingress proxy lets through on a connection of its own to the server (Envoy's
      // ingress listener never reuses the client's address). Not when the client's own egress proxy
      // holds that connection (see st.relay), and for now not for an egress proxy that forwards.
      const terminated = pkt.proto === "TCP" && !(dir === "ingress" && st.relay !== null) && (!outcome.allowed || (dir === "ingress" && !ep.hostEndpoint && !req.dns));
      const clientConnection = terminated ? this.proxyAccepted(st, ep, dir, node) : null;
      if (clientConnection !== null) clientSends(flows, clientConnection, clock, nextTime);
      const refusedConnection = outcome.allowed ? null : clientConnection;
      if (outcome.allowed && terminated) st.ingressProxy = { conn: clientConnection, node };
      if (outcome.request) flows.push(requestFlow(outcome.request, outcome.requestSummary));
      // Hubble's latency_ns is the response's timestamp minus the request's (HTTP, by X-Request-Id):
      // the response is stamped that long after the request record
      const requestAt: Stamp = { ms: clock.ms, ns: clock.ns };
      for (const more of outcome.moreRequests ?? []) flows.push(requestFlow(more.l7, more.summary));
      const responseFlow = (l7: Layer7, summary: string) => buildFlow({
        time: "", verdict: "FORWARDED", srcIp: pkt.dstIp, dstIp: pkt.srcIp, l4: layer4(pkt, true, null), source: dstE, destination: srcE,
        // the reply comes from the service's backend: the service is the source's, as Hubble resolves
        // it by address after reverse NAT, never the client's
        // the server's names as the DNS cache knows them, as Hubble resolves a response's source IP
        type: "L7", nodeName: this.hubbleNodeName(node), sourceNames: dstNames, l7, eventType: EVENT_L7, direction: label,
        isReply: true, summary, extensions: ext, traceId: outcome.traceId,
      });
      const resps: { env: FlowEnvelope; due?: Stamp }[] = [];
      if (outcome.response) {
        const latency = outcome.response.latency_ns === undefined ? undefined : Number(outcome.response.latency_ns);
        resps.push({ env: responseFlow(outcome.response, outcome.responseSummary ?? ""), ...(latency ? { due: later(requestAt, latency) } : {}) });
      }
      explanation?.push(`${dir} L7 proxy (${d.grants === null ? "allow-all for this peer" : `${d.grants.length} L7 rule set(s)`}): ${outcome.requestSummary} → ${outcome.allowed ? "allowed" : "refused"}${outcome.rule ? ` by ${outcome.rule}` : ""}${outcome.error ? ` (${outcome.error})` : ""}`);
      const answer = outcome.dnsAnswer;
      if (answer) {
        // the DNS client is the source: a pod, or the host under a host policy's DNS rule
        const client = srcEp ?? (dir === "egress" ? ep : undefined);
        st.dnsLearn = () => {
          this.lastDnsIps = answer.ips;
          st.dnsResolvedByProxy = true;
          if (outcome.allowed && client && this.engine.fqdn.learn(client.endpointId, client.node, answer.query, answer.ips, answer.ttl, clock.ms)) {
            const n = this.engine.onFqdnChange();
            explanation?.push(`FQDN cache learned ${answer.query} → ${answer.ips.join(", ")} (${n} endpoint map(s) updated)`);
          }
        };
      }
      if (!outcome.allowed) {
        for (const resp of resps) flows.push(this.stamped(resp, clock));
        if (refusedConnection !== null) {
          serverAnswersAndBothClose(flows, refusedConnection, clock, nextTime);
          explanation?.push(connectionNote(`${pkt.proto} ${pkt.srcIp}:${pkt.sport} -> ${pkt.dstIp}:${pkt.dport} (to the ${dir} proxy)`, refusedConnection));
        }
        result.verdict = "DROPPED";
        result.l7_denied = true;
        st.refusal = outcome;
        if (hasKeys(outcome.response_code)) result.response = outcome.response_code;
        else delete result.response;
        return false;
      }
      if (dir === "egress") {
        // The request goes on through this proxy's own upstream connection: if the destination's
        // side drops it or its proxy refuses it, the answer this proxy logs and returns is not the server's.
        st.relay = (upstream) => {
          const relayed = this.proxy.relay(proxyCtx, outcome, upstream);
          if (relayed.response) {
            const latency = relayed.response.latency_ns === undefined ? undefined : Number(relayed.response.latency_ns);
            flows.push(this.stamped({ env: responseFlow(relayed.response, relayed.responseSummary ?? ""), ...(latency ? { due: later(requestAt, latency) } : {}) }, clock));
          }
          if (hasKeys(relayed.response_code)) result.response = relayed.response_code;
          else delete result.response;
          explanation?.push(upstream.kind === "unreachable"
            ? `egress L7 proxy: its upstream connection was dropped, so ${relayed.response?.http ? `it answers the client itself (${relayed.responseSummary})` : "the client's request goes unanswered"}`
            : `egress L7 proxy: relays the refusal${relayed.responseSummary ? ` (${relayed.responseSummary})` : ""}`);
        };
      }
      // pending responses are emitted last-in first-out (the inner side answers first): reversed here so
      // one side's records keep their topic order
      if (resps.length) (st.pending ??= []).push(...resps.reverse());
      if (hasKeys(outcome.response_code)) result.response = outcome.response_code;
    }
    return true;
}

  private finish(r: TraceResult, audited: boolean): TraceResult {
    if (r.verdict === "FORWARDED" && audited) r.verdict = "AUDIT";
    // explanation is empty only when the caller asked for none (processOne always adds lines first)
    if (r.explanation.length) r.explanation.push(`verdict: ${r.verdict}${r.drop_reason_desc ? ` (${r.drop_reason_desc})` : ""}${r.l7_denied ? " (refused by the L7 proxy)" : ""}`);
    return r;
  }

  private nextPort(): number {
    this.sport = this.sport >= 60999 ? 32768 : this.sport + 1;
    return this.sport;
  }

  /** The destination's side failed the request: the source's egress proxy, if one forwarded it, answers for the server. */
  private finishRelayed(st: Step): TraceResult {
    if (st.relay === null) return this.finish(st.result, st.audited);
    // the client's connection is to its own egress proxy, on its node: it opened, carried the request,
    // and carries whatever the proxy answers for the upstream
    const client = st.srcEp;
    const own = client === undefined ? null : this.proxyAccepted(st, client, "egress", client.node);
    const conn = own === null ? null : { fwd: own.fwd.filter((e) => e.node_name === this.hubbleNodeName(client!.node) && e.flow.trace_observation_point === "TO_PROXY"), reply: own.reply };
    if (conn !== null && conn.fwd.length > 0) clientSends(st.flows, conn, st.clock, nextTime);
    const before = st.flows.length;
    st.relay(st.refusal ? { kind: "refused", by: st.refusal } : { kind: "unreachable" });
    if (conn !== null && conn.fwd.length > 0 && st.flows.length > before) {
      serverAnswersAndBothClose(st.flows, conn, st.clock, nextTime);
      st.explanation?.push(connectionNote(`${st.pkt.proto} ${st.pkt.srcIp}:${st.pkt.sport} -> ${st.pkt.dstIp}:${st.pkt.dport} (to the egress proxy)`, conn));
    }
    return this.finish(st.result, st.audited);
  }

  private proxyContext(d: Decision, direction: "INGRESS" | "EGRESS", req: L7RequestSpec, authority: string, port: number, ms: number): L7Context {
    let protocol: L7Protocol;
    let request: L7RequestSpec = req;
    if (req.grpc) protocol = "grpc";
    else if (req.http) protocol = "http";
    else if (req.kafka) protocol = "kafka";
    else if (req.dns) protocol = "dns";
    else if (d.l7Kind === "kafka") {
      protocol = "kafka";
      request = { ...req, kafka: DEFAULT_KAFKA };
    } else if (d.l7Kind === "dns") {
      protocol = "dns";
      request = { ...req, dns: DEFAULT_DNS };
    } else {
      // a request without L7 detail on an HTTP port: what curl sends by default
      protocol = "http";
      request = { ...req, http: DEFAULT_HTTP };
    }
    return { protocol, request, direction, grants: d.grants, authority, port, dnsServer: this.dns, now: new Date(ms) };
  }

  // Decisions are pure functions of the endpoint and its compiled map and (peer, proto, port), apart
  // from the counters; the explanation text also reads the FQDN cache and the selector cache. So
  // each endpoint and direction keeps its decisions (per endpoint, not per map: maps are shared, and
  // the explanation names the endpoint), and all of them are dropped when the policies, the compiled
  // maps or the FQDN cache change (engine generation / FQDN version).
  private memos = new Map<number, SideMemo>();
  private memoGeneration = -1;
  private memoFqdnVersion = -1;

  /** One side's L3/L4 policy decision (§2.10); a few hash lookups plus bookkeeping. */
  private decide(ep: Pod, dir: Direction, peer: Identity, peerIp: string, proto: number, port: number, bytes: number, ms: number, remoteNode: number): Decision {
    if (this.memoGeneration !== this.engine.generation || this.memoFqdnVersion !== this.engine.fqdn.version) {
      this.memos = new Map();
      this.memoGeneration = this.engine.generation;
      this.memoFqdnVersion = this.engine.fqdn.version;
    }
    const side = ep.endpointId * 2 + (dir === "egress" ? 1 : 0);
    let sm = this.memos.get(side);
    if (sm === undefined) {
      const m = this.engine.compiled.get(ep.endpointId)![dir];
      this.memos.set(side, (sm = { m, stats: this.engine.statsOf(ep.endpointId, dir)!, decisions: new Map() }));
    }
    const { m, decisions } = sm;
    // identities stay below 2^32, protocols below 8 and ports below 2^16: an exact integer key
    const k = (peer.id * 8 + proto) * 65536 + port;
    let hit = decisions.get(k);
    let d: Decision | undefined;
    if (hit instanceof Map) d = hit.get(peerIp);
    else d = hit;
    if (d === undefined) {
      d = this.decideFresh(m, ep, dir, peer, peerIp, proto, port);
      // a default-deny drop's explanation names the peer's IP (CIDR rules); the others do not
      if (d.entry === null && d.emit) {
        if (!(hit instanceof Map)) decisions.set(k, (hit = new Map()));
        hit.set(peerIp, d);
      } else decisions.set(k, d);
    }
    // the auth map changes between packets, so it is read on every one, after the memoised lookup
    if (d.needsAuth && !this.authMap.authenticated({ local: ep.identity.id, remote: peer.id, remoteNode, authType: d.authType }, ms)) {
      d = this.authMissing(d, ep, dir, peer, remoteNode);
    }
    if (this.counting && !m.disabled) {
      // an AUTH_REQUIRED drop hit the entry (BPF counts it) but no policy allowed the flow
      if (d.entry !== null) {
        if (d.dropReason === DropReason.AUTH_REQUIRED) sm.stats.hit(d.entry, bytes, ms);
        else countEntryHit(sm.stats, d.entry, dir, bytes, ms);
      } else if (m.enforced) countDefaultDeny(m.defaultDenyPolicies, dir);
    }
    return d;
  }

  /** `d` as an AUTH_REQUIRED drop, built once per remote node (the explanation names the key) */
  private authMissing(d: Decision, ep: Pod, dir: Direction, peer: Identity, remoteNode: number): Decision {
    const byNode = (d.authMissing ??= new Map<number, Decision>());
    let drop = byNode.get(remoteNode);
    if (drop === undefined) {
      drop = this.authDrop(d, ep, dir, peer, remoteNode);
      byNode.set(remoteNode, drop);
    }
    return drop;
  }

  /** `d` when the auth map has no live entry for the pair: dropped with AUTH_REQUIRED */
  private authDrop(d: Decision, ep: Pod, dir: Direction, peer: Identity, remoteNode: number): Decision {
    const key: AuthKey = { local: ep.identity.id, remote: peer.id, remoteNode, authType: d.authType };
    const drop: Decision = {
      ...d, emit: true, verdict: "DROPPED", dropReason: DropReason.AUTH_REQUIRED, allowedBy: [], grants: null, l7Kind: undefined, needsAuth: false, authMissing: undefined,
      notes: [
        ...d.notes,
        `the entry requires mutual authentication (${AUTH_TYPE_NAMES[d.authType]}) but the auth map has no live entry for (local identity ${key.local}, remote identity ${key.remote}, remote node ${key.remoteNode}): the auth handshake is missing, dropped (AUTH_REQUIRED)`,
      ],
    };
    return this.finishDecision(drop, ep, dir);
  }

  private decideFresh(m: PolicyMapDir, ep: Pod, dir: Direction, peer: Identity, peerIp: string, proto: number, port: number): Decision {
    return this.finishDecision(this.decideNotes(m, ep, dir, peer, peerIp, proto, port), ep, dir);
  }

  /** the parts of a decision every request with it shares: side summary, explanation lines, extensions */
  private finishDecision(d: Decision, ep: Pod, dir: Direction): Decision {
    const dropped = d.verdict === "DROPPED" || d.verdict === "AUDIT";
    d.side = {
      enforced: d.enforced,
      verdict: d.verdict,
      match_type: matchTypeName(d.matchType),
      allowed_by: d.allowedBy,
      denied_by: d.deniedBy,
      ...(dropped ? { default_deny_by: d.defaultDenyBy } : {}),
    };
    const at = ep.hostEndpoint ? `the host endpoint of node ${ep.node} (host firewall)` : `${ep.namespace}/${ep.name}`;
    d.lines = d.notes.map((n) => `${dir} at ${at}: ${n}`);
    if (d.emit) {
      // an allowed verdict names the rule that put the matching entry in the map, as a drop names its deny rule
      d.verdictExt = dropped
        ? extension({ default_deny_by: d.dropReason === DropReason.POLICY_DENY ? undefined : d.defaultDenyBy, rule: d.rule, explanation: d.notes })
        : d.rule
          ? extension({ rule: d.rule })
          : undefined;
      d.allowedList = d.verdict === "FORWARDED" || d.verdict === "REDIRECTED" ? d.allowedBy : undefined;
      d.deniedList = d.verdict === "DROPPED" && d.dropReason === DropReason.POLICY_DENY ? d.deniedBy : undefined;
      d.policyLog = d.entry && d.allowedList?.length ? uniqLogs(d.entry.allowRules) : d.entry && d.deniedList?.length ? uniqLogs(d.entry.denyRules) : undefined;
    }
    if (d.verdict === "DROPPED") {
      d.dropExt =
        d.dropReason === DropReason.POLICY_DENIED
          ? extension({ default_deny_by: d.defaultDenyBy, rule: d.rule, explanation: d.notes })
          : extension({ denied_by: d.dropReason === DropReason.POLICY_DENY ? d.deniedBy : undefined, rule: d.rule, explanation: d.notes });
    }
    return d;
  }

  private decideNotes(m: PolicyMapDir, ep: Pod, dir: Direction, peer: Identity, peerIp: string, proto: number, port: number): Decision {
    const audit = this.audit || this.scenario.settings.policyAuditNamespaces.includes(ep.namespace);
    const d: Decision = {
      dir, checked: true, enforced: m.enforced, emit: false, verdict: "FORWARDED", matchType: 0, entry: null, allowedBy: [], deniedBy: [], defaultDenyBy: [], grants: null, notes: [],
      authType: AUTH_NONE, needsAuth: false, audited: false, side: undefined!, lines: [],
    };
    if (m.disabled) {
      d.notes.push("policy enforcement is disabled (policyEnforcementMode: never)");
      return d;
    }
    const res = m.lookup(peer.id, proto, port);
    const e = res.entry;
    const looked = `looked up (${peer.id}, ${proto === PROTO_ICMP ? "ICMP" : ["ANY", "TCP", "UDP", "SCTP"][proto]}, ${port}) in ${m.size} entries`;
    const ddBy = uniqPolicies(m.defaultDenyBy);
    if (e?.deny) {
      d.emit = true;
      d.verdict = audit ? "AUDIT" : "DROPPED";
      d.dropReason = DropReason.POLICY_DENY;
      d.matchType = res.matchType;
      d.entry = e;
      d.deniedBy = uniqPolicies(e.denyRules);
      d.rule = e.denyRules[0]?.path;
      d.notes.push(`${looked}; matched ${entryText(e, this.cluster.identities)}: a deny entry wins over any allow${audit ? "; audit mode lets it pass (AUDIT)" : ""}`);
      const shadowed = m.candidates(peer.id, proto, port).filter((c) => !c.deny);
      if (shadowed.length) d.notes.push(`the allow entries ${shadowed.map((c) => entryText(c, this.cluster.identities)).join(" | ")} do not override the deny`);
      return d;
    }
    if (!e) {
      if (!m.enforced) {
        d.notes.push(`not default-deny (no policy selecting it has ${dir} rules): allowed, no policy-verdict event`);
        return d;
      }
      if (dir === "ingress" && peer.id === ReservedIdentity.HOST && !ep.hostEndpoint && this.scenario.settings.allowLocalhost === "always") {
        // allow-localhost is an ordinary L3 entry (host, ANY, ANY) in the endpoint's map, inserted so that
        // a covering deny keeps winning (mapstate's determineAllowLocalhostIngress): a deny was looked for above
        d.emit = true;
        d.matchType = 1;
        d.allowedBy = [derivedPolicy("allow-localhost-ingress", this.revision())];
        d.notes.push(`${looked}: no rule matched; the allow-localhost entry (host, ANY, 0) allows the local node (allowLocalhost: always) → L3-Only`);
        return d;
      }
      d.emit = true;
      d.verdict = audit ? "AUDIT" : "DROPPED";
      d.dropReason = DropReason.POLICY_DENIED;
      d.defaultDenyBy = ddBy;
      const why = ddBy.length ? `default deny by ${ddBy.map((p) => `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`).join(", ")}` : "default deny (policyEnforcementMode: always)";
      d.notes.push(`${why}; ${looked}: no entry matched${audit ? "; audit mode lets it pass (AUDIT)" : ""}`);
      const fqdn = this.engine.fqdn;
      const miss = nearestMiss(m, dir, ep, peer, peerIp, proto, port, this.cluster, this.engine.selectors, dir === "egress" ? fqdn.namesForIp(peerIp, undefined, ep.node) : [], dir === "egress" ? fqdn.nodesThatLearned(peerIp) : []);
      // The nearest rule is a hint in the explanation, not the deciding rule: nothing matched.
      if (miss) d.notes.push(miss);
      else d.notes.push(`no ${dir} allow rule selects this endpoint${dir === "egress" ? " (missing egress allow at the source)" : ""}`);
      return d;
    }
    d.emit = true;
    d.matchType = res.matchType;
    d.entry = e;
    // Cilium's allow-all for a direction no policy makes default-deny is listed by its derived-from label
    d.allowedBy = e.implicit && e.allowRules.length === 0 ? [derivedPolicy(dir === "ingress" ? "allow-any-ingress" : "allow-any-egress", this.revision())] : uniqPolicies(e.allowRules);
    d.rule = e.allowRules[0]?.path;
    const l7 = m.redirectOf(e);
    d.notes.push(`${m.enforced && !m.allowAllAdded ? "default deny" : "not default-deny"}; ${looked}; matched ${entryText(e, this.cluster.identities)} → ${matchTypeName(res.matchType)}`);
    if (e.authType !== AUTH_NONE) {
      d.authType = e.authType;
      const how = e.authExplicit ? "" : " (inherited from a broader entry of the same peer)";
      // Cilium's audit mode turns the AUTH_REQUIRED verdict into an audited pass before the auth map is read
      if (audit) {
        d.audited = true;
        d.notes.push(`the entry requires mutual authentication (${AUTH_TYPE_NAMES[e.authType]})${how}; audit mode lets it pass without checking the auth map (AUDIT)`);
      } else {
        d.needsAuth = true;
        d.notes.push(`the entry requires mutual authentication (${AUTH_TYPE_NAMES[e.authType]})${how}: the auth map is checked for this peer`);
      }
    }
    if (l7) {
      d.verdict = "REDIRECTED";
      d.l7Kind = l7.kind;
      const allows = m.candidates(peer.id, proto, port).filter((c) => !c.deny);
      const allowAll = allows.filter((c) => c.l7AllowAll);
      if (allowAll.length) {
        d.grants = null;
        // what made it so: allow rules without L7 rules, or Cilium's own allow-all for the direction
        const refs = allowAll.flatMap((c) => c.l7AllowAllRules);
        const ref = refs[0];
        d.l7AllowAllBy = refs.length ? uniqPolicies(refs) : [derivedPolicy(dir === "ingress" ? "allow-any-ingress" : "allow-any-egress", this.revision())];
        d.l7AllowAllRule = ref?.path;
        d.l7AllowAllNote = ref === undefined
          ? `no policy makes ${dir} default-deny, and Cilium's allow-all for the direction carries no L7 rules: the L7 proxy allows every request`
          : ref.rule.l7Visibility[dir]
            ? `${policyName(ref.rule)} does not enable default deny for ${dir} (enableDefaultDeny.${dir}: false), so its L7 rules come with an L7 allow-all: the L7 proxy allows every request`
            : `an allow without L7 rules (${policyName(ref.rule)} ${ref.path}) also covers this peer on this port: the L7 proxy allows every request`;
        d.notes.push(`port ${port} has ${l7.kind} rules: redirected to the L7 proxy; ${d.l7AllowAllNote} (§2.5)`);
      } else {
        const seen = new Set<string>();
        d.grants = [];
        for (const c of allows) for (const g of c.l7Grants) {
          const k = `${g.policy.name}|${g.policy.namespace}|${g.rulePath}`;
          if (!seen.has(k)) {
            seen.add(k);
            d.grants.push(g);
          }
        }
        d.notes.push(`port ${port} has ${l7.kind} rules: redirected to the L7 proxy with ${d.grants.map((g) => g.rulePath).join(", ")}`);
      }
    } else {
      d.verdict = d.audited ? "AUDIT" : "FORWARDED";
      const other = m.l7PortFor(proto, port);
      if (other) d.notes.push(`port ${port} has ${other.kind} rules for other peers, but the entry that matched this one (${entryText(e, this.cluster.identities)}) is not that port's: it carries no proxy port, so the datapath forwards without the L7 proxy`);
    }
    return d;
  }
}

function dropEvent(reason: number | undefined): { type: number; sub_type: number } {
  if (reason === DropReason.POLICY_DENY) return EVENT_DROP_DENY;
  if (reason === DropReason.AUTH_REQUIRED) return EVENT_DROP_AUTH;
  return EVENT_DROP_DENIED;
}

function uniqHubble(list: Policy[]): Policy[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.kind}|${p.namespace}|${p.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function withTime(env: FlowEnvelope, time: string): FlowEnvelope {
  env.flow.time = time;
  env.time = time;
  return env;
}

export { formatIPv4 };

function cidrGroupInfo(g: CidrGroup): CidrGroupInfo {
  return { name: g.name, labels: g.labels, cidrs: g.cidrs.map((c) => c.text), source: g.source, document: g.documentIndex, yaml: g.yaml };
}
