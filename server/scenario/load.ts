// Reads a scenario file: YAML → strict validation with file:line:path messages → defaults.
import { readTextFile } from "./read-text";
import { dirname, resolve } from "node:path";
import { Checker, join } from "./check";
import { checkRequest } from "./request";
import { lineOf, parseAllYamlWithPositions, parseYamlWithPositions } from "./yaml-positions";
import { parseCidr, parseIPv4 } from "../cluster/ip";
import { parseLabelPattern } from "../cluster/label-filter";
import { generatesKubernetesService } from "../cluster/model";
import {
  ScenarioError,
  type AppProtocol,
  type PortProtocol,
  type Scenario,
  type ServiceSpec,
  type TrafficRequest,
  type WorkloadPort,
  type WorkloadSpec,
} from "./types";

const TOP = ["apiVersion", "kind", "metadata", "cluster", "nodes", "namespaces", "workloads", "external", "dns", "services", "policies", "settings", "traffic"];
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
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
  const s = buildScenario(c, doc.value, file);
  if (!c.ok) throw new ScenarioError(file, formatIssues(file, c, doc.lines));
  return s;
}

function checkName(c: Checker, v: unknown, path: string): string {
  const s = c.str(v, path, { required: true }) ?? "";
  if (s && (!DNS_NAME.test(s) || s.length > 63)) c.err(path, `"${s}" is not a valid Kubernetes name (lower-case letters, digits, "-")`);
  return s;
}

function checkLabels(c: Checker, v: unknown, path: string): Record<string, string> {
  const labels = c.strMap(v, path);
  for (const [k, val] of Object.entries(labels)) {
    if (!/^([a-zA-Z0-9.-]+\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/.test(k)) c.err(join(path, k), `"${k}" is not a valid label key`);
    if (val !== "" && !/^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/.test(val)) c.err(join(path, k), `"${val}" is not a valid label value`);
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

function buildScenario(c: Checker, raw: unknown, file: string): Scenario {
  const o = c.obj(raw, "", TOP, ["apiVersion", "kind"]);
  if (o.apiVersion !== undefined && o.apiVersion !== "flowscope/v1") c.err("apiVersion", `must be "flowscope/v1", got ${JSON.stringify(o.apiVersion)}`);
  if (o.kind !== undefined && o.kind !== "Scenario") c.err("kind", `must be "Scenario", got ${JSON.stringify(o.kind)}`);
  const meta = c.obj(o.metadata ?? {}, "metadata", ["name", "description"]);
  const dir = dirname(file);

  const cl = c.obj(o.cluster ?? {}, "cluster", ["name", "podCIDR", "apiServer"]);
  const cluster: Scenario["cluster"] = { name: c.str(cl.name, "cluster.name") ?? "default", podCIDR: c.str(cl.podCIDR, "cluster.podCIDR") ?? "10.0.0.0/16" };
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
      serviceAccount: c.str(x.serviceAccount, `${p}.serviceAccount`) ?? "default",
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
    return name === undefined ? { ips } : { name, ips };
  });

  const dns = c.arr(o.dns, "dns").map((d, i) => {
    const p = `dns[${i}]`;
    const x = c.obj(d, p, ["name", "ips", "ttl"], ["name", "ips"]);
    const name = (c.str(x.name, `${p}.name`) ?? "").replace(/\.$/, "").toLowerCase();
    if (name && !/^[a-z0-9_]([-a-z0-9_]*)(\.[a-z0-9_][-a-z0-9_]*)*$/.test(name)) c.err(`${p}.name`, `"${name}" is not a DNS name`);
    return {
      name,
      ips: c.arr(x.ips, `${p}.ips`).map((ip, j) => checkIp(c, ip, `${p}.ips[${j}]`)),
      ttl: c.num(x.ttl, `${p}.ttl`, { int: true, min: 0 }) ?? 300,
    };
  });

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
        if (typeof y.targetPort === "string") targetPort = y.targetPort;
        else if (y.targetPort !== undefined) targetPort = c.num(y.targetPort, `${q}.targetPort`, { int: true, min: 1, max: 65535 }) ?? port;
        const sp = { port, targetPort, protocol: y.protocol === undefined ? ("TCP" as const) : (c.oneOf(y.protocol, `${q}.protocol`, PORT_PROTOS, { ignoreCase: true }) ?? "TCP") };
        const name = c.str(y.name, `${q}.name`);
        return name === undefined ? sp : { name, ...sp };
      }),
    };
    if (x.clusterIP !== undefined) svc.clusterIP = checkIp(c, x.clusterIP, `${p}.clusterIP`);
    if (Object.keys(svc.selector).length === 0) c.err(`${p}.selector`, "is required (services without selector are not modelled)");
    return svc;
  });
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
    policyAuditNamespaces: c.arr(st.policyAuditNamespaces, "settings.policyAuditNamespaces").map((v, i) => c.str(v, `settings.policyAuditNamespaces[${i}]`) ?? ""),
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

  const name = c.str(meta.name, "metadata.name") ?? "scenario";
  const description = c.str(meta.description, "metadata.description");
  return {
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
