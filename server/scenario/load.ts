// Reads a scenario file: YAML → strict validation with file:line:path messages → defaults.
import { readTextFile } from "./read-text";
import { dirname, resolve } from "node:path";
import { Checker, join } from "./check";
import { checkRequest } from "./request";
import { lineOf, parseAllYamlWithPositions, parseYamlWithPositions } from "./yaml-positions";
import { cidrContainsIp, formatIPv4, parseCidr, parseIPv4 } from "../cluster/ip";
import { parseLabelPattern } from "../cluster/label-filter";
import { clusterPodCidr, generatesKubernetesService, KUBERNETES_SERVICE_IP, PodCidrFullError, placePods, type PodPlacement } from "../cluster/model";
import { safeHash } from "../cluster/hash";
import { ciliumClusterNameProblem, dnsLabelProblem, dnsNameProblem, dnsSubdomainProblem, labelKeyProblem, labelValueProblem } from "./names";
import {
  ScenarioError,
  type ScenarioWarning,
  type AppProtocol,
  type PortProtocol,
  type Scenario,
  type ServiceSpec,
  type TrafficRequest,
  type WorkloadPort,
  type WorkloadSpec,
} from "./types";

const TOP = ["apiVersion", "kind", "metadata", "cluster", "nodes", "namespaces", "workloads", "external", "dns", "services", "policies", "settings", "traffic"];
const APPS: readonly AppProtocol[] = ["http", "grpc", "kafka", "dns", "tcp", "udp"];
const PORT_PROTOS: readonly PortProtocol[] = ["TCP", "UDP", "SCTP"];

function formatIssues(file: string, c: Checker, lines: Map<string, number>): string[] {
  return c.issues.map((i) => {
    const line = lineOf(lines, i.path);
    return `${file}${line ? `:${line}` : ""}: ${i.path || "(document)"}: ${i.message}`;
  });
}

export function loadScenarioFile(file: string): Scenario {
  const abs = resolve(file);
  let text: string;
  try {
    text = readTextFile(abs);
  } catch (e) {
    throw new ScenarioError(abs, [`${abs}: cannot read scenario file: ${(e as Error).message}`]);
  }
  return parseScenario(text, abs);
}

export function parseScenario(text: string, file: string): Scenario {
  const doc = parseYamlWithPositions(text);
  if (doc.syntaxErrors.length) throw new ScenarioError(file, doc.syntaxErrors.map((e) => `${file}: ${e}`));
  const c = new Checker();
  // another field's position, for messages that name two places ("also the IP of …, line 7")
  const where = (path: string) => {
    const line = doc.lines.get(path);
    return line ? `${path}, line ${line}` : path;
  };
  const s = buildScenario(c, doc.value, file, where);
  if (!c.ok) throw new ScenarioError(file, formatIssues(file, c, doc.lines));
  if (c.warnings.length) {
    s.warnings = c.warnings.map((w): ScenarioWarning => {
      const line = lineOf(doc.lines, w.path);
      return line === undefined ? { file, path: w.path, message: w.message } : { file, line, path: w.path, message: w.message };
    });
  }
  return s;
}

function checkName(c: Checker, v: unknown, path: string): string {
  const s = c.str(v, path, { required: true }) ?? "";
  const bad = s ? dnsLabelProblem(s, "Kubernetes name") : undefined;
  if (bad) c.err(path, bad);
  return s;
}

/** Kubernetes label rules (ValidateLabels): keys [prefix/]name, values ≤ 63 characters */
function checkLabels(c: Checker, v: unknown, path: string): Record<string, string> {
  const labels = c.strMap(v, path);
  for (const [k, val] of Object.entries(labels)) {
    const bad = labelKeyProblem(k) ?? labelValueProblem(val);
    if (bad) c.err(join(path, k), bad);
  }
  return labels;
}

/** Cilium's `labels` option: one space-separated string, as in the ConfigMap, or a list of patterns. */
function checkLabelPatterns(c: Checker, v: unknown): string[] {
  if (v === undefined) return [];
  const path = "settings.labels";
  const items = typeof v === "string" ? v.split(/\s+/).filter(Boolean).map((s) => ({ s, path })) : c.arr(v, path).map((x, i) => ({ s: c.str(x, `${path}[${i}]`, { required: true }) ?? "", path: `${path}[${i}]` }));
  const out: string[] = [];
  for (const { s, path: at } of items) {
    if (s === "") continue;
    try {
      parseLabelPattern(s);
      out.push(s);
    } catch (err) {
      c.err(at, (err as Error).message);
    }
  }
  return out;
}

function checkIp(c: Checker, v: unknown, path: string): string {
  const s = c.str(v, path, { required: true }) ?? "";
  if (s && parseIPv4(s) === undefined) c.err(path, `"${s}" is not an IPv4 address`);
  return s;
}

function buildScenario(c: Checker, raw: unknown, file: string, where: (path: string) => string): Scenario {
  const o = c.obj(raw, "", TOP, ["apiVersion", "kind"]);
  if (o.apiVersion !== undefined && o.apiVersion !== "flowscope/v1") c.err("apiVersion", `must be "flowscope/v1", got ${JSON.stringify(o.apiVersion)}`);
  if (o.kind !== undefined && o.kind !== "Scenario") c.err("kind", `must be "Scenario", got ${JSON.stringify(o.kind)}`);
  const meta = c.obj(o.metadata ?? {}, "metadata", ["name", "description"]);
  const dir = dirname(file);

  const cl = c.obj(o.cluster ?? {}, "cluster", ["name", "podCIDR", "apiServer"]);
  const cluster: Scenario["cluster"] = { name: c.str(cl.name, "cluster.name") ?? "default", podCIDR: c.str(cl.podCIDR, "cluster.podCIDR") ?? "10.0.0.0/16" };
  if (typeof cl.name === "string") {
    const bad = ciliumClusterNameProblem(cluster.name);
    if (bad) c.err("cluster.name", bad);
  }
  const pc = parseCidr(cluster.podCIDR);
  if ("error" in pc) c.err("cluster.podCIDR", pc.error);
  else if (pc.v6 !== undefined) c.err("cluster.podCIDR", `${pc.text}: the simulated cluster is IPv4; give an IPv4 pod CIDR`);
  else if (pc.len > 24) c.err("cluster.podCIDR", `prefix /${pc.len} is too small; use /24 or larger`);
  if (cl.apiServer !== undefined) {
    const a = c.obj(cl.apiServer, "cluster.apiServer", ["ips", "port"], ["ips"]);
    cluster.apiServer = {
      ips: c.arr(a.ips, "cluster.apiServer.ips").map((ip, i) => checkIp(c, ip, `cluster.apiServer.ips[${i}]`)),
      port: c.num(a.port, "cluster.apiServer.port", { int: true, min: 1, max: 65535 }) ?? 6443,
    };
    if (Array.isArray(a.ips) && a.ips.length === 0) c.err("cluster.apiServer.ips", "must list at least one address (leave apiServer out for none)");
    dupes(c, cluster.apiServer.ips, "cluster.apiServer.ips", "address");
  }

  let nodes = c.arr(o.nodes, "nodes").map((n, i) => {
    const p = `nodes[${i}]`;
    const x = c.obj(n, p, ["name", "ip", "labels"], ["name", "ip"]);
    return { name: checkName(c, x.name, `${p}.name`), ip: checkIp(c, x.ip, `${p}.ip`), labels: checkLabels(c, x.labels, `${p}.labels`) };
  });
  if (nodes.length === 0) nodes = [{ name: "node-1", ip: "192.168.1.10", labels: {} }];
  dupes(c, nodes.map((n) => n.name), "nodes", "name");
  dupes(c, nodes.map((n) => n.ip), "nodes", "ip");

  const namespaces = c.arr(o.namespaces, "namespaces").map((n, i) => {
    const p = `namespaces[${i}]`;
    const x = c.obj(n, p, ["name", "labels"], ["name"]);
    return { name: checkName(c, x.name, `${p}.name`), labels: checkLabels(c, x.labels, `${p}.labels`) };
  });
  dupes(c, namespaces.map((n) => n.name), "namespaces", "name");

  const nodeNames = new Set(nodes.map((n) => n.name));
  const workloads: WorkloadSpec[] = c.arr(o.workloads, "workloads").map((w, i) => {
    const p = `workloads[${i}]`;
    const x = c.obj(w, p, ["name", "namespace", "labels", "serviceAccount", "replicas", "node", "hostNetwork", "ips", "ports"], ["name", "namespace"]);
    const wl: WorkloadSpec = {
      name: checkName(c, x.name, `${p}.name`),
      namespace: checkName(c, x.namespace, `${p}.namespace`),
      labels: checkLabels(c, x.labels, `${p}.labels`),
      serviceAccount: checkServiceAccount(c, x.serviceAccount, `${p}.serviceAccount`),
      replicas: c.num(x.replicas, `${p}.replicas`, { int: true, min: 1, max: 1000 }) ?? 1,
      hostNetwork: c.bool(x.hostNetwork, `${p}.hostNetwork`) ?? false,
      ports: c.arr(x.ports, `${p}.ports`).map((pp, j) => checkPort(c, pp, `${p}.ports[${j}]`)),
    };
    const node = c.str(x.node, `${p}.node`);
    if (node !== undefined) {
      if (!nodeNames.has(node)) c.err(`${p}.node`, `unknown node "${node}" (nodes: ${[...nodeNames].join(", ")})`);
      wl.node = node;
    }
    if (x.ips !== undefined) {
      wl.ips = c.arr(x.ips, `${p}.ips`).map((ip, j) => checkIp(c, ip, `${p}.ips[${j}]`));
      if (wl.ips.length !== wl.replicas) c.err(`${p}.ips`, `has ${wl.ips.length} addresses for ${wl.replicas} replica(s); give one per replica`);
      if (wl.hostNetwork) c.err(`${p}.ips`, "hostNetwork pods take their node's IP; remove ips");
    }
    dupes(c, wl.ports.filter((q) => q.name).map((q) => q.name as string), `${p}.ports`, "name");
    return wl;
  });
  dupes(c, workloads.map((w) => `${w.namespace}/${w.name}`), "workloads", "namespace/name");
  const fileWorkloads = workloads.length;

  // Cilium needs a DNS server for toFQDNs; a scenario without one still gets kube-dns.
  if (!workloads.some((w) => w.namespace === "kube-system" && w.labels["k8s-app"] === "kube-dns")) {
    workloads.push({
      name: "coredns",
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
      serviceAccount: "coredns",
      replicas: 1,
      hostNetwork: false,
      ports: [
        { name: "dns", port: 53, protocol: "UDP", app: "dns" },
        { name: "dns-tcp", port: 53, protocol: "TCP", app: "dns" },
      ],
    });
  }
  const nsNames = new Set(namespaces.map((n) => n.name));
  for (const w of workloads) {
    if (!nsNames.has(w.namespace)) {
      namespaces.push({ name: w.namespace, labels: {} });
      nsNames.add(w.namespace);
    }
  }

  const external = c.arr(o.external, "external").map((e, i) => {
    const p = `external[${i}]`;
    const x = c.obj(e, p, ["name", "ips"], ["ips"]);
    const name = c.str(x.name, `${p}.name`);
    const ips = c.arr(x.ips, `${p}.ips`).map((ip, j) => checkIp(c, ip, `${p}.ips[${j}]`));
    if (Array.isArray(x.ips) && x.ips.length === 0) c.err(`${p}.ips`, "must list at least one address");
    return name === undefined ? { ips } : { name, ips };
  });

  const dns = c.arr(o.dns, "dns").map((d, i) => {
    const p = `dns[${i}]`;
    const x = c.obj(d, p, ["name", "ips", "ttl"], ["name", "ips"]);
    const name = (c.str(x.name, `${p}.name`) ?? "").replace(/\.$/, "").toLowerCase();
    if (name && !/^[a-z0-9_]([-a-z0-9_]*)(\.[a-z0-9_][-a-z0-9_]*)*$/.test(name)) c.err(`${p}.name`, `"${name}" is not a DNS name`);
    else if (name) {
      const bad = dnsNameProblem(name);
      if (bad) c.err(`${p}.name`, bad);
    }
    if (Array.isArray(x.ips) && x.ips.length === 0) c.err(`${p}.ips`, "must list at least one address");
    return {
      name,
      ips: c.arr(x.ips, `${p}.ips`).map((ip, j) => checkIp(c, ip, `${p}.ips[${j}]`)),
      ttl: c.num(x.ttl, `${p}.ttl`, { int: true, min: 0 }) ?? 300,
    };
  });
  // kube-dns would answer only one of them
  dupes(c, dns.map((d) => d.name), "dns", "name");

  const wlKeys = new Set(workloads.map((w) => `${w.namespace}/${w.name}`));
  const services: ServiceSpec[] = c.arr(o.services, "services").map((s, i) => {
    const p = `services[${i}]`;
    const x = c.obj(s, p, ["name", "namespace", "labels", "selector", "ports", "clusterIP"], ["name", "namespace", "ports"]);
    const svc: ServiceSpec = {
      name: checkName(c, x.name, `${p}.name`),
      namespace: checkName(c, x.namespace, `${p}.namespace`),
      ...(x.labels !== undefined ? { labels: checkLabels(c, x.labels, `${p}.labels`) } : {}),
      selector: checkLabels(c, x.selector, `${p}.selector`),
      ports: c.arr(x.ports, `${p}.ports`).map((pp, j) => {
        const q = `${p}.ports[${j}]`;
        const y = c.obj(pp, q, ["name", "port", "targetPort", "protocol"], ["port"]);
        const port = c.num(y.port, `${q}.port`, { int: true, min: 1, max: 65535 }) ?? 0;
        let targetPort: number | string = port;
        if (typeof y.targetPort === "string") {
          targetPort = y.targetPort;
          if (!isIanaSvcName(targetPort)) c.err(`${q}.targetPort`, `"${targetPort}" is neither a port number nor a valid port name (≤15 lower-case letters, digits, "-", with a letter)`);
        } else if (y.targetPort !== undefined) targetPort = c.num(y.targetPort, `${q}.targetPort`, { int: true, min: 1, max: 65535 }) ?? port;
        const sp = { port, targetPort, protocol: y.protocol === undefined ? ("TCP" as const) : (c.oneOf(y.protocol, `${q}.protocol`, PORT_PROTOS, { ignoreCase: true }) ?? "TCP") };
        const name = c.str(y.name, `${q}.name`);
        if (name !== undefined) {
          const bad = dnsLabelProblem(name, "service port name");
          if (bad) c.err(`${q}.name`, bad);
        }
        return name === undefined ? sp : { name, ...sp };
      }),
    };
    // what the API server refuses in a ClusterIP Service (ValidateService)
    if (Array.isArray(x.ports) && x.ports.length === 0) c.err(`${p}.ports`, "must list at least one port (a ClusterIP service needs one)");
    if (svc.ports.length > 1) svc.ports.forEach((sp, j) => {
      if (sp.name === undefined) c.err(`${p}.ports[${j}].name`, "is required when a service has more than one port");
    });
    dupes(c, svc.ports.filter((sp) => sp.name !== undefined).map((sp) => sp.name as string), `${p}.ports`, "name");
    dupes(c, svc.ports.map((sp) => `${sp.port}/${sp.protocol}`), `${p}.ports`, "port");
    if (x.clusterIP !== undefined) svc.clusterIP = checkIp(c, x.clusterIP, `${p}.clusterIP`);
    if (Object.keys(svc.selector).length === 0) c.err(`${p}.selector`, "is required (services without selector are not modelled)");
    return svc;
  });
  const fileServices = services.length;
  dupes(c, services.map((s) => `${s.namespace}/${s.name}`), "services", "namespace/name");
  if (!services.some((s) => s.namespace === "kube-system" && s.name === "kube-dns")) {
    services.push({
      name: "kube-dns",
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
      selector: { "k8s-app": "kube-dns" },
      ports: [
        { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
      ],
      clusterIP: "10.96.0.10",
    });
  }

  const policies = c.arr(o.policies, "policies").map((v, i) => resolve(dir, c.str(v, `policies[${i}]`) ?? "."));

  const st = c.obj(o.settings ?? {}, "settings", ["policyAuditMode", "policyAuditNamespaces", "policyEnforcementMode", "allowLocalhost", "fqdnMinTTL", "labels"]);
  const settings: Scenario["settings"] = {
    policyAuditMode: c.bool(st.policyAuditMode, "settings.policyAuditMode") ?? false,
    policyAuditNamespaces: c.arr(st.policyAuditNamespaces, "settings.policyAuditNamespaces").map((v, i) => {
      const at = `settings.policyAuditNamespaces[${i}]`;
      const ns = c.str(v, at, { required: true }) ?? "";
      const bad = typeof v === "string" ? dnsLabelProblem(ns, "namespace name") : undefined;
      if (bad) c.err(at, bad === "must not be empty" ? "must not be empty (a namespace name)" : bad);
      else if (typeof v === "string" && !nsNames.has(ns)) c.warn(at, `no namespace "${ns}" in this scenario (namespaces: ${[...nsNames].join(", ")}): audit mode applies to no pod`);
      return ns;
    }),
    policyEnforcementMode: st.policyEnforcementMode === undefined ? "default" : c.oneOf(st.policyEnforcementMode, "settings.policyEnforcementMode", ["default", "always", "never"] as const) ?? "default",
    allowLocalhost: st.allowLocalhost === undefined ? "always" : c.oneOf(st.allowLocalhost, "settings.allowLocalhost", ["always", "policy", "auto"] as const) === "policy" ? "policy" : "always",
    fqdnMinTTL: c.num(st.fqdnMinTTL, "settings.fqdnMinTTL", { int: true, min: 0 }) ?? 0,
    labels: checkLabelPatterns(c, st.labels),
  };

  // the cluster model adds default/kubernetes in front of the API server (server/cluster/model.ts)
  const known = services.map((s) => `${s.namespace}/${s.name}`);
  if (generatesKubernetesService({ cluster, services })) known.push("default/kubernetes");
  const traffic = c.arr(o.traffic, "traffic").map((t, i) => {
    const req = checkRequest(c, t, `traffic[${i}]`, true);
    checkRefs(c, req, `traffic[${i}]`, wlKeys, known);
    return req;
  });
  if (c.ok) traffic.forEach((req, i) => checkServicePort(c, req, `traffic[${i}]`, wlKeys, services, cluster));

  const name = c.str(meta.name, "metadata.name") ?? "scenario";
  const description = c.str(meta.description, "metadata.description");
  const scenario: Scenario = {
    file,
    dir,
    name,
    metadata: description === undefined ? { name } : { name, description },
    cluster,
    nodes,
    namespaces,
    workloads,
    external,
    dns,
    services,
    policies,
    settings,
    traffic,
  };
  // addresses and backends once every field is valid on its own
  if (c.ok) {
    checkAddresses(c, scenario, fileWorkloads, fileServices, where);
    checkBackends(c, scenario, fileServices);
  }
  return scenario;
}

function checkServiceAccount(c: Checker, v: unknown, path: string): string {
  const s = c.str(v, path);
  if (s === undefined) return "default";
  const bad = dnsSubdomainProblem(s, "service account name");
  if (bad) c.err(path, bad);
  return s;
}

/** IANA_SVC_NAME: what Kubernetes allows as a port name in a container port or a service targetPort */
function isIanaSvcName(name: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,13})[a-z0-9]$|^[a-z0-9]$/.test(name) && /[a-z]/.test(name) && !name.includes("--");
}

const describePort = (p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`;

/** a traffic entry through a service must use one of its ports, or every request fails at run time */
function checkServicePort(c: Checker, req: TrafficRequest, path: string, wl: Set<string>, services: ServiceSpec[], cluster: Scenario["cluster"]): void {
  let key: string | undefined;
  if (req.to && !wl.has(req.to)) key = req.to;
  else if (req.toService) key = req.toService;
  else if (req.dns && !req.to && !req.toFQDN && !req.toIP) key = "kube-system/kube-dns";
  if (!key) return;
  let ports: { port: number; protocol: string }[] | undefined = services.find((s) => `${s.namespace}/${s.name}` === key)?.ports;
  if (!ports && key === "default/kubernetes" && cluster.apiServer) ports = [{ port: 443, protocol: "TCP" }];
  if (!ports) return;
  const proto = req.protocol ?? (req.dns ? "UDP" : "TCP");
  if (proto === "ICMP") {
    c.err(join(path, "protocol"), `service ${key} does not forward ICMP`);
    return;
  }
  const port = req.port ?? (req.dns ? 53 : 0);
  if (!ports.some((p) => p.port === port && p.protocol === proto))
    c.err(req.port === undefined ? path : join(path, "port"), `service ${key} has no port ${port}/${proto} (its ports: ${ports.map(describePort).join(", ") || "none"})`);
}

/** how an address's owner is named in a message, and where it is in the file */
interface Owner {
  what: string;
  path: string;
  /** added by Flowscope (coredns, kube-dns, default/kubernetes): not in the file */
  added?: boolean;
}

/**
 * Every address has one owner: no two pods, no pod and a node or the API server, no ClusterIP and
 * anything else. Fixed pod IPs come from the pod CIDR (Cilium's cluster-pool IPAM hands out no other),
 * and the pod CIDR must hold every replica.
 */
function checkAddresses(c: Checker, s: Scenario, fileWorkloads: number, fileServices: number, where: (path: string) => string): void {
  const podCidr = clusterPodCidr(s);
  let placed: PodPlacement[][];
  try {
    placed = placePods(s, podCidr);
  } catch (e) {
    if (!(e instanceof PodCidrFullError)) throw e;
    c.err(e.workload < fileWorkloads ? `workloads[${e.workload}].replicas` : "cluster.podCIDR", e.message);
    return;
  }
  const owners = new Map<number, Owner>();
  const claim = (ipNum: number, owner: Owner): void => {
    const prev = owners.get(ipNum);
    if (!prev) {
      owners.set(ipNum, owner);
      return;
    }
    // reported where it can be fixed: at the later owner, unless Flowscope added that one
    const [at, other] = owner.added && !prev.added ? [prev, owner] : [owner, prev];
    c.err(at.path, `${formatIPv4(ipNum)} of ${at.what} is also the address of ${other.what} (${other.added ? "added by default" : where(other.path)}); an address has one owner`);
  };
  s.nodes.forEach((n, i) => {
    const ip = parseIPv4(n.ip)!;
    if (!owners.has(ip)) owners.set(ip, { what: `node ${n.name}`, path: `nodes[${i}].ip` });
  });
  // the API server may run on nodes: then it shares their addresses
  s.cluster.apiServer?.ips.forEach((a, i) => {
    const ip = parseIPv4(a)!;
    if (!owners.get(ip)?.what.startsWith("node ")) claim(ip, { what: "the API server", path: `cluster.apiServer.ips[${i}]` });
  });
  s.workloads.forEach((w, wi) => {
    if (w.hostNetwork) return;
    const hash = safeHash(`${w.namespace}/${w.name}/${JSON.stringify(w.labels)}`, 10);
    const added = wi >= fileWorkloads;
    placed[wi]!.forEach(({ ipNum }, i) => {
      const path = w.ips ? `workloads[${wi}].ips[${i}]` : `workloads[${wi}]`;
      claim(ipNum, { what: `pod ${w.namespace}/${w.name}-${hash}-${i}`, path, added });
      if (w.ips && !cidrContainsIp(podCidr, ipNum)) c.err(path, `${w.ips[i]} is outside the pod CIDR ${podCidr.text} (cluster.podCIDR): pod addresses come from it`);
    });
  });
  s.services.forEach((svc, i) => {
    if (svc.clusterIP) claim(parseIPv4(svc.clusterIP)!, { what: `service ${svc.namespace}/${svc.name}`, path: `services[${i}].clusterIP`, added: i >= fileServices });
  });
  if (generatesKubernetesService(s)) claim(parseIPv4(KUBERNETES_SERVICE_IP)!, { what: "service default/kubernetes", path: "cluster.apiServer", added: true });
}

/**
 * What Kubernetes accepts but leaves a service nothing to forward to: a selector no pod matches, a
 * named targetPort a selected pod does not declare. Requests through it fail at run time: warnings.
 */
function checkBackends(c: Checker, s: Scenario, fileServices: number): void {
  s.services.slice(0, fileServices).forEach((svc, i) => {
    const p = `services[${i}]`;
    const selected = s.workloads.filter((w) => w.namespace === svc.namespace && Object.entries(svc.selector).every(([k, v]) => w.labels[k] === v));
    const backends = selected.filter((w) => !w.hostNetwork);
    const sel = Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(",");
    if (backends.length === 0) {
      c.warn(`${p}.selector`, `service ${svc.namespace}/${svc.name} selects no pod (${sel} in namespace ${svc.namespace})${selected.length ? "; hostNetwork pods are no backends here" : ""}: requests to it fail with "has no backends"`);
      return;
    }
    svc.ports.forEach((sp, j) => {
      if (typeof sp.targetPort !== "string") return;
      const missing = backends.filter((w) => !w.ports.some((wp) => wp.name === sp.targetPort));
      if (missing.length)
        c.warn(`${p}.ports[${j}].targetPort`, `port name "${sp.targetPort}" is not declared by ${missing.map((w) => `${w.namespace}/${w.name}`).join(", ")} (selected by ${sel}): requests through port ${describePort(sp)} to ${missing.length === 1 ? "its pods" : "their pods"} fail`);
    });
  });
}

function checkPort(c: Checker, v: unknown, p: string): WorkloadPort {
  const x = c.obj(v, p, ["name", "port", "protocol", "app"], ["port"]);
  const port: WorkloadPort = {
    port: c.num(x.port, `${p}.port`, { int: true, min: 1, max: 65535 }) ?? 0,
    protocol: x.protocol === undefined ? "TCP" : c.oneOf(x.protocol, `${p}.protocol`, PORT_PROTOS, { ignoreCase: true }) ?? "TCP",
  };
  const name = c.str(x.name, `${p}.name`);
  if (name !== undefined) {
    // IANA_SVC_NAME: what Kubernetes allows for container port names (and Cilium for named ports)
    if (!/^[a-z0-9]([a-z0-9-]{0,13})$/.test(name) || !/[a-z]/.test(name) || name.endsWith("-") || name.includes("--"))
      c.err(`${p}.name`, `"${name}" is not a valid port name (≤15 lower-case letters, digits, "-", with a letter)`);
    port.name = name;
  }
  const app = x.app === undefined ? undefined : c.oneOf(x.app, `${p}.app`, APPS, { ignoreCase: true });
  if (app) port.app = app;
  return port;
}

function checkRefs(c: Checker, req: TrafficRequest, path: string, wl: Set<string>, services: string[]): void {
  const svc = new Set(services);
  if (typeof req.from === "string" && req.from && !wl.has(req.from)) c.err(`${path}.from`, `unknown workload "${req.from}"`);
  if (req.to && !wl.has(req.to) && !svc.has(req.to)) c.err(`${path}.to`, `unknown workload or service "${req.to}"`);
  if (req.toService && !svc.has(req.toService)) c.err(`${path}.toService`, `unknown service "${req.toService}"`);
}

function dupes(c: Checker, values: string[], path: string, what: string): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) c.err(`${path}[${i}]`, `duplicate ${what} "${v}"`);
    seen.add(v);
  });
}

/** `trace --requests FILE`: a YAML or JSON list of requests (a single mapping is accepted too). */
export function parseRequestsFile(text: string, file: string): TrafficRequest[] {
  const docs = parseAllYamlWithPositions(text);
  const doc = docs[0];
  if (!doc) return [];
  if (doc.syntaxErrors.length) throw new ScenarioError(file, doc.syntaxErrors.map((e) => `${file}: ${e}`), "requests file");
  const c = new Checker();
  const list = Array.isArray(doc.value) ? doc.value : [doc.value];
  const reqs = list.map((v, i) => checkRequest(c, v, Array.isArray(doc.value) ? `[${i}]` : "", false) as TrafficRequest);
  if (!c.ok) throw new ScenarioError(file, formatIssues(file, c, doc.lines), "requests file");
  return reqs;
}
