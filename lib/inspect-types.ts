// Answers of the datapath inspection API (/api/endpoints, /api/endpoints/:id/policy-map,
// /api/identities, /api/ipcache, /api/selectors), shared by the server, the CLI and the UI.

export type Enforcement = "on" | "off" | "audit";

export interface PolicyRef {
  name: string;
  namespace?: string;
  kind: string;
}

export interface DirectionEnforcement {
  /** on: default deny; off: everything allowed (but explicit denies); audit: drops pass and are flagged */
  enforcement: Enforcement;
  /** the policies whose rules put the endpoint into default deny in this direction */
  enabledBy: PolicyRef[];
}

export interface EndpointSummary {
  id: number;
  pod: string;
  namespace: string;
  workload: string;
  node: string;
  identity: number;
  labels: string[];
  ips: string[];
  ingress: DirectionEnforcement;
  egress: DirectionEnforcement;
}

export interface EndpointsResponse {
  revision: number;
  endpoints: EndpointSummary[];
  /** the scenario's nodes in order; `endpoint list` shows the first one's endpoints unless told otherwise */
  nodes: string[];
}

export interface PolicyMapRule extends PolicyRef {
  /** path inside the policy, e.g. spec.ingress[0].toPorts[0].ports[0] */
  path: string;
}

export interface PolicyMapRow {
  direction: "ingress" | "egress";
  /** numeric identity, or "ANY" for entries matching every peer */
  identity: number | "ANY";
  identityLabels: string[];
  /** TCP/UDP/SCTP/ICMP/ICMPv6/ANY */
  protocol: string;
  /** "80", "8080-8090", an ICMP type, or "ANY" */
  port: string;
  l7Redirect: boolean;
  action: "allow" | "deny";
  packets: number;
  bytes: number;
  /** ISO time of the last match, null when never hit */
  lastHit: string | null;
  policies: PolicyMapRule[];
}

export interface PolicyMapResponse {
  endpoint: EndpointSummary;
  revision: number;
  rows: PolicyMapRow[];
}

export interface IdentityInfo {
  id: number;
  kind: "reserved" | "pod" | "cidr";
  labels: string[];
  /** endpoints with this identity (pod identities) */
  endpoints: number[];
}

export interface IdentitiesResponse {
  identities: IdentityInfo[];
}

export interface IpcacheRow {
  /** an IP as a /32, or a policy-referenced prefix */
  prefix: string;
  identity: number;
  source: "pod" | "node" | "kube-apiserver" | "cidr" | "fqdn";
  /** the node a pod runs on, or the node whose IP this is (pod and node entries) */
  node?: string;
  /**
   * the node IP the observing node tunnels to for this entry: set for pods on other nodes, absent for
   * its own pods, node IPs and prefixes (Cilium's tunnelendpoint=0.0.0.0)
   */
  tunnelEndpoint?: string;
}

export interface IpcacheResponse {
  /** node IPs are host (1) on this node and remote-node (6) / kube-apiserver (7) elsewhere */
  node: string;
  entries: IpcacheRow[];
}

export interface SelectorRow {
  /** the selector as Cilium prints it in `policy selectors`, e.g. &LabelSelector{...} or entity/CIDR text */
  selector: string;
  kind: "selector" | "entity" | "cidr" | "cidrGroup" | "fqdn" | "nodes" | "service";
  /** identities it currently matches, or "ANY" (a wildcard) */
  identities: number[] | "ANY";
  policies: PolicyRef[];
  /** endpoints whose policy maps use it */
  users: number[];
}

export interface SelectorsResponse {
  selectors: SelectorRow[];
}

export function policyRefKey(p: PolicyRef): string {
  return `${p.kind}/${p.namespace ?? ""}/${p.name}`;
}
