// The scenario as the rest of Flowscope sees it: validated, defaults filled in, paths resolved.
import type { L7RequestSpec } from "../datapath/l7/proxy-types";

export type PortProtocol = "TCP" | "UDP" | "SCTP";
export type RequestProtocol = PortProtocol | "ICMP";
export type AppProtocol = "http" | "grpc" | "kafka" | "dns" | "tcp" | "udp";

export interface WorkloadPort {
  name?: string;
  port: number;
  protocol: PortProtocol;
  app?: AppProtocol;
}

export interface WorkloadSpec {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  replicas: number;
  node?: string;
  hostNetwork: boolean;
  ips?: string[];
  ports: WorkloadPort[];
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort: number | string;
  protocol: PortProtocol;
}

export interface ServiceSpec {
  name: string;
  namespace: string;
  /** the Service object's own labels: what a toServices k8sServiceSelector matches */
  labels?: Record<string, string>;
  selector: Record<string, string>;
  ports: ServicePort[];
  clusterIP?: string;
}

export interface ExternalHost {
  name?: string;
  ips: string[];
}

export interface DnsRecord {
  name: string;
  ips: string[];
  ttl: number;
}

export interface ScenarioSettings {
  policyAuditMode: boolean;
  /** per-endpoint audit mode (cilium-dbg endpoint config PolicyAuditMode=Enabled) for every pod of these namespaces */
  policyAuditNamespaces: string[];
  policyEnforcementMode: "default" | "always" | "never";
  allowLocalhost: "always" | "policy";
  /** --tofqdns-min-ttl: learned IPs live at least this long (seconds) */
  fqdnMinTTL: number;
  /** --labels: identity-relevant label patterns added to Cilium's defaults (server/cluster/label-filter.ts) */
  labels?: string[];
}

/**
 * One request. `from` is "ns/workload" or {ip}. Exactly one destination: `to` (ns/workload, or a
 * service ns/name when no workload has that name), `toService`, `toFQDN` or `toIP`; a DNS request
 * with none of them goes to kube-dns.
 */
export interface TrafficRequest extends L7RequestSpec {
  from: string | { ip: string };
  to?: string;
  toService?: string;
  toFQDN?: string;
  toIP?: string;
  port?: number;
  protocol?: RequestProtocol;
  icmpType?: number;
}

export interface TrafficEntry extends TrafficRequest {
  rate: number;
}

export interface Scenario {
  file: string;
  dir: string;
  name: string;
  metadata: { name: string; description?: string };
  cluster: { name: string; podCIDR: string; apiServer?: { ips: string[]; port: number } };
  /** labels: Kubernetes node labels, what host policies' nodeSelector matches (optional in the file) */
  nodes: { name: string; ip: string; labels: Record<string, string> }[];
  namespaces: { name: string; labels: Record<string, string> }[];
  workloads: WorkloadSpec[];
  external: ExternalHost[];
  dns: DnsRecord[];
  services: ServiceSpec[];
  /** absolute paths of policy files and folders */
  policies: string[];
  settings: ScenarioSettings;
  traffic: TrafficEntry[];
  /** accepted, but will not work as meant (a service that selects no pod, …): `lint` reports them */
  warnings?: ScenarioWarning[];
}

export interface ScenarioWarning {
  file: string;
  line?: number;
  path: string;
  message: string;
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
    /** what the file was meant to be, for the message */
    what = "scenario",
  ) {
    super(`invalid ${what} ${file}:\n  ${problems.join("\n  ")}`);
    this.name = "ScenarioError";
  }
}
