// The Datapath: one simulated Cilium datapath for a scenario. process() takes a request through
// egress policy at the source, the L7 proxy where redirected, ingress policy at the destination and
// connection tracking, and returns the Hubble records Cilium would emit plus a trace summary.
import { watch, type FSWatcher } from "node:fs";
import { Cluster, type ClusterService, type Node, type Pod } from "../cluster/model";
import type { Identity } from "../cluster/identities";
import { formatIPv4, parseIPv4 } from "../cluster/ip";
import { loadScenarioFile } from "../scenario/load";
import type { Scenario, TrafficEntry, TrafficRequest } from "../scenario/types";
import type { Endpoint, FlowEnvelope, Policy, Service, Verdict } from "../../lib/flow/types";
import { DropReason, ReservedIdentity } from "../../lib/flow/enums";
import { createL7Proxy } from "./l7/proxy";
import type { DnsAnswerSource, L7Context, L7Grant, L7Outcome, L7Protocol, L7Proxy, L7RequestSpec } from "./l7/proxy-types";
import { PolicyEngine } from "./engine";
import { readPolicyPaths, listPolicyFiles, parsePolicyText, policyKey } from "./policy/documents";
import type { PolicyRecord, PolicyWarning, Rule } from "./policy/types";
import { PROTO_ICMP, PROTO_SCTP, PROTO_TCP, PROTO_UDP, type MapEntry, type MatchType, type PolicyMapDir } from "./policy-map";
import type { Direction } from "./compiler";
import { buildFlow, extension, formatTime, l4Summary, layer4, type Packet } from "./flow-builder";
import { entryText, identityText, matchTypeName, nearestMiss, policyName } from "./explain";
import type { FqdnCacheEntry } from "./fqdn-cache";
import type { IpcacheEntry } from "./ipcache";
import { countDefaultDeny, countEntryHit } from "./counters";
import { Conntrack, type ConntrackEntry, type ConntrackOptions } from "./conntrack";
import { requestBytes } from "./request-size";

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

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
  l7Kind?: string;
  rule?: string;
  notes: string[];
}

interface Place {
  ip: string;
  ipNum: number;
  pod?: Pod;
  node?: Node;
  service?: ClusterService;
  label: string;
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

export class Datapath {
  readonly cluster: Cluster;
  readonly engine: PolicyEngine;
  warnings: PolicyWarning[] = [];
  private readonly proxy: L7Proxy;
  private readonly policyPaths: string[];
  private readonly audit: boolean;
  private sport = 40000;
  private readonly rr = new Map<string, number>();
  private readonly conntrack: Conntrack;
  /** per-entry and per-policy counting; off only to measure what it costs */
  readonly counting: boolean;
  private readonly epCache = new Map<string, Endpoint>();

  constructor(
    readonly scenario: Scenario,
    opts: DatapathOptions = {},
  ) {
    this.cluster = new Cluster(scenario);
    this.engine = new PolicyEngine(this.cluster, scenario.settings);
    this.proxy = opts.proxy ?? createL7Proxy();
    this.audit = opts.audit ?? scenario.settings.policyAuditMode;
    this.counting = opts.counters ?? true;
    this.conntrack = new Conntrack(opts.conntrack);
    this.policyPaths = [...scenario.policies, ...(opts.extraPolicyPaths ?? [])];
    const { policies, warnings } = readPolicyPaths(this.policyPaths);
    this.warnings = warnings;
    this.engine.apply(policies);
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

  upsertPolicyYaml(yamlText: string, source: string): { applied: PolicyInfo[]; warnings: PolicyWarning[] } {
    const { policies, warnings } = parsePolicyText(yamlText, source);
    this.engine.apply(policies);
    return { applied: policies.map((p) => this.policyInfo(p)), warnings };
  }

  deletePolicy(kind: string, namespace: string | undefined, name: string): boolean {
    const ns = kind === "CiliumClusterwideNetworkPolicy" ? undefined : namespace ?? "default";
    const key = policyKey(kind, ns, name);
    if (!this.engine.policies.has(key)) return false;
    this.engine.apply([], [key]);
    return true;
  }

  /** Re-reads the scenario's policy files; only policies whose text changed (or vanished) are re-applied. */
  reloadPolicyFiles(): { warnings: PolicyWarning[] } {
    const { policies, warnings } = readPolicyPaths(this.policyPaths);
    const files = new Set(listPolicyFiles(this.policyPaths).files);
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
    const fire = () => {
      if (timer) clearTimeout(timer);
      // editors write files in several steps; settle before re-reading
      timer = setTimeout(() => {
        timer = undefined;
        this.reloadPolicyFiles();
        onChange();
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
    return dirs.map((d) => ({ direction: d, enforced: c[d].enforced, entries: c[d].all().map((e) => this.entryInfo(e, c[d])) }));
  }

  private entryInfo(e: MapEntry, m: PolicyMapDir) {
    const redirect = !e.deny && (e.wildcardPort ? m.l7Ports.some((p) => p.proto === e.proto || e.proto === 0) : !!m.l7PortFor(e.proto, e.portLo));
    return {
      identity: e.identity === 0 ? "ANY" : e.identity,
      proto: ["ANY", "TCP", "UDP", "SCTP", "ICMP", "ICMPv6"][e.proto],
      port: e.wildcardPort ? "ANY" : e.portLo === e.portHi ? String(e.portLo) : `${e.portLo}-${e.portHi}`,
      action: e.deny ? "deny" : "allow",
      redirect,
      rules: (e.deny ? e.denyRules : e.allowRules).map((r) => ({ policy: r.rule.policy.hubble, path: r.path })),
      packets: e.packets,
      bytes: e.bytes,
      lastHit: e.lastHit ? new Date(e.lastHit).toISOString() : null,
    };
  }

  fqdnCache(endpointId?: number): FqdnCacheEntry[] {
    return this.engine.fqdn.list(endpointId);
  }

  connections(): ConntrackEntry[] {
    return this.conntrack.list();
  }

  // ---------------------------------------------------------------- requests

  process(req: TrafficRequest, now: Date = new Date()): TraceResult {
    const ms = now.getTime();
    if (this.engine.fqdn.expire(ms)) this.engine.onFqdnChange();
    const clock = { ms, ns: 0 };
    if (req.toFQDN) return this.processFqdn(req, clock);
    return this.processOne(req, clock, []);
  }

  private processFqdn(req: TrafficRequest, clock: { ms: number; ns: number }): TraceResult {
    const name = req.toFQDN!;
    const lookup = this.processOne({ from: req.from, dns: { query: name, type: "A" } }, clock, [`resolving ${name} through kube-dns first`]);
    const answered = lookup.verdict !== "DROPPED" ? this.lastDnsIps : [];
    if (lookup.verdict === "DROPPED" || answered.length === 0) {
      if (answered.length === 0 && lookup.verdict !== "DROPPED") lookup.explanation.push(`kube-dns has no record for ${name}; the request ends with the lookup`);
      return { ...lookup, request: { ...this.describeRequest(req), lookup: lookup.request } };
    }
    const ip = answered[0];
    const conn = this.processOne({ ...req, toFQDN: undefined, toIP: ip }, clock, [`${name} resolved to ${answered.join(", ")}; connecting to ${ip}`]);
    return {
      ...conn,
      request: { ...this.describeRequest(req), resolved_ip: ip, connection: conn.request },
      explanation: [...lookup.explanation, ...conn.explanation],
      flows: [...lookup.flows, ...conn.flows],
    };
  }

  private lastDnsIps: string[] = [];

  private describeRequest(req: TrafficRequest): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(req)) if (v !== undefined && k !== "rate") out[k] = v;
    return out;
  }

  private pick(list: Pod[], key: string): Pod {
    const n = this.rr.get(key) ?? 0;
    this.rr.set(key, n + 1);
    return list[n % list.length];
  }

  private placeOfIp(ip: string): Place {
    const ipNum = parseIPv4(ip);
    if (ipNum === undefined) throw new RequestError(`"${ip}" is not an IPv4 address`);
    const pod = this.cluster.podByIp.get(ipNum);
    if (pod) return { ip, ipNum, pod, label: `${pod.namespace}/${pod.name}` };
    const node = this.cluster.nodeByIp.get(ipNum);
    if (node) return { ip, ipNum, node, label: `node ${node.name}` };
    const svc = this.cluster.serviceByIp.get(ipNum);
    if (svc) return { ip, ipNum, service: svc, label: `service ${svc.namespace}/${svc.name}` };
    const ext = this.scenario.external.find((e) => e.ips.includes(ip));
    return { ip, ipNum, label: ext?.name ? `${ext.name} (${ip})` : ip };
  }

  private resolveSource(req: TrafficRequest): Place {
    if (typeof req.from === "string") {
      const pods = this.cluster.workloadPods(req.from);
      if (!pods) throw new RequestError(`unknown workload "${req.from}" in from`);
      const pod = this.pick(pods, `from:${req.from}`);
      if (pod.hostNetwork) return { ip: pod.ip, ipNum: pod.ipNum, node: this.cluster.nodeByName.get(pod.node), label: `${pod.namespace}/${pod.name} (hostNetwork)` };
      return { ip: pod.ip, ipNum: pod.ipNum, pod, label: `${pod.namespace}/${pod.name}` };
    }
    return this.placeOfIp(req.from.ip);
  }

  private resolveDest(req: TrafficRequest): Place {
    let svc: ClusterService | undefined;
    if (req.to) {
      const pods = this.cluster.workloadPods(req.to);
      if (pods) {
        const pod = this.pick(pods, `to:${req.to}`);
        if (pod.hostNetwork) return { ip: pod.ip, ipNum: pod.ipNum, node: this.cluster.nodeByName.get(pod.node), label: `${pod.namespace}/${pod.name} (hostNetwork)` };
        return { ip: pod.ip, ipNum: pod.ipNum, pod, label: `${pod.namespace}/${pod.name}` };
      }
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

  private endpointOf(place: Place, identity: Identity): Endpoint {
    if (place.pod && place.pod.identity.id === identity.id) {
      const key = `pod:${place.pod.namespace}/${place.pod.name}`;
      let e = this.epCache.get(key);
      if (!e) {
        const p = place.pod;
        e = { ID: p.endpointId, identity: identity.id, cluster_name: this.cluster.name, namespace: p.namespace, labels: identity.labels, pod_name: p.name, workloads: [{ name: p.workload, kind: "Deployment" }] };
        this.epCache.set(key, e);
      }
      return e;
    }
    return { identity: identity.id, labels: identity.labels };
  }

  private dnsSource(): DnsAnswerSource {
    return {
      resolve: (name: string, qtype: string) => {
        const n = name.toLowerCase().replace(/\.$/, "");
        if (qtype !== "A" && qtype !== "ANY") return undefined;
        const rec = this.scenario.dns.find((d) => d.name === n);
        if (rec) return { ips: rec.ips, ttl: rec.ttl };
        const svc = this.cluster.services.find((s) => n === `${s.name}.${s.namespace}.svc.cluster.local` || n === `${s.name}.${s.namespace}.svc` || n === `${s.name}.${s.namespace}`);
        if (svc) return { ips: [svc.clusterIP], ttl: 30 };
        return undefined;
      },
    };
  }

  private processOne(req: TrafficRequest, clock: { ms: number; ns: number }, preface: string[]): TraceResult {
    const explanation = [...preface];
    const flows: FlowEnvelope[] = [];
    const src = this.resolveSource(req);
    const dst = this.resolveDest(req);
    const proto = req.protocol ?? (req.dns ? "UDP" : "TCP");
    let port = proto === "ICMP" ? 0 : req.port ?? (req.dns ? 53 : 0);
    const icmpType = req.icmpType ?? 8;
    const svc = dst.service;
    let via = dst;
    let authority = dst.pod ? `${dst.pod.workload}:${port}` : `${dst.ip}:${port}`;
    if (svc) {
      if (proto === "ICMP") throw new RequestError(`service ${svc.namespace}/${svc.name} does not forward ICMP`);
      const sp = svc.ports.find((p) => p.port === port && p.protocol === proto);
      if (!sp) throw new RequestError(`service ${svc.namespace}/${svc.name} has no port ${port}/${proto}`);
      if (svc.backends.length === 0) throw new RequestError(`service ${svc.namespace}/${svc.name} has no backends`);
      const backend = this.pick(svc.backends, `svc:${svc.namespace}/${svc.name}`);
      const target = typeof sp.targetPort === "number" ? sp.targetPort : backend.ports.find((p) => p.name === sp.targetPort)?.port;
      if (target === undefined) throw new RequestError(`service ${svc.namespace}/${svc.name} targets port "${sp.targetPort}", which ${backend.name} does not declare`);
      explanation.push(`service ${svc.namespace}/${svc.name} ${svc.clusterIP}:${port} → backend ${backend.name} ${backend.ip}:${target} (policy sees the backend port)`);
      authority = `${svc.name}.${svc.namespace}.svc.cluster.local:${port}`;
      port = target;
      via = { ip: backend.ip, ipNum: backend.ipNum, pod: backend, label: `${backend.namespace}/${backend.name}` };
    }
    if (req.http?.host) authority = req.http.host;
    if (req.toIP && this.engine.fqdn.namesForIp(req.toIP).length) authority = `${this.engine.fqdn.namesForIp(req.toIP)[0]}:${port}`;

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
    const l4Text = proto === "ICMP" ? `ICMP type ${icmpType}` : `${port}/${proto}`;
    explanation.push(`source ${src.label} ${src.ip} = ${identityText(srcIdent, srcIdent.id)}${srcEp ? ` on ${srcEp.node}` : ""}`);
    explanation.push(`destination ${via.label} ${via.ip} = ${identityText(dstIdent, dstIdent.id)}${dstEp ? ` on ${dstEp.node}` : ""}, ${l4Text}`);

    const srcE = this.endpointOf(src, srcIdent);
    const dstE = this.endpointOf(via, dstIdent);
    const destService: Service | undefined = svc ? { name: svc.name, namespace: svc.namespace } : undefined;
    const dstNames = srcEp ? this.engine.fqdn.namesForIp(via.ip, srcEp.endpointId) : [];
    const time = () => formatTime(clock.ms, (clock.ns += 1000));
    const base = (node: string, direction: "INGRESS" | "EGRESS") => ({
      srcIp: pkt.srcIp, dstIp: pkt.dstIp, source: srcE, destination: dstE, nodeName: node, direction,
      destinationNames: dstNames, destinationService: destService,
    });
    const result: TraceResult = { request: { ...this.describeRequest(req), source: { ip: src.ip, name: src.label, identity: srcIdent.id }, destination: { ip: via.ip, name: via.label, identity: dstIdent.id, port, ...(svc ? { service: `${svc.namespace}/${svc.name}`, service_ip: svc.clusterIP } : {}) } }, verdict: "FORWARDED", explanation, flows };
    let audited = false;
    const pendingResponses: FlowEnvelope[] = [];
    const l7Req: L7RequestSpec = {};
    if (req.http) l7Req.http = req.http;
    if (req.grpc) l7Req.grpc = req.grpc;
    if (req.kafka) l7Req.kafka = req.kafka;
    if (req.dns) l7Req.dns = req.dns;
    this.lastDnsIps = [];
    let dnsResolvedByProxy = false;

    const runSide = (dir: Direction, ep: Pod, peer: Identity, peerIp: string, node: string): "continue" | "stop" => {
      const d = this.decide(ep, dir, peer, peerIp, protoIdx, key, bytes, clock.ms);
      const label = dir.toUpperCase() as "INGRESS" | "EGRESS";
      const side: SideResult = {
        enforced: d.enforced,
        verdict: d.verdict,
        match_type: matchTypeName(d.matchType),
        allowed_by: d.allowedBy,
        denied_by: d.deniedBy,
        ...(d.verdict === "DROPPED" || d.verdict === "AUDIT" ? { default_deny_by: d.defaultDenyBy } : {}),
      };
      result[dir] = side;
      explanation.push(...d.notes.map((n) => `${dir} at ${ep.namespace}/${ep.name}: ${n}`));
      if (d.verdict === "AUDIT") audited = true;
      if (d.emit) {
        const ext = d.verdict === "DROPPED" || d.verdict === "AUDIT" ? extension({ default_deny_by: d.dropReason === DropReason.POLICY_DENY ? undefined : d.defaultDenyBy, rule: d.rule, explanation: d.notes }) : undefined;
        const policies = d.verdict === "FORWARDED" || d.verdict === "REDIRECTED" ? { [`${dir}AllowedBy`]: d.allowedBy } : d.verdict === "DROPPED" && d.dropReason === DropReason.POLICY_DENY ? { [`${dir}DeniedBy`]: d.deniedBy } : {};
        flows.push(buildFlow({
          ...base(node, label), time: time(), verdict: d.verdict, dropReason: d.verdict === "DROPPED" ? d.dropReason : undefined,
          l4: layer4(pkt, false, proto === "TCP" ? { SYN: true } : null), type: "L3_L4", eventType: { type: 5 }, matchType: d.matchType,
          isReply: d.verdict === "DROPPED" ? undefined : false, summary: l4Summary(pkt, false), extensions: ext, ...policies,
        }));
      }
      if (d.verdict === "DROPPED") {
        flows.push(buildFlow({
          ...base(node, label), time: time(), verdict: "DROPPED", dropReason: d.dropReason, l4: layer4(pkt, false, proto === "TCP" ? { SYN: true } : null),
          type: "L3_L4", eventType: { type: 1, sub_type: d.dropReason }, summary: l4Summary(pkt, false),
          extensions: d.dropReason === DropReason.POLICY_DENIED ? extension({ default_deny_by: d.defaultDenyBy, rule: d.rule, explanation: d.notes }) : extension({ rule: d.rule, explanation: d.notes }),
        }));
        result.verdict = "DROPPED";
        result.drop_reason_desc = d.dropReason === DropReason.POLICY_DENY ? "POLICY_DENY" : "POLICY_DENIED";
        return "stop";
      }
      if (d.verdict === "REDIRECTED") {
        const outcome = this.runProxy(d, label, l7Req, authority, port, clock.ms);
        const l7Base = { ...base(node, label), type: "L7" as const, eventType: { type: 129 }, l4: layer4(pkt, false, null) };
        const decided = outcome.decidedBy.length ? outcome.decidedBy : (d.grants ?? []).map((g) => g.policy);
        const ext = extension({ l7_decided_by: uniqHubble(decided), rule: outcome.rule, explanation: outcome.error ? [outcome.error] : undefined });
        flows.push(buildFlow({ ...l7Base, time: time(), verdict: outcome.allowed ? "FORWARDED" : "DROPPED", l7: outcome.request, isReply: false, summary: outcome.requestSummary, extensions: ext }));
        const resp = outcome.response
          ? buildFlow({
              ...l7Base, srcIp: pkt.dstIp, dstIp: pkt.srcIp, source: dstE, destination: srcE, l4: layer4(pkt, true, null), destinationNames: undefined,
              time: "", verdict: "FORWARDED", l7: outcome.response, isReply: true, summary: outcome.responseSummary ?? "", extensions: ext,
            })
          : undefined;
        explanation.push(`${dir} L7 proxy (${d.grants === null ? "allow-all for this peer" : `${d.grants.length} L7 rule set(s)`}): ${outcome.requestSummary} → ${outcome.allowed ? "allowed" : "refused"}${outcome.rule ? ` by ${outcome.rule}` : ""}${outcome.error ? ` (${outcome.error})` : ""}`);
        if (outcome.dnsAnswer) {
          this.lastDnsIps = outcome.dnsAnswer.ips;
          dnsResolvedByProxy = true;
          if (outcome.allowed && srcEp) {
            if (this.engine.fqdn.learn(srcEp.endpointId, outcome.dnsAnswer.query, outcome.dnsAnswer.ips, outcome.dnsAnswer.ttl, clock.ms)) {
              const n = this.engine.onFqdnChange();
              explanation.push(`FQDN cache learned ${outcome.dnsAnswer.query} → ${outcome.dnsAnswer.ips.join(", ")} (${n} endpoint map(s) updated)`);
            }
          }
        }
        if (!outcome.allowed) {
          if (resp) flows.push(withTime(resp, time()));
          result.verdict = "DROPPED";
          result.l7_denied = true;
          result.response = outcome.response_code;
          return "stop";
        }
        if (resp) pendingResponses.push(resp);
        if (Object.keys(outcome.response_code).length) result.response = outcome.response_code;
      }
      return "continue";
    };

    if (srcEp) {
      if (runSide("egress", srcEp, dstIdent, via.ip, srcNode) === "stop") return this.finish(result, audited);
    } else explanation.push("egress: the source is not a Cilium endpoint, nothing to check");
    if (dstEp) {
      const fromLocalHost = srcIdent.id === ReservedIdentity.HOST;
      if (fromLocalHost && this.scenario.settings.allowLocalhost === "always") {
        explanation.push(`ingress at ${dstEp.namespace}/${dstEp.name}: traffic from the local host is always allowed (allowLocalhost: always)`);
      } else if (runSide("ingress", dstEp, srcIdent, src.ip, dstNode) === "stop") return this.finish(result, audited);
    } else explanation.push("ingress: the destination is not a Cilium endpoint, nothing to check");

    // delivered
    if (dstEp) {
      flows.push(buildFlow({ ...base(dstNode, "INGRESS"), time: time(), verdict: "FORWARDED", l4: layer4(pkt, false, proto === "TCP" ? { SYN: true } : null), type: "L3_L4", eventType: { type: 4 }, traceObservationPoint: "TO_ENDPOINT", isReply: false, summary: l4Summary(pkt, false) }));
    } else if (srcEp) {
      flows.push(buildFlow({ ...base(srcNode, "EGRESS"), time: time(), verdict: "FORWARDED", l4: layer4(pkt, false, proto === "TCP" ? { SYN: true } : null), type: "L3_L4", eventType: { type: 4, sub_type: 3 }, traceObservationPoint: "TO_STACK", isReply: false, summary: l4Summary(pkt, false) }));
    }
    for (const r of pendingResponses.reverse()) flows.push(withTime(r, time()));
    // connection tracking: the reply of an allowed connection passes without a policy lookup
    const ctKey = `${proto} ${pkt.srcIp}:${sport} -> ${pkt.dstIp}:${proto === "ICMP" ? icmpType : port}`;
    this.conntrack.upsert(ctKey, proto, clock.ms);
    if (srcEp) {
      flows.push(buildFlow({
        srcIp: pkt.dstIp, dstIp: pkt.srcIp, source: dstE, destination: srcE, nodeName: srcNode, direction: "EGRESS", sourceNames: dstNames,
        time: time(), verdict: "FORWARDED", l4: layer4(pkt, true, proto === "TCP" ? { SYN: true, ACK: true } : null), type: "L3_L4", eventType: { type: 4 },
        traceObservationPoint: "TO_ENDPOINT", isReply: true, summary: l4Summary(pkt, true),
      }));
      explanation.push(`reply ${via.ip} → ${src.ip} matches connection-tracking entry "${ctKey}": delivered without a policy lookup`);
    }
    if (req.dns && !dnsResolvedByProxy) {
      const ans = this.dnsSource().resolve(req.dns.query, req.dns.type ?? "A");
      this.lastDnsIps = ans?.ips ?? [];
      if (ans) explanation.push(`DNS answer ${req.dns.query} → ${ans.ips.join(", ")} was not seen by the DNS proxy (no dns rule redirects it), so toFQDNs learns nothing`);
    }
    return this.finish(result, audited);
  }

  private finish(r: TraceResult, audited: boolean): TraceResult {
    if (r.verdict === "FORWARDED" && audited) r.verdict = "AUDIT";
    r.explanation.push(`verdict: ${r.verdict}${r.drop_reason_desc ? ` (${r.drop_reason_desc})` : ""}${r.l7_denied ? " (refused by the L7 proxy)" : ""}`);
    return r;
  }

  private nextPort(): number {
    this.sport = this.sport >= 60999 ? 32768 : this.sport + 1;
    return this.sport;
  }

  private runProxy(d: Decision, direction: "INGRESS" | "EGRESS", req: L7RequestSpec, authority: string, port: number, ms: number): L7Outcome {
    let protocol: L7Protocol;
    const request: L7RequestSpec = { ...req };
    if (req.grpc) protocol = "grpc";
    else if (req.http) protocol = "http";
    else if (req.kafka) protocol = "kafka";
    else if (req.dns) protocol = "dns";
    else if (d.l7Kind === "kafka") {
      protocol = "kafka";
      request.kafka = { apiKey: "metadata" };
    } else if (d.l7Kind === "dns") {
      protocol = "dns";
      request.dns = { query: "example.com", type: "A" };
    } else {
      // a request without L7 detail on an HTTP port: what curl sends by default
      protocol = "http";
      request.http = { method: "GET", path: "/" };
    }
    const ctx: L7Context = { protocol, request, direction, grants: d.grants, authority, port, dnsServer: this.dnsSource(), now: new Date(ms) };
    return this.proxy.handle(ctx);
  }

  /** One side's L3/L4 policy decision (§2.10); a few hash lookups plus bookkeeping. */
  private decide(ep: Pod, dir: Direction, peer: Identity, peerIp: string, proto: number, port: number, bytes: number, ms: number): Decision {
    const m = this.engine.compiled.get(ep.endpointId)![dir];
    const audit = this.audit || this.scenario.settings.policyAuditNamespaces.includes(ep.namespace);
    const d: Decision = { dir, checked: true, enforced: m.enforced, emit: false, verdict: "FORWARDED", matchType: 0, entry: null, allowedBy: [], deniedBy: [], defaultDenyBy: [], grants: null, notes: [] };
    if (m.disabled) {
      d.notes.push("policy enforcement is disabled (policyEnforcementMode: never)");
      return d;
    }
    const res = m.lookup(peer.id, proto, port);
    const e = res.entry;
    const looked = `looked up (${peer.id}, ${proto === PROTO_ICMP ? "ICMP" : ["ANY", "TCP", "UDP", "SCTP"][proto]}, ${port}) in ${m.size} entries`;
    if (this.counting) {
      if (e) countEntryHit(e, dir, bytes, ms);
      else if (m.enforced) countDefaultDeny(m.defaultDenyPolicies, dir);
    }
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
      d.emit = true;
      d.verdict = audit ? "AUDIT" : "DROPPED";
      d.dropReason = DropReason.POLICY_DENIED;
      d.defaultDenyBy = ddBy;
      const why = ddBy.length ? `default deny by ${ddBy.map((p) => `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`).join(", ")}` : "default deny (policyEnforcementMode: always)";
      d.notes.push(`${why}; ${looked}: no entry matched${audit ? "; audit mode lets it pass (AUDIT)" : ""}`);
      const miss = nearestMiss(m, dir, ep, peer, peerIp, proto, port, this.cluster, this.engine.selectors, dir === "egress" ? ` (learned names: ${[...this.engine.fqdn.names().keys()].join(", ") || "none"})` : "");
      if (miss) {
        d.notes.push(miss);
        d.rule = miss.replace(/^nearest rule: \S+ \S+ /, "").split(":")[0];
      } else d.notes.push(`no ${dir} allow rule selects this endpoint${dir === "egress" ? " (missing egress allow at the source)" : ""}`);
      return d;
    }
    d.emit = true;
    d.matchType = res.matchType;
    d.entry = e;
    d.allowedBy = uniqPolicies(e.allowRules);
    d.rule = e.allowRules[0]?.path;
    const l7 = m.l7PortFor(proto, port);
    d.notes.push(`${m.enforced ? "default deny" : "not default-deny"}; ${looked}; matched ${entryText(e, this.cluster.identities)} → ${matchTypeName(res.matchType)}`);
    if (l7) {
      d.verdict = "REDIRECTED";
      d.l7Kind = l7.kind;
      const allows = m.candidates(peer.id, proto, port).filter((c) => !c.deny);
      if (allows.some((c) => c.l7AllowAll)) {
        d.grants = null;
        d.notes.push(`port ${port} has ${l7.kind} rules: redirected to the L7 proxy; an allow without L7 rules also covers this peer, so L7 allows all (§2.5)`);
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
    } else d.verdict = "FORWARDED";
    return d;
  }
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
