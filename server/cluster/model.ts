// The simulated cluster built from a scenario: nodes, pods (endpoints) with IPs and identities,
// services with ClusterIPs and backends. Everything is derived deterministically from the scenario.
import { formatIPv4, parseCidr, parseIPv4, type Cidr } from "./ip";
import { fnv1a, safeHash } from "./hash";
import { IdentityRegistry, type Identity } from "./identities";
import { formatLabel, indexLabels, podLabelSet, type LabelIndex } from "./labels";
import { filterIdentityLabels, labelFilter } from "./label-filter";
import { ScenarioError, type Scenario, type ServicePort, type WorkloadPort, type WorkloadSpec } from "../scenario/types";

/** Cilium's endpoint ID range is 1..4095 */
const MAX_ENDPOINT_ID = 4095;

export interface Node {
  name: string;
  ip: string;
  ipNum: number;
  /** the kube-apiserver listens on this node's IP */
  runsApiServer: boolean;
  /** Kubernetes node labels (what host policies' nodeSelector matches) */
  labels: Record<string, string>;
}

export interface Pod {
  /** Cilium endpoint ID (absent for hostNetwork pods, which are not endpoints) */
  endpointId: number;
  name: string;
  namespace: string;
  workload: string;
  node: string;
  ip: string;
  ipNum: number;
  hostNetwork: boolean;
  podLabels: Record<string, string>;
  serviceAccount: string;
  identity: Identity;
  ports: WorkloadPort[];
  /** set on the host endpoint of a node (see HostEndpoint) */
  hostEndpoint?: HostEndpoint;
  /** a pod endpoint's veth pair: what Hubble shows as `ethernet` and `interface` (absent for the host's) */
  link?: EndpointLink;
}

/**
 * The two ends of an endpoint's veth pair: `mac` is the pod's eth0, `lxcMac` and `ifName`/`ifIndex`
 * the host side (lxc…), which Cilium answers ARP with, so packets leave the pod addressed to it.
 */
export interface EndpointLink {
  mac: string;
  lxcMac: string;
  ifIndex: number;
  ifName: string;
}

/** A locally administered unicast MAC derived from `seed` (Cilium's are random; these must repeat across runs). */
function macOf(seed: string): string {
  const a = fnv1a(seed);
  const b = fnv1a(seed, 0x9747b28c);
  const bytes = [((a >>> 24) & 0xfc) | 0x02, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff, (b >>> 8) & 0xff, b & 0xff];
  return bytes.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Interface indexes of cilium_host and the tunnel device on every simulated node (after lo, eth0, cilium_net). */
export const HOST_IFINDEX = 4;
export const TUNNEL_IFINDEX = 5;
/** Pods' host-side interfaces are numbered from here on each node, in endpoint ID order. */
const FIRST_LXC_IFINDEX = 11;

/**
 * A node's host endpoint, as Cilium's host firewall models it: one endpoint per node that stands for
 * the host network namespace (the node's IPs and its hostNetwork pods). Its security identity is
 * reserved:host (1), like every host's, but host policies select it by its own labels: reserved:host
 * plus the node's labels (source k8s). Endpoint selectors never select it (policy-semantics §1.2).
 */
export interface HostEndpoint extends Pod {
  /** "reserved:host", "k8s:<node label>", … sorted */
  labels: string[];
  labelIndex: LabelIndex;
}

export interface ClusterService {
  name: string;
  namespace: string;
  clusterIP: string;
  ipNum: number;
  ports: ServicePort[];
  selector: Record<string, string>;
  /** the Service's own labels (k8s: source), for k8sServiceSelector */
  labelIndex: LabelIndex;
  backends: Pod[];
  /**
   * backends by address, for a Service without a selector whose EndpointSlice lists addresses that are
   * no pod's: `default/kubernetes` and the API server (policies see these addresses' own identities)
   */
  addresses?: { ip: string; ipNum: number; port: number }[];
}

/** the ClusterIP Kubernetes gives `default/kubernetes`: the first address of the service range */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";

/**
 * Whether the cluster gets a generated `default/kubernetes` in front of the API server: not when the
 * scenario has none, defines its own, or holds 10.96.0.1 otherwise (a Service, or the API server itself).
 */
export function generatesKubernetesService(s: Pick<Scenario, "cluster" | "services">): boolean {
  const api = s.cluster.apiServer;
  return (
    api !== undefined && api.ips.length > 0 && !api.ips.includes(KUBERNETES_SERVICE_IP) &&
    !s.services.some((v) => (v.namespace === "default" && v.name === "kubernetes") || v.clusterIP === KUBERNETES_SERVICE_IP)
  );
}

/** the cluster's pod CIDR (the loader refused a bad one; a scenario built in code falls back to the default) */
export function clusterPodCidr(s: Pick<Scenario, "cluster">): Cidr {
  const pc = parseCidr(s.cluster.podCIDR);
  return "error" in pc || pc.v6 !== undefined ? { addr: parseIPv4("10.0.0.0")!, len: 16, text: "10.0.0.0/16" } : pc;
}

/** where one pod runs and its address */
export interface PodPlacement {
  node: string;
  ipNum: number;
}

/** No address is left in the pod CIDR for replica `replica` of workload `workload` (indexes into the scenario's workloads). */
export class PodCidrFullError extends Error {
  constructor(
    readonly workload: number,
    readonly replica: number,
    readonly podCidr: string,
    what: string,
  ) {
    super(`the pod CIDR ${podCidr} (cluster.podCIDR) is full: no address is left for replica ${replica + 1} of ${what}; give a larger cluster.podCIDR or fewer replicas`);
    this.name = "PodCidrFullError";
  }
}

/**
 * Every pod's node and IP, per workload and replica, as the cluster assigns them: unpinned pods spread
 * round-robin over the nodes (one counter for all workloads), hostNetwork pods on their node's IP, fixed
 * `ips` as given, the rest from the pod CIDR. Each node gets a /24-sized block of it, like Cilium's
 * cluster-pool IPAM (pods .10 to .249 of the block); past the blocks come the addresses after them, and
 * last the first /24, which a pod CIDR too small for per-node blocks also uses. Node, API server and
 * fixed pod addresses are skipped. Throws PodCidrFullError when the pod CIDR has no address left.
 */
export function placePods(s: Pick<Scenario, "nodes" | "workloads" | "cluster">, podCidr: Cidr = clusterPodCidr(s)): PodPlacement[][] {
  const taken = new Set<number>();
  for (const w of s.workloads) if (!w.hostNetwork) for (const ip of w.ips ?? []) taken.add(parseIPv4(ip)!);
  const nodeIp = new Map(s.nodes.map((n) => [n.name, parseIPv4(n.ip)!]));
  for (const ip of nodeIp.values()) taken.add(ip);
  for (const ip of s.cluster.apiServer?.ips ?? []) taken.add(parseIPv4(ip)!);

  const cursor = new Map<string, number>();
  const blockOf = (nodeIdx: number) => (podCidr.addr + (nodeIdx + 1) * 256) >>> 0;
  const capacity = 2 ** (32 - podCidr.len);
  let overflow = (s.nodes.length + 1) * 256;
  let first = 10;
  const nextIp = (node: string): number | undefined => {
    const idx = s.nodes.findIndex((n) => n.name === node);
    let off = cursor.get(node) ?? 10;
    for (;;) {
      let ip: number;
      if (off < 250 && (idx + 2) * 256 <= capacity) ip = (blockOf(idx) + off) >>> 0;
      else if (overflow < capacity - 1) ip = (podCidr.addr + overflow++) >>> 0;
      else if (first < 250 && first < capacity - 1) ip = (podCidr.addr + first++) >>> 0;
      else return undefined;
      off++;
      if (!taken.has(ip)) {
        cursor.set(node, off);
        taken.add(ip);
        return ip;
      }
    }
  };

  let spread = 0;
  return s.workloads.map((w, wi) => {
    const out: PodPlacement[] = [];
    for (let i = 0; i < w.replicas; i++) {
      const node = w.node ?? s.nodes[spread++ % s.nodes.length]!.name;
      let ipNum: number | undefined;
      if (w.hostNetwork) ipNum = nodeIp.get(node)!;
      else if (w.ips) ipNum = parseIPv4(w.ips[i]!)!;
      else ipNum = nextIp(node);
      if (ipNum === undefined) throw new PodCidrFullError(wi, i, podCidr.text, `${w.replicas} of ${w.namespace}/${w.name}`);
      out.push({ node, ipNum });
    }
    return out;
  });
}

/**
 * What the kubelet labels its Node with on registering (well-known labels): host policies' nodeSelector
 * commonly picks nodes by these. The simulated nodes are Linux on amd64.
 */
export function kubeletNodeLabels(nodeName: string): Record<string, string> {
  return {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": nodeName,
    "kubernetes.io/os": "linux",
  };
}

export class Cluster {
  readonly name: string;
  readonly nodes: Node[];
  readonly nodeByName = new Map<string, Node>();
  readonly nodeByIp = new Map<number, Node>();
  readonly apiServerIps = new Set<number>();
  readonly namespaces: Map<string, Record<string, string>>;
  readonly pods: Pod[] = [];
  /** managed endpoints only (no hostNetwork pods, no host endpoints) */
  readonly endpoints: Pod[] = [];
  /** pod endpoints and host endpoints by endpoint ID */
  readonly endpointById = new Map<number, Pod>();
  /** one per node, in node order */
  readonly hostEndpoints: HostEndpoint[] = [];
  readonly hostEndpointByNode = new Map<string, HostEndpoint>();
  readonly podByIp = new Map<number, Pod>();
  readonly podsByWorkload = new Map<string, Pod[]>();
  readonly services: ClusterService[] = [];
  readonly serviceByKey = new Map<string, ClusterService>();
  readonly serviceByIp = new Map<number, ClusterService>();
  readonly identities = new IdentityRegistry();
  readonly podCidr: Cidr;

  constructor(readonly scenario: Scenario) {
    this.name = scenario.cluster.name;
    const apiIps = scenario.cluster.apiServer?.ips ?? [];
    for (const ip of apiIps) this.apiServerIps.add(parseIPv4(ip)!);
    this.nodes = scenario.nodes.map((n) => {
      const ipNum = parseIPv4(n.ip)!;
      // the labels the kubelet puts on every Node, under the scenario's own (which may override them)
      const labels = { ...kubeletNodeLabels(n.name), ...n.labels };
      return { name: n.name, ip: n.ip, ipNum, runsApiServer: this.apiServerIps.has(ipNum), labels };
    });
    for (const n of this.nodes) {
      this.nodeByName.set(n.name, n);
      this.nodeByIp.set(n.ipNum, n);
    }
    this.namespaces = new Map(scenario.namespaces.map((n) => [n.name, n.labels]));
    this.podCidr = clusterPodCidr(scenario);
    this.buildPods(scenario.workloads);
    this.buildHostEndpoints();
    this.buildServices(scenario);
  }

  private buildHostEndpoints(): void {
    const host = this.identities.get(1)!;
    // The agent passes its node's labels through the same identity-label filter as pods' (the host
    // endpoint PR, cilium#10994): kubernetes.io/hostname, kubernetes.io/os and the other well-known
    // labels are left out by default, so a nodeSelector on them selects no node.
    const filter = labelFilter(this.scenario.settings.labels ?? []);
    for (const n of this.nodes) {
      const { identity: nodeLabels } = filterIdentityLabels(filter, Object.entries(n.labels).map(([k, v]) => formatLabel("k8s", k, v)));
      const labels = ["reserved:host", ...nodeLabels];
      // the local host keeps id 1 but carries the kube-apiserver label where the apiserver runs
      if (n.runsApiServer) labels.push("reserved:kube-apiserver");
      labels.sort();
      // IDs from the same 1..4095 range as pods, after them, so adding a node moves no pod's ID
      let id = 1 + (fnv1a(`reserved:host/${n.name}`) % 4095);
      while (this.endpointById.has(id)) id = id >= 4095 ? 1 : id + 1;
      const ports = this.pods.filter((p) => p.hostNetwork && p.node === n.name).flatMap((p) => p.ports);
      const ep: HostEndpoint = {
        endpointId: id, name: `host:${n.name}`, namespace: "", workload: "", node: n.name, ip: n.ip, ipNum: n.ipNum, hostNetwork: true,
        podLabels: {}, serviceAccount: "", identity: host, ports, labels, labelIndex: indexLabels(labels),
      };
      ep.hostEndpoint = ep;
      this.hostEndpoints.push(ep);
      this.hostEndpointByNode.set(n.name, ep);
      this.endpointById.set(id, ep);
    }
  }

  private buildPods(workloads: WorkloadSpec[]): void {
    let placed: PodPlacement[][];
    try {
      placed = placePods({ ...this.scenario, workloads }, this.podCidr);
    } catch (e) {
      // the scenario loader reports this with its position; a scenario built in code gets it here
      if (e instanceof PodCidrFullError) throw new ScenarioError(this.scenario.file, [e.message]);
      throw e;
    }

    // a bad pattern was refused when the scenario was loaded
    const filter = labelFilter(this.scenario.settings.labels ?? []);
    const pending: { w: WorkloadSpec; pod: Omit<Pod, "identity" | "endpointId">; labels: string[] }[] = [];
    for (const [wi, w] of workloads.entries()) {
      const hash = safeHash(`${w.namespace}/${w.name}/${JSON.stringify(w.labels)}`, 10);
      const list: Pod[] = [];
      this.podsByWorkload.set(`${w.namespace}/${w.name}`, list);
      for (let i = 0; i < w.replicas; i++) {
        const { node, ipNum } = placed[wi]![i]!;
        const { identity: labels } = filterIdentityLabels(
          filter,
          podLabelSet({
            podLabels: w.labels,
            namespace: w.namespace,
            namespaceLabels: this.namespaces.get(w.namespace) ?? {},
            serviceAccount: w.serviceAccount,
            cluster: this.name,
          }),
        );
        pending.push({
          w,
          labels,
          pod: {
            name: `${w.name}-${hash}-${i}`,
            namespace: w.namespace,
            workload: w.name,
            node,
            ip: formatIPv4(ipNum),
            ipNum,
            hostNetwork: w.hostNetwork,
            podLabels: w.labels,
            serviceAccount: w.serviceAccount,
            ports: w.ports,
          },
        });
      }
    }
    const idents = this.identities.allocatePodIdentities(pending.filter((p) => !p.w.hostNetwork).map((p) => p.labels));

    // endpoint IDs: hashed into 1..4095 like Cilium's allocator range, probing in pod-name order;
    // the simulator keeps them unique across the cluster, so the cluster holds at most 4095 endpoints
    const endpointCount = pending.filter((p) => !p.w.hostNetwork).length + this.nodes.length;
    if (endpointCount > MAX_ENDPOINT_ID) {
      throw new ScenarioError(this.scenario.file, [`the scenario has ${endpointCount} endpoints (${endpointCount - this.nodes.length} pods and ${this.nodes.length} nodes); endpoint IDs run from 1 to ${MAX_ENDPOINT_ID}, so the simulator models at most ${MAX_ENDPOINT_ID}: lower replicas or nodes`]);
    }
    const usedIds = new Set<number>();
    const byName = [...pending].sort((a, b) => (a.pod.namespace + "/" + a.pod.name < b.pod.namespace + "/" + b.pod.name ? -1 : 1));
    const epIds = new Map<string, number>();
    for (const p of byName) {
      if (p.w.hostNetwork) continue;
      let id = 1 + (fnv1a(`${p.pod.namespace}/${p.pod.name}`) % 4095);
      while (usedIds.has(id)) id = id >= 4095 ? 1 : id + 1;
      usedIds.add(id);
      epIds.set(`${p.pod.namespace}/${p.pod.name}`, id);
    }
    // host-side interface indexes per node, in endpoint ID order
    const ifIndexes = new Map<string, number>();
    const byNode = new Map<string, { key: string; id: number }[]>();
    for (const p of pending) {
      if (p.w.hostNetwork) continue;
      const key = `${p.pod.namespace}/${p.pod.name}`;
      let list = byNode.get(p.pod.node);
      if (!list) byNode.set(p.pod.node, (list = []));
      list.push({ key, id: epIds.get(key) ?? 0 });
    }
    for (const list of byNode.values()) list.sort((a, b) => a.id - b.id).forEach((e, k) => ifIndexes.set(e.key, FIRST_LXC_IFINDEX + k));
    for (const p of pending) {
      const identity = p.w.hostNetwork ? this.identities.get(1)! : idents.get(p.labels.join(","))!;
      const key = `${p.pod.namespace}/${p.pod.name}`;
      const pod: Pod = { ...p.pod, identity, endpointId: epIds.get(key) ?? 0 };
      if (!p.w.hostNetwork) {
        const h = fnv1a(`lxc/${key}`, 0x12345678).toString(16).padStart(8, "0") + fnv1a(`lxc/${key}`).toString(16).padStart(8, "0");
        pod.link = { mac: macOf(`pod/${key}`), lxcMac: macOf(`lxc/${key}`), ifIndex: ifIndexes.get(key)!, ifName: `lxc${h.slice(0, 12)}` };
      }
      this.pods.push(pod);
      this.podsByWorkload.get(`${p.w.namespace}/${p.w.name}`)!.push(pod);
      if (!pod.hostNetwork) {
        this.endpoints.push(pod);
        this.endpointById.set(pod.endpointId, pod);
        this.podByIp.set(pod.ipNum, pod);
      }
    }
  }

  private buildServices(s: Scenario): void {
    // a derived ClusterIP is nobody else's address either: not a node's or a pod's
    const taken = new Set<number>([...this.apiServerIps, parseIPv4("10.96.0.1")!, ...this.nodeByIp.keys(), ...this.pods.map((p) => p.ipNum)]);
    for (const svc of s.services) if (svc.clusterIP) taken.add(parseIPv4(svc.clusterIP)!);
    const base = parseIPv4("10.96.0.0")!;
    for (const svc of s.services) {
      let ipNum: number;
      if (svc.clusterIP) ipNum = parseIPv4(svc.clusterIP)!;
      else {
        let off = 16 + (fnv1a(`${svc.namespace}/${svc.name}`) % 65000);
        while (taken.has((base + off) >>> 0)) off++;
        ipNum = (base + off) >>> 0;
        taken.add(ipNum);
      }
      const backends = this.endpoints.filter(
        (p) => p.namespace === svc.namespace && Object.entries(svc.selector).every(([k, v]) => p.podLabels[k] === v),
      );
      const labelIndex = indexLabels(Object.entries(svc.labels ?? {}).map(([k, v]) => formatLabel("k8s", k, v)));
      const cs: ClusterService = { name: svc.name, namespace: svc.namespace, clusterIP: formatIPv4(ipNum), ipNum, ports: svc.ports, selector: svc.selector, labelIndex, backends };
      this.services.push(cs);
      this.serviceByKey.set(`${svc.namespace}/${svc.name}`, cs);
      this.serviceByIp.set(ipNum, cs);
    }
    // Every cluster has default/kubernetes in front of the API server; pods reach the API through it
    // (KUBERNETES_SERVICE_HOST). Not when the scenario defines its own, or puts the API server itself
    // at that address.
    const api = s.cluster.apiServer;
    if (api && generatesKubernetesService(s)) {
      const kubeIp = parseIPv4(KUBERNETES_SERVICE_IP)!;
      const labels = ["k8s:component=apiserver", "k8s:provider=kubernetes"];
      const cs: ClusterService = {
        name: "kubernetes", namespace: "default", clusterIP: KUBERNETES_SERVICE_IP, ipNum: kubeIp,
        ports: [{ name: "https", port: 443, targetPort: api.port, protocol: "TCP" }],
        selector: {}, labelIndex: indexLabels(labels), backends: [],
        addresses: api.ips.map((ip) => ({ ip, ipNum: parseIPv4(ip)!, port: api.port })),
      };
      this.services.push(cs);
      this.serviceByKey.set("default/kubernetes", cs);
      this.serviceByIp.set(kubeIp, cs);
    }
  }

  workloadPods(ref: string): Pod[] | undefined {
    return this.podsByWorkload.get(ref);
  }

  /** which workload pods are behind a port name, for egress named-port resolution */
  namedPorts(name: string): WorkloadPort[] {
    const out: WorkloadPort[] = [];
    for (const p of this.pods) for (const port of p.ports) if (port.name === name) out.push(port);
    return out;
  }
}
