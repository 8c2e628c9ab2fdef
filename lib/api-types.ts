// Shapes of the REST API's JSON answers, shared by the server (which produces them) and the UI and CLI
// (which consume them). Flow records themselves are lib/flow/types.ts.
import type { FlowEnvelope, Policy } from "./flow/types";

/** GET /api/flows?…filters&limit=N&cursor=C&order=desc|asc */
export interface FlowsPage {
  flows: StoredFlow[];
  /** pass back as `cursor` to get the next page in the same order; absent at the end */
  nextCursor?: string;
  /**
   * the page holds fewer than `limit` flows because the server stopped checking rows one by one (a
   * filter SQL cannot answer) after its time budget, not because no more match: go on with nextCursor
   */
  scanStopped?: boolean;
  /** the database's flow history (GET /api/status historyId): what a stream resuming after these flows must also name */
  history?: string;
}

/** A flow as stored: the Hubble envelope plus its row id, which orders flows and serves as the stream cursor. */
export interface StoredFlow extends FlowEnvelope {
  /** monotonically increasing row id (string to stay exact in JSON) */
  id: string;
}

/** GET /api/status */
export interface ServerStatus {
  version: string;
  /** which flow history the database holds: another one (a new database) restarts flow ids at 1 */
  historyId: string;
  uptimeMs: number;
  storedFlows: number;
  oldestFlowTime?: string;
  newestFlowTime?: string;
  /** flows/s ingested over the last 10 s */
  ingestRate: number;
  /** flows published but not yet written */
  ingestLag: number;
  databaseBytes: number;
  /** the last database write error, while writes are failing */
  storeError?: string;
  /** flows that could not be written and were given up on */
  storeDropped: number;
  retention: { maxFlows: number; maxAgeMs?: number };
  /** rate: configured requests/s; skippedRequests: due requests this machine had no time for;
   * throttledTicks: ticks paused because the store was behind */
  simulator: { running: boolean; scenario: string; rate: number; skippedRequests: number; throttledTicks: number; errors: number; lastError?: string };
  policyRevision: number;
  websocketClients: number;
}

/** GET /api/namespaces */
export interface NamespacesResponse {
  namespaces: { namespace: string; flows: number }[];
}

/** GET /api/nodes: the node names of the stored flows ("" for flows that name none) */
export interface NodesResponse {
  nodes: string[];
  /** false when there were more names than the server keeps track of: the list is then a part of them */
  complete: boolean;
}

/** GET /api/service-map?since=…&until=…&…filters */
export interface ServiceMap {
  since: string;
  until: string;
  nodes: ServiceMapNode[];
  edges: ServiceMapEdge[];
}

export type ServiceMapNodeKind = "workload" | "world" | "fqdn" | "cidr" | "host" | "remote-node" | "kube-apiserver" | "reserved";

export interface ServiceMapNode {
  /** stable key: "ns/workload" for workloads, "reserved:world", "fqdn:api.github.com", "cidr:1.2.3.0/24" */
  id: string;
  kind: ServiceMapNodeKind;
  label: string;
  namespace?: string;
  identity?: number;
  labels: string[];
  /** ports/protocols seen arriving at this node, e.g. "80/TCP" */
  ports: string[];
  /** L7 endpoints seen, e.g. "GET /api/orders", "/payments.Payments/Charge", "kafka produce orders" */
  l7: string[];
  /** those of `l7` with at least one request an L7 rule refused (its request record DROPPED) */
  l7_denied?: string[];
  flows: number;
}

export interface ServiceMapEdge {
  id: string;
  source: string;
  target: string;
  /** counts by verdict */
  verdicts: Partial<Record<"FORWARDED" | "DROPPED" | "AUDIT" | "REDIRECTED" | "ERROR", number>>;
  /** "80/TCP", "53/UDP" */
  ports: string[];
  /** "http", "grpc", "kafka", "dns" */
  l7: string[];
  /** deciding policies as "Kind/namespace/name" */
  policies: string[];
  flows: number;
  /** forwarded flows showing traffic that reached the destination: not the source's egress verdict nor a
   * packet leaving the source's node toward a pod or node, whose own side still decides */
  delivered?: number;
  /** flows per second over the window */
  rate: number;
}

/** GET /api/policies */
export interface PolicySummary {
  name: string;
  namespace?: string;
  kind: string;
  revision: number;
  labels: string[];
  source: string;
  yaml: string;
  /** endpoints (pods) this policy selects */
  selects: { id: number; pod: string; namespace: string }[];
}
/** a CiliumCIDRGroup: named external CIDRs that CIDRSet entries refer to by name or labels */
export interface CidrGroupSummary {
  name: string;
  labels: Record<string, string>;
  cidrs: string[];
  source: string;
  yaml: string;
}
export interface PoliciesResponse {
  revision: number;
  policies: PolicySummary[];
  cidrGroups: CidrGroupSummary[];
  /** `line`: 1-based, in the file (or, for a pasted body, in the text as pasted) */
  warnings: { source: string; document?: number; line?: number; path?: string; message: string }[];
}

/** How one side (egress at the source, ingress at the destination) decided a previewed request. */
export interface PreviewDecision {
  verdict: string;
  match_type: string;
  /** deciding policies as "Kind/namespace/name" */
  allowed_by: string[];
  /** deny rules that matched */
  denied_by: string[];
  /** no rule matched: the policies whose selection put the endpoint into default deny */
  default_deny_by?: string[];
}
export interface PreviewOutcome {
  verdict: "FORWARDED" | "DROPPED" | "AUDIT";
  drop_reason_desc?: string;
  l7_denied?: boolean;
  response?: { http_code?: number; kafka_error_code?: number; dns_rcode?: string };
  egress?: PreviewDecision;
  ingress?: PreviewDecision;
  /** the L7 proxy's decision, when one ran: the policies whose L7 rules it enforced, the matching rule
   * (allowed), or why it refused */
  l7?: { decided_by: string[]; rule?: string; reason?: string };
  /** the request could not be sent (e.g. its workload does not exist) */
  error?: string;
}
export interface PreviewRow {
  label: string;
  request: Record<string, unknown>;
  before: PreviewOutcome;
  after: PreviewOutcome;
  /** "verdict": the outcome changes; "decision": same outcome, different deciding policies */
  change: "verdict" | "decision" | null;
}
/** POST /api/policies/preview: the scenario's traffic replayed with and without a policy change */
export interface PolicyPreviewResponse {
  applied: { kind: string; name: string; namespace?: string; selects: number }[];
  appliedCidrGroups: string[];
  warnings: PoliciesResponse["warnings"];
  /** distinct requests in the scenario's traffic, and how many of them were replayed */
  requests: number;
  replayed: number;
  verdictChanges: number;
  decisionChanges: number;
  /** verdict changes first, then decision changes, then the unchanged */
  rows: PreviewRow[];
}

export type { Policy };

/** Error body of every 4xx/5xx answer. */
export interface ApiError {
  error: string;
  /** the request field that was wrong, when there is one */
  field?: string;
}

/** One deciding policy's flows over the window: the flows `policy=<policy>` selects, by verdict. */
export interface PolicyStats {
  /** "Kind/namespace/name" as stored (the `policy=` filter form) */
  policy: string;
  flows: number;
  verdicts: Record<string, number>;
}

/** GET /api/policies/stats?since=&until= (default: the last hour) */
export interface PolicyStatsResponse {
  since: string;
  until: string;
  /** policies that decided at least one flow in the window, by name */
  policies: PolicyStats[];
}
