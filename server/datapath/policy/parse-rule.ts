// Validation and parsing of CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy rules, following
// pkg/policy/api/rule_validation.go: a rule that Cilium would reject produces issues instead of a Rule.
import { Checker, join } from "../../scenario/check";
import { parseCidr, parsePrefixNotation, cidrContains, type Cidr } from "../../cluster/ip";
import { makeSelector, normalizeOp, parseSelectorKey, scopePeerSelector, scopeSubjectSelector } from "../selector";
import { patternToRegExp, nameToRegExp, validateFqdn } from "../fqdn-match";
import { ICMPV4_TYPES, ICMPV6_TYPES, KAFKA_API_KEYS } from "./icmp-types";
import { AUTH_NONE, AUTH_SPIRE, AUTH_TEST_ALWAYS_FAIL } from "../policy-map";
import type { DnsRule, HttpRule, KafkaRule, L7Rules } from "../l7/proxy-types";
import { regexProblem } from "../l7/match/regex";
import type { IcmpSel, L4Proto, L7Spec, Peer, PeerRule, PolicyRecord, PortRuleSpec, PortSel, Requirement, Rule, Selector } from "./types";

const MAX_PORTS = 40;
const MAX_ICMP_FIELDS = 40;
export const ENTITIES = ["host", "remote-node", "kube-apiserver", "ingress", "health", "init", "unmanaged", "world", "world-ipv4", "world-ipv6", "cluster", "all", "none"];

const INGRESS_L3 = ["fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups"];
const EGRESS_L3 = ["toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs", "toNodes", "toGroups"];
/** peer fields whose explicit empty list selects nothing (the others' empty list is "not set") */
const SELECTS_NONE_WHEN_EMPTY_IN = ["fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities"];
const SELECTS_NONE_WHEN_EMPTY_OUT = ["toEndpoints", "toCIDR", "toCIDRSet", "toEntities"];
const RULE_FIELDS = ["endpointSelector", "nodeSelector", "ingress", "ingressDeny", "egress", "egressDeny", "enableDefaultDeny", "labels", "description", "log"];

export interface RuleContext {
  c: Checker;
  policy: PolicyRecord;
  /** undefined for CCNP */
  namespace: string | undefined;
  clusterwide: boolean;
}

export function parseLabelSelector(ctx: RuleContext, v: unknown, path: string): Requirement[] {
  return parseSelectorRequirements(ctx.c, v, path, parseSelectorKey);
}

/**
 * A Kubernetes LabelSelector (matchLabels + matchExpressions) with strict validation. `keyOf` turns a
 * written key into source and key: Cilium's `source:key` form for Cilium policies, a fixed k8s source
 * (and the namespace-label prefix where it applies) for NetworkPolicy.
 */
export function parseSelectorRequirements(c: Checker, v: unknown, path: string, keyOf: (raw: string) => { source: string; key: string }): Requirement[] {
  const o = c.obj(v ?? {}, path, ["matchLabels", "matchExpressions"]);
  const reqs: Requirement[] = [];
  for (const [k, val] of Object.entries(c.strMap(o.matchLabels, join(path, "matchLabels")))) {
    const key = keyOf(k);
    if (!key.key) c.err(join(join(path, "matchLabels"), k), `invalid label key "${k}"`);
    reqs.push({ ...key, op: "In", values: [val] });
  }
  c.arr(o.matchExpressions, join(path, "matchExpressions")).forEach((e, i) => {
    const p = join(join(path, "matchExpressions"), i);
    const x = c.obj(e, p, ["key", "operator", "values"], ["key", "operator"]);
    const key = c.str(x.key, join(p, "key"));
    const opText = c.str(x.operator, join(p, "operator"));
    const op = opText === undefined ? undefined : normalizeOp(opText);
    if (opText !== undefined && !op) c.err(join(p, "operator"), `must be one of In, NotIn, Exists, DoesNotExist, got "${opText}"`);
    const values = c.arr(x.values, join(p, "values")).map((val, j) => c.str(val, join(join(p, "values"), j), { allowNumber: true }) ?? "");
    if ((op === "In" || op === "NotIn") && values.length === 0) c.err(join(p, "values"), `must be non-empty for operator ${op}`);
    if ((op === "Exists" || op === "DoesNotExist") && values.length > 0) c.err(join(p, "values"), `must be empty for operator ${op}`);
    if (key !== undefined && op) reqs.push({ ...keyOf(key), op, values });
  });
  return reqs;
}

/** `prefixOnly`: CIDRRule fields (toCIDRSet/fromCIDRSet cidr and except), which refuse a bare address */
function parseCidrText(ctx: RuleContext, v: unknown, path: string, prefixOnly = false): Cidr | undefined {
  const s = ctx.c.str(v, path);
  if (s === undefined) return undefined;
  const r = prefixOnly ? parsePrefixNotation(s) : parseCidr(s);
  if ("error" in r) {
    ctx.c.err(path, r.error);
    return undefined;
  }
  return r;
}

function parsePeers(ctx: RuleContext, o: Record<string, unknown>, path: string, ingress: boolean, deny: boolean): Peer[] {
  const { c } = ctx;
  const peers: Peer[] = [];
  const ep = ingress ? "fromEndpoints" : "toEndpoints";
  c.arr(o[ep], join(path, ep)).forEach((s, i) => {
    const p = join(join(path, ep), i);
    const reqs = scopePeerSelector(parseLabelSelector(ctx, s, p), ctx.namespace);
    peers.push({ kind: "selector", sel: makeSelector(reqs), path: p });
  });
  const cidrKey = ingress ? "fromCIDR" : "toCIDR";
  c.arr(o[cidrKey], join(path, cidrKey)).forEach((s, i) => {
    const p = join(join(path, cidrKey), i);
    const cidr = parseCidrText(ctx, s, p);
    if (cidr) peers.push({ kind: "cidr", cidr, except: [], text: cidr.text, path: p });
  });
  const setKey = ingress ? "fromCIDRSet" : "toCIDRSet";
  c.arr(o[setKey], join(path, setKey)).forEach((s, i) => {
    const p = join(join(path, setKey), i);
    const x = c.obj(s, p, ["cidr", "except", "cidrGroupRef", "cidrGroupSelector"]);
    const given = ["cidr", "cidrGroupRef", "cidrGroupSelector"].filter((k) => x[k] !== undefined);
    if (given.length !== 1) {
      c.err(p, `must have exactly one of cidr, cidrGroupRef, cidrGroupSelector${given.length ? ` (got ${given.join(" and ")})` : ""}`);
      return;
    }
    const except: Cidr[] = [];
    const parseExcept = (cidr: Cidr | undefined) =>
      c.arr(x.except, join(p, "except")).forEach((e, j) => {
        const ex = parseCidrText(ctx, e, join(join(p, "except"), j), true);
        if (ex && cidr && !cidrContains(cidr, ex)) c.err(join(join(p, "except"), j), `allow CIDR prefix ${cidr.text} does not contain exclude CIDR prefix ${ex.text}`);
        else if (ex) except.push(ex);
      });
    if (x.cidrGroupRef !== undefined || x.cidrGroupSelector !== undefined) {
      // the groups' CIDRs are not known here (a group may come later): except is checked per prefix
      parseExcept(undefined);
      const exceptText = except.length ? ` except ${except.map((e) => e.text).join(", ")}` : "";
      if (x.cidrGroupRef !== undefined) {
        const ref = c.str(x.cidrGroupRef, join(p, "cidrGroupRef"));
        if (ref !== undefined) peers.push({ kind: "cidrGroup", ref, except, text: `cidrGroupRef ${ref}${exceptText}`, path: p });
      } else {
        // group labels have source cidrgroup; a key written without a source means that one
        const reqs = parseLabelSelector(ctx, x.cidrGroupSelector, join(p, "cidrGroupSelector")).map((r) => (r.source === "any" ? { ...r, source: "cidrgroup" } : r));
        const sel = makeSelector(reqs);
        peers.push({ kind: "cidrGroup", sel, except, text: `cidrGroupSelector ${sel.text}${exceptText}`, path: p });
      }
      return;
    }
    const cidr = parseCidrText(ctx, x.cidr, join(p, "cidr"), true);
    parseExcept(cidr);
    if (cidr) peers.push({ kind: "cidr", cidr, except, text: except.length ? `${cidr.text} except ${except.map((e) => e.text).join(", ")}` : cidr.text, path: p });
  });
  const entKey = ingress ? "fromEntities" : "toEntities";
  c.arr(o[entKey], join(path, entKey)).forEach((s, i) => {
    const p = join(join(path, entKey), i);
    const e = c.str(s, p);
    if (e === undefined) return;
    if (!ENTITIES.includes(e)) c.err(p, `unknown entity "${e}" (valid: ${ENTITIES.join(", ")})`);
    else peers.push({ kind: "entity", entity: e, path: p });
  });
  const nodesKey = ingress ? "fromNodes" : "toNodes";
  c.arr(o[nodesKey], join(path, nodesKey)).forEach((s, i) => {
    const p = join(join(path, nodesKey), i);
    parseLabelSelector(ctx, s, p);
    // Cilium rejects the rule unless the agent runs with enable-node-selector-labels (off by default,
    // and not modelled here: nodes have no per-node identities in this cluster)
    c.err(p, `${ingress ? "FromNodes" : "ToNodes"} rules can only be applied when the "enable-node-selector-labels" flag is set`);
  });
  const groupsKey = ingress ? "fromGroups" : "toGroups";
  if (c.arr(o[groupsKey], join(path, groupsKey)).length) c.err(join(path, groupsKey), "cloud provider groups (AWS security groups) take effect in Cilium only through the derivative policy its operator builds from the provider's API; this simulator has no cloud provider, so the policy is not applied");
  if (!ingress) {
    c.arr(o.toServices, join(path, "toServices")).forEach((s, i) => {
      const p = join(join(path, "toServices"), i);
      const x = c.obj(s, p, ["k8sService", "k8sServiceSelector"]);
      if ((x.k8sService === undefined) === (x.k8sServiceSelector === undefined)) {
        c.err(p, "must have exactly one of k8sService, k8sServiceSelector");
        return;
      }
      if (x.k8sService !== undefined) {
        const y = c.obj(x.k8sService, join(p, "k8sService"), ["serviceName", "namespace"], ["serviceName"]);
        const name = c.str(y.serviceName, join(p, "k8sService.serviceName")) ?? "";
        const ns = c.str(y.namespace, join(p, "k8sService.namespace")) ?? ctx.namespace ?? "default";
        peers.push({ kind: "service", namespace: ns, name, text: `service ${ns}/${name}`, path: p });
      } else {
        const y = c.obj(x.k8sServiceSelector, join(p, "k8sServiceSelector"), ["selector", "namespace"], ["selector"]);
        const reqs = parseLabelSelector(ctx, y.selector, join(p, "k8sServiceSelector.selector"));
        const ns = c.str(y.namespace, join(p, "k8sServiceSelector.namespace")) ?? ctx.namespace;
        peers.push({ kind: "service", namespace: ns, reqs, text: `services matching ${makeSelector(reqs).text}${ns ? ` in ${ns}` : ""}`, path: p });
      }
    });
    if (!deny) {
      c.arr(o.toFQDNs, join(path, "toFQDNs")).forEach((s, i) => {
        const p = join(join(path, "toFQDNs"), i);
        const x = c.obj(s, p, ["matchName", "matchPattern"]);
        if ((x.matchName === undefined) === (x.matchPattern === undefined)) {
          c.err(p, "must have exactly one of matchName, matchPattern");
          return;
        }
        const isPattern = x.matchPattern !== undefined;
        const field = isPattern ? "matchPattern" : "matchName";
        const text = c.str(x[field], join(p, field)) ?? "";
        const bad = fqdnSelectorProblem(text, isPattern);
        if (bad) c.err(join(p, field), bad);
        else peers.push({ kind: "fqdn", text: `${field}: ${text}`, re: isPattern ? patternToRegExp(text) : nameToRegExp(text), path: p });
      });
    }
  }
  return peers;
}

function parseProto(ctx: RuleContext, v: unknown, path: string): L4Proto {
  if (v === undefined || v === null || v === "") return "ANY";
  const s = ctx.c.str(v, path);
  const up = s?.toUpperCase();
  if (up === "TCP" || up === "UDP" || up === "SCTP" || up === "ANY") return up;
  if (s !== undefined) ctx.c.err(path, `invalid protocol "${s}" (TCP, UDP, SCTP or ANY; ICMP goes in icmps)`);
  return "ANY";
}

/** port text → number, or lower-cased IANA name; reports the Cilium error text otherwise */
export function parsePortValue(ctx: RuleContext, v: unknown, path: string): number | string | undefined {
  const { c } = ctx;
  if (v === undefined || v === null || v === "") {
    c.err(path, "Port must be specified");
    return undefined;
  }
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 65535) c.err(path, `Unable to parse port: ${v} is not in 0-65535`);
    return v;
  }
  const s = c.str(v, path);
  if (s === undefined) return undefined;
  if (/^[0-9]+$/.test(s)) {
    // The agent reads it with strconv.ParseUint(port, 0, 16): base 0, so a leading zero means octal
    // ("010" is port 8) and a digit 8 or 9 after it is not a number at all ("08" rejects the policy).
    const octal = s.length > 1 && s.startsWith("0");
    if (octal && !/^[0-7]+$/.test(s)) {
      c.err(path, `Unable to parse port: "${s}" starts with 0, so it is read as octal, and 8 and 9 are not octal digits`);
      return undefined;
    }
    const n = octal ? parseInt(s, 8) : Number(s);
    if (n > 65535) c.err(path, `Unable to parse port: "${s}" is out of range 0-65535`);
    return n;
  }
  const lower = s.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(lower) || !/[a-z]/.test(lower) || lower.length > 15 || lower.includes("--")) {
    c.err(path, `Unable to parse port: "${s}" is neither a number nor a valid port name`);
    return undefined;
  }
  return lower;
}

function parseL7(ctx: RuleContext, v: unknown, path: string, ingress: boolean): L7Spec | undefined {
  const { c } = ctx;
  const o = c.obj(v, path, ["http", "kafka", "dns", "l7proto", "l7"]);
  const kinds = ["http", "kafka", "dns", "l7proto"].filter((k) => o[k] !== undefined);
  if (kinds.length === 0) return undefined;
  if (kinds.length > 1) {
    c.err(path, `multiple L7 protocol rule types specified in single rule (${kinds.join(", ")})`);
    return undefined;
  }
  const rules: L7Rules = {};
  const kind = kinds[0] as L7Spec["kind"];
  // An empty list is no L7 policy at all (L7Rules.IsEmpty): the port is a plain L4 allow, with no
  // redirect to the proxy, rather than a proxy that refuses everything.
  if (kind !== "l7proto" && Array.isArray(o[kind]) && (o[kind] as unknown[]).length === 0) return undefined;
  if (kind === "l7proto" && (o.l7 === undefined || (Array.isArray(o.l7) && o.l7.length === 0))) return undefined;
  if (kind === "http") {
    rules.http = c.arr(o.http, join(path, "http")).map((r, i) => parseHttpRule(ctx, r, join(join(path, "http"), i)));
  } else if (kind === "kafka") {
    rules.kafka = c.arr(o.kafka, join(path, "kafka")).map((r, i) => parseKafkaRule(ctx, r, join(join(path, "kafka"), i)));
  } else if (kind === "dns") {
    if (ingress) c.err(join(path, "dns"), "DNS rules are not allowed on ingress");
    rules.dns = c.arr(o.dns, join(path, "dns")).map((r, i) => {
      const p = join(join(path, "dns"), i);
      const x = c.obj(r, p, ["matchName", "matchPattern"]);
      if ((x.matchName === undefined) === (x.matchPattern === undefined)) c.err(p, "must have exactly one of matchName, matchPattern");
      const out: DnsRule = {};
      for (const f of ["matchName", "matchPattern"] as const) {
        const s = c.str(x[f], join(p, f));
        if (s === undefined) continue;
        const bad = fqdnSelectorProblem(s, f === "matchPattern");
        if (bad) c.err(join(p, f), bad);
        out[f] = s;
      }
      return out;
    });
  } else {
    c.str(o.l7proto, join(path, "l7proto"), { required: true });
    c.arr(o.l7, join(path, "l7"));
  }
  return { kind, rules, path };
}

/**
 * FQDNSelector as the CRD validates it (pkg/policy/api/fqdn.go, kubebuilder Pattern): labels of name
 * characters (and "*" in a pattern) separated by single dots, a final dot allowed: "a..b", "." and
 * ".a" are refused by the API server before the agent's own character check.
 */
const FQDN_MATCH_NAME = /^([-a-zA-Z0-9_]+[.]?)+$/;
const FQDN_MATCH_PATTERN = /^([-a-zA-Z0-9_*]+[.]?)+$/;

function fqdnSelectorProblem(s: string, pattern: boolean): string | undefined {
  const bad = validateFqdn(s, pattern);
  if (bad) return bad;
  // with the characters already checked, the CRD's pattern says: no empty label (tested by splitting,
  // as the pattern's nested quantifier backtracks for ages on a long name with "..")
  const labels = s.split(".");
  if (labels.at(-1) === "") labels.pop();
  if (labels.length === 0 || labels.some((l) => l === ""))
    return `"${s}" does not match ${pattern ? FQDN_MATCH_PATTERN.source : FQDN_MATCH_NAME.source}: labels separated by single dots, no empty label`;
  return undefined;
}

/** Cilium compiles these with Go's regexp (PortRuleHTTP.Sanitize) and Envoy matches with RE2: the
 * same syntax, which is not JavaScript's ("(?i)get" is valid, lookaheads are not). */
function checkRegex(ctx: RuleContext, s: string | undefined, path: string): void {
  if (s === undefined) return;
  const problem = regexProblem(s);
  if (problem) ctx.c.err(path, problem);
}

function parseHttpRule(ctx: RuleContext, v: unknown, path: string): HttpRule {
  const { c } = ctx;
  const o = c.obj(v ?? {}, path, ["method", "path", "host", "headers", "headerMatches"]);
  const r: HttpRule = {};
  const method = c.str(o.method, join(path, "method"));
  checkRegex(ctx, method, join(path, "method"));
  if (method !== undefined) r.method = method;
  const p = c.str(o.path, join(path, "path"));
  checkRegex(ctx, p, join(path, "path"));
  if (p !== undefined) {
    if (p !== "" && !p.startsWith("/")) c.err(join(path, "path"), `must start with "/", got "${p}"`);
    r.path = p;
  }
  const host = c.str(o.host, join(path, "host"));
  checkRegex(ctx, host, join(path, "host"));
  if (host !== undefined) r.host = host;
  if (o.headers !== undefined) r.headers = c.arr(o.headers, join(path, "headers")).map((h, i) => c.str(h, join(join(path, "headers"), i)) ?? "");
  if (o.headerMatches !== undefined) {
    r.headerMatches = c.arr(o.headerMatches, join(path, "headerMatches")).map((h, i) => {
      const q = join(join(path, "headerMatches"), i);
      const x = c.obj(h, q, ["name", "value", "mismatch", "secret"], ["name"]);
      const hm: NonNullable<HttpRule["headerMatches"]>[number] = { name: c.str(x.name, join(q, "name")) ?? "" };
      // the CRD: name has MinLength 1; Envoy's HeaderMatcher refuses NUL, CR and LF in it
      if (typeof x.name === "string") {
        if (hm.name === "") c.err(join(q, "name"), "must not be empty");
        else if (/[\0\r\n]/.test(hm.name)) c.err(join(q, "name"), `${JSON.stringify(hm.name)} contains NUL, CR or LF`);
      }
      const value = c.str(x.value, join(q, "value"));
      if (value !== undefined) hm.value = value;
      if (x.mismatch !== undefined) {
        const mm = c.oneOf(x.mismatch, join(q, "mismatch"), ["LOG", "ADD", "DELETE", "REPLACE"] as const);
        if (mm) hm.mismatch = mm;
      }
      if (x.secret !== undefined) {
        const s = c.obj(x.secret, join(q, "secret"), ["namespace", "name"], ["name"]);
        hm.secret = { name: c.str(s.name, join(q, "secret.name")) ?? "" };
        const ns = c.str(s.namespace, join(q, "secret.namespace"));
        if (ns !== undefined) hm.secret.namespace = ns;
      }
      return hm;
    });
  }
  return r;
}

function parseKafkaRule(ctx: RuleContext, v: unknown, path: string): KafkaRule {
  const { c } = ctx;
  const o = c.obj(v ?? {}, path, ["role", "apiKey", "apiVersion", "clientID", "topic"]);
  const r: KafkaRule = {};
  if (o.role !== undefined && o.apiKey !== undefined) c.err(path, "cannot set both role and apiKey");
  const role = c.str(o.role, join(path, "role"));
  if (role !== undefined) {
    if (!["produce", "consume"].includes(role.toLowerCase())) c.err(join(path, "role"), `must be "produce" or "consume", got "${role}"`);
    r.role = role;
  }
  const apiKey = c.str(o.apiKey, join(path, "apiKey"));
  if (apiKey !== undefined) {
    if (!(apiKey.toLowerCase() in KAFKA_API_KEYS)) c.err(join(path, "apiKey"), `unknown Kafka apiKey "${apiKey}"`);
    r.apiKey = apiKey;
  }
  const apiVersion = c.str(o.apiVersion, join(path, "apiVersion"), { allowNumber: true });
  if (apiVersion !== undefined) {
    if (!/^[0-9]+$/.test(apiVersion)) c.err(join(path, "apiVersion"), `must be an integer, got "${apiVersion}"`);
    r.apiVersion = apiVersion;
  }
  const clientID = c.str(o.clientID, join(path, "clientID"));
  if (clientID !== undefined) r.clientID = clientID;
  const topic = c.str(o.topic, join(path, "topic"));
  if (topic !== undefined) {
    if (topic.length > 255) c.err(join(path, "topic"), "is longer than 255 characters");
    else if (!/^[a-zA-Z0-9._-]*$/.test(topic)) c.err(join(path, "topic"), `"${topic}" may only contain a-z A-Z 0-9 . _ -`);
    r.topic = topic;
  }
  return r;
}

function parseToPorts(ctx: RuleContext, v: unknown, path: string, ingress: boolean, deny: boolean, hostPolicy: boolean): PortRuleSpec[] {
  const { c } = ctx;
  return c.arr(v, path).map((pr, i) => {
    const p = join(path, i);
    const allowed = deny ? ["ports"] : ["ports", "rules", "serverNames", "terminatingTLS", "originatingTLS", "listener"];
    const o = c.obj(pr, p, allowed);
    const l7 = o.rules === undefined || deny ? undefined : parseL7(ctx, o.rules, join(p, "rules"), ingress);
    if (l7 && hostPolicy && !(l7.kind === "dns" && !ingress)) c.err(join(p, "rules"), "L7 policy is not supported on host policies");
    if (o.listener !== undefined && !ingress && l7) c.err(join(p, "listener"), "listener cannot be combined with L7 rules");
    if (o.listener !== undefined && ingress) c.err(join(p, "listener"), "listener is only allowed on egress");
    const serverNames = c.arr(o.serverNames, join(p, "serverNames"));
    if (serverNames.length && l7 && o.terminatingTLS === undefined) c.err(join(p, "serverNames"), "ServerNames are not allowed with L7 rules without TLS termination");
    serverNames.forEach((s, j) => {
      if (!c.str(s, join(join(p, "serverNames"), j))) c.err(join(join(p, "serverNames"), j), "Empty server name is not allowed");
    });
    const rawPorts = c.arr(o.ports, join(p, "ports"));
    if (rawPorts.length > MAX_PORTS) c.err(join(p, "ports"), `too many ports, the max is ${MAX_PORTS}`);
    const isDns = l7?.kind === "dns";
    const ports: PortSel[] = [];
    rawPorts.forEach((pp, j) => {
      const q = join(join(p, "ports"), j);
      const x = c.obj(pp, q, ["port", "endPort", "protocol"]);
      const port = parsePortValue(ctx, x.port, join(q, "port"));
      const proto = parseProto(ctx, x.protocol, join(q, "protocol"));
      const endPort = c.num(x.endPort, join(q, "endPort"), { int: true, min: 0, max: 65535 });
      if (port === undefined) return;
      const sel: PortSel = { proto, port, path: q };
      if (endPort !== undefined && endPort > 0 && typeof port === "number") {
        if (isDns) c.err(join(q, "endPort"), "DNS rules do not support port ranges");
        // Cilium accepts an endPort below port and enforces the single port (PortRangeToMaskedPorts)
        if (endPort > port) sel.endPort = endPort;
      }
      if (l7) {
        if (port === 0) c.err(join(q, "port"), "L7 rules can not be used when a port is 0");
        if (!isDns && proto !== "TCP") c.err(join(q, "protocol"), `L7 rules can only apply to TCP (not ${proto}) except for DNS rules`);
      }
      ports.push(sel);
    });
    if (l7 && rawPorts.length === 0) c.err(join(p, "ports"), "L7 rules need explicit ports");
    const spec: PortRuleSpec = l7 ? { ports, l7, path: p } : { ports, path: p };
    const envoyOnly = ["serverNames", "terminatingTLS", "originatingTLS", "listener"].filter((k) => o[k] !== undefined);
    if (envoyOnly.length) spec.envoyOnly = envoyOnly;
    return spec;
  });
}

function parseIcmps(ctx: RuleContext, v: unknown, path: string): IcmpSel[] {
  const { c } = ctx;
  const out: IcmpSel[] = [];
  c.arr(v, path).forEach((r, i) => {
    const p = join(path, i);
    const o = c.obj(r, p, ["fields"]);
    const fields = c.arr(o.fields, join(p, "fields"));
    if (fields.length > MAX_ICMP_FIELDS) c.err(join(p, "fields"), `too many ICMP fields, the max is ${MAX_ICMP_FIELDS}`);
    fields.forEach((f, j) => {
      const q = join(join(p, "fields"), j);
      const x = c.obj(f, q, ["family", "type"], ["type"]);
      const family = x.family === undefined ? "IPv4" : c.oneOf(x.family, join(q, "family"), ["IPv4", "IPv6"] as const) ?? "IPv4";
      let type: number | undefined;
      if (typeof x.type === "number") type = c.num(x.type, join(q, "type"), { int: true, min: 0, max: 255 });
      else {
        const s = c.str(x.type, join(q, "type"));
        if (s !== undefined) {
          if (/^[0-9]+$/.test(s) && Number(s) <= 255) type = Number(s);
          else {
            type = (family === "IPv4" ? ICMPV4_TYPES : ICMPV6_TYPES)[s];
            if (type === undefined) c.err(join(q, "type"), `unknown ${family} ICMP type "${s}"`);
          }
        }
      }
      if (type !== undefined) out.push({ family, type, path: q });
    });
  });
  return out;
}

/** authentication.mode → Hubble's AuthType number ("required" means SPIRE, the only provider) */
const AUTH_MODES = { disabled: AUTH_NONE, required: AUTH_SPIRE, "test-always-fail": AUTH_TEST_ALWAYS_FAIL } as const;

function parsePeerRule(ctx: RuleContext, v: unknown, path: string, ingress: boolean, deny: boolean, hostPolicy: boolean, requires: Selector[]): PeerRule | undefined {
  const { c } = ctx;
  const l3 = ingress ? INGRESS_L3 : deny ? EGRESS_L3.filter((k) => k !== "toFQDNs") : EGRESS_L3;
  const reqKey = ingress ? "fromRequires" : "toRequires";
  const allowed = [...l3, reqKey, "toPorts", "icmps", ...(deny ? [] : ["authentication"])];
  if (!c.isObj(v)) {
    c.err(path, "must be an object");
    return undefined;
  }
  if (deny && !ingress && v.toFQDNs !== undefined) c.err(join(path, "toFQDNs"), "toFQDNs is not supported in egressDeny rules");
  const o = c.obj(v, path, deny && !ingress && v.toFQDNs !== undefined ? [...allowed, "toFQDNs"] : allowed);
  const used = l3.filter((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length > 0);
  if (used.length > 1) c.err(path, `Combining ${used[0]} and ${used[1]} is not supported yet`);
  if (o.icmps !== undefined && o.toPorts !== undefined) c.err(path, "The ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts.");
  // toServices with toPorts is refused before 1.17 (cilium#20067) and accepted from 1.17 on, the
  // version simulated: the ports apply to the backends, as every port rule does after translation.
  let auth: number | undefined;
  if (o.authentication !== undefined) {
    const a = c.obj(o.authentication, join(path, "authentication"), ["mode"], ["mode"]);
    const mode = c.oneOf(a.mode, join(path, "authentication.mode"), ["disabled", "required", "test-always-fail"] as const);
    if (mode !== undefined) auth = AUTH_MODES[mode];
  }
  c.arr(o[reqKey], join(path, reqKey)).forEach((s, i) => {
    const p = join(join(path, reqKey), i);
    requires.push(makeSelector(scopePeerSelector(parseLabelSelector(ctx, s, p), ctx.namespace)));
  });
  const peers = parsePeers(ctx, o, path, ingress, deny);
  const toPorts = o.toPorts === undefined ? null : parseToPorts(ctx, o.toPorts, join(path, "toPorts"), ingress, deny, hostPolicy);
  const icmps = o.icmps === undefined ? null : parseIcmps(ctx, o.icmps, join(path, "icmps"));
  // An empty list counts as "no member" for Cilium's len() checks (so `fromCIDR: []` + toPorts is not
  // "combining"), but an explicit empty endpoints/CIDR/CIDR-set/entities list selects no identity at all
  // (Cilium ≥ 1.15, SetAggregatedSelectors): the rule then allows (or denies) nothing. Lint says so.
  const emptyPeerList = (ingress ? SELECTS_NONE_WHEN_EMPTY_IN : SELECTS_NONE_WHEN_EMPTY_OUT).find((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length === 0);
  const noL3 = used.length === 0;
  const noL4 = (toPorts === null || toPorts.length === 0) && (icmps === null || icmps.length === 0);
  return {
    path,
    deny,
    peers: emptyPeerList !== undefined ? [] : noL3 ? "all" : peers,
    empty: emptyPeerList === undefined && noL3 && noL4,
    ...(emptyPeerList !== undefined ? { emptyPeerList } : {}),
    toPorts: toPorts && toPorts.length ? toPorts : null,
    icmps: icmps && icmps.length ? icmps : null,
    ...(auth !== undefined ? { auth } : {}),
  };
}

export function parseRule(ctx: RuleContext, v: unknown, path: string): Rule | undefined {
  const { c } = ctx;
  const before = c.issues.length;
  const o = c.obj(v, path, RULE_FIELDS);
  const hasEp = o.endpointSelector !== undefined && o.endpointSelector !== null;
  const hasNode = o.nodeSelector !== undefined && o.nodeSelector !== null;
  if (hasEp === hasNode) c.err(path, hasEp ? "endpointSelector and nodeSelector cannot both be set" : "one of endpointSelector or nodeSelector is required");
  if (hasNode && !ctx.clusterwide) c.err(join(path, "nodeSelector"), "nodeSelector is only allowed in CiliumClusterwideNetworkPolicy");
  const hostPolicy = hasNode && !hasEp;
  const subjRaw = parseLabelSelector(ctx, hasEp ? o.endpointSelector : o.nodeSelector, join(path, hasEp ? "endpointSelector" : "nodeSelector"));
  const subject = makeSelector(scopeSubjectSelector(subjRaw, ctx.namespace).reqs);

  const requires = { ingress: [] as Selector[], egress: [] as Selector[], ingressDeny: [] as Selector[], egressDeny: [] as Selector[] };
  const list = (key: "ingress" | "ingressDeny" | "egress" | "egressDeny", ingress: boolean, deny: boolean) =>
    c.arr(o[key], join(path, key)).flatMap((r, i) => parsePeerRule(ctx, r, join(join(path, key), i), ingress, deny, hostPolicy, requires[key]) ?? []);
  const ingressAllow = list("ingress", true, false);
  const ingressDeny = list("ingressDeny", true, true);
  const egressAllow = list("egress", false, false);
  const egressDeny = list("egressDeny", false, true);

  const edd = o.enableDefaultDeny === undefined ? {} : c.obj(o.enableDefaultDeny, join(path, "enableDefaultDeny"), ["ingress", "egress"]);
  const eIn = c.bool(edd.ingress, join(path, "enableDefaultDeny.ingress"));
  const eEg = c.bool(edd.egress, join(path, "enableDefaultDeny.egress"));
  const has = (k: string) => Array.isArray(o[k]) && (o[k] as unknown[]).length > 0;
  const defaultDeny = {
    ingress: eIn ?? (has("ingress") || has("ingressDeny")),
    egress: eEg ?? (has("egress") || has("egressDeny")),
  };
  if (o.labels !== undefined) {
    c.arr(o.labels, join(path, "labels")).forEach((l, i) => c.obj(l, join(join(path, "labels"), i), ["key", "value", "source"], ["key"]));
  }
  c.str(o.description, join(path, "description"));
  const logValue = o.log === undefined ? undefined : c.str(c.obj(o.log, join(path, "log"), ["value"]).value, join(path, "log.value"));
  if (c.issues.length > before) return undefined;
  const hasL7 = (rules: PeerRule[]) => rules.some((r) => r.toPorts?.some((p) => p.l7));
  return {
    policy: ctx.policy,
    path,
    subject,
    hostPolicy,
    ingress: [...ingressDeny, ...ingressAllow],
    egress: [...egressDeny, ...egressAllow],
    defaultDeny,
    requires,
    l7Visibility: { ingress: eIn === false && hasL7(ingressAllow), egress: eEg === false && hasL7(egressAllow) },
    ...(logValue ? { log: logValue } : {}),
  };
}
