// The one definition of a flow record, shared by the server, the CLI and the UI.
// Field names, nesting and enum spellings follow Hubble's flow.proto (Cilium v1.19) exactly as
// `hubble observe -o json` prints them (proto names, not lowerCamel), so that an object of this
// type serialises to the same JSON a Hubble user already knows. Keys are declared in proto
// declaration order: builders create objects in this order so JSON.stringify keeps it.

export type Verdict =
  | "VERDICT_UNKNOWN"
  | "FORWARDED"
  | "DROPPED"
  | "ERROR"
  | "AUDIT"
  | "REDIRECTED"
  | "TRACED"
  | "TRANSLATED";

export type FlowType = "UNKNOWN_TYPE" | "L3_L4" | "L7" | "SOCK";
export type TrafficDirection = "TRAFFIC_DIRECTION_UNKNOWN" | "INGRESS" | "EGRESS";
export type L7FlowType = "UNKNOWN_L7_TYPE" | "REQUEST" | "RESPONSE" | "SAMPLE";
export type IPVersion = "IP_NOT_USED" | "IPv4" | "IPv6";
export type AuthType = "DISABLED" | "SPIRE" | "TEST_ALWAYS_FAIL";
export type TraceReason =
  | "TRACE_REASON_UNKNOWN"
  | "NEW"
  | "ESTABLISHED"
  | "REPLY"
  | "RELATED"
  | "REOPENED"
  | "SRV6_ENCAP"
  | "SRV6_DECAP"
  | "ENCRYPT_OVERLAY";
export type TraceObservationPoint =
  | "UNKNOWN_POINT"
  | "TO_PROXY"
  | "TO_HOST"
  | "TO_STACK"
  | "TO_OVERLAY"
  | "TO_ENDPOINT"
  | "FROM_ENDPOINT"
  | "FROM_PROXY"
  | "FROM_HOST"
  | "FROM_STACK"
  | "FROM_OVERLAY"
  | "FROM_NETWORK"
  | "TO_NETWORK"
  | "FROM_CRYPTO"
  | "TO_CRYPTO";

/** DropReason enum names (flow.proto). Kept as a string so imports of newer codes still parse. */
export type DropReasonName = string;

export interface Workload {
  name?: string;
  kind?: string;
}

export interface Endpoint {
  ID?: number;
  identity?: number;
  cluster_name?: string;
  namespace?: string;
  labels?: string[];
  pod_name?: string;
  workloads?: Workload[];
}

export interface Ethernet {
  source?: string;
  destination?: string;
}

export interface IP {
  source?: string;
  source_xlated?: string;
  destination?: string;
  ipVersion?: IPVersion;
  encrypted?: boolean;
}

export interface TCPFlags {
  FIN?: boolean;
  SYN?: boolean;
  RST?: boolean;
  PSH?: boolean;
  ACK?: boolean;
  URG?: boolean;
  ECE?: boolean;
  CWR?: boolean;
  NS?: boolean;
}

export interface PortPair {
  source_port?: number;
  destination_port?: number;
}
export interface TCP extends PortPair {
  flags?: TCPFlags;
}
export interface ICMP {
  type?: number;
  code?: number;
}

/** proto oneof: exactly one member is set. */
export interface Layer4 {
  TCP?: TCP;
  UDP?: PortPair;
  ICMPv4?: ICMP;
  ICMPv6?: ICMP;
  SCTP?: PortPair;
  VRRP?: { type?: number; vrid?: number; priority?: number };
  IGMP?: { type?: number; group_address?: string };
}

export interface HTTPHeader {
  key: string;
  value: string;
}

export interface HTTP {
  code?: number;
  method?: string;
  url?: string;
  protocol?: string;
  headers?: HTTPHeader[];
}

export interface DNS {
  query?: string;
  ips?: string[];
  ttl?: number;
  cnames?: string[];
  observation_source?: string;
  rcode?: number;
  qtypes?: string[];
  rrtypes?: string[];
}

export interface Kafka {
  error_code?: number;
  api_version?: number;
  api_key?: string;
  correlation_id?: number;
  topic?: string;
}

export interface Layer7 {
  type?: L7FlowType;
  /** uint64: a decimal string in JSON */
  latency_ns?: string;
  dns?: DNS;
  http?: HTTP;
  kafka?: Kafka;
}

export interface Service {
  name?: string;
  namespace?: string;
}

export interface CiliumEventType {
  type?: number;
  sub_type?: number;
}

export interface NetworkInterface {
  index?: number;
  name?: string;
}

export type PolicyKind = "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy" | "NetworkPolicy";

export interface Policy {
  name?: string;
  namespace?: string;
  labels?: string[];
  /** uint64: a decimal string in JSON */
  revision?: string;
  kind?: string;
}

export interface Flow {
  time?: string;
  uuid?: string;
  emitter?: { name?: string; version?: string };
  verdict?: Verdict;
  drop_reason?: number;
  auth_type?: AuthType;
  ethernet?: Ethernet;
  IP?: IP;
  l4?: Layer4;
  tunnel?: unknown;
  source?: Endpoint;
  destination?: Endpoint;
  Type?: FlowType;
  node_name?: string;
  node_labels?: string[];
  source_names?: string[];
  destination_names?: string[];
  l7?: Layer7;
  reply?: boolean;
  event_type?: CiliumEventType;
  source_service?: Service;
  destination_service?: Service;
  traffic_direction?: TrafficDirection;
  policy_match_type?: number;
  trace_observation_point?: TraceObservationPoint;
  trace_reason?: TraceReason;
  file?: { name?: string; line?: number };
  ip_trace_id?: { trace_id?: string; ip_option_type?: number };
  drop_reason_desc?: DropReasonName;
  is_reply?: boolean;
  debug_capture_point?: string;
  interface?: NetworkInterface;
  proxy_port?: number;
  trace_context?: { parent?: { trace_id?: string } };
  sock_xlate_point?: string;
  socket_cookie?: string;
  cgroup_id?: string;
  Summary?: string;
  extensions?: FlowscopeExtension | Record<string, unknown>;
  egress_allowed_by?: Policy[];
  ingress_allowed_by?: Policy[];
  egress_denied_by?: Policy[];
  ingress_denied_by?: Policy[];
  policy_log?: string[];
  aggregate?: { ingress_flow_count?: number; egress_flow_count?: number; unknown_direction_flow_count?: number };
}

/**
 * Flowscope's own additions travel in the proto's `extensions` (google.protobuf.Any) slot, so a
 * record stays valid Hubble JSON. They answer what Hubble cannot: which policies put an endpoint
 * into default deny (for 133 drops, which name no policy), and which policies' L7 rules decided an
 * L7 verdict.
 */
export interface FlowscopeExtension {
  "@type": "type.googleapis.com/flowscope.v1.FlowDecision";
  /** for POLICY_DENIED drops: the policies whose rules made this endpoint default-deny in this direction */
  default_deny_by?: Policy[];
  /**
   * for POLICY_DENY drop events (181): the policies whose deny rules matched. Hubble's correlation names
   * them only on the policy-verdict event of the same packet (*_denied_by); the drop event carries them here.
   */
  denied_by?: Policy[];
  /** for L7 records: the policies whose L7 rules applied to this request */
  l7_decided_by?: Policy[];
  /**
   * for L7 records the proxy let through with no rule to check: the policies whose allow without L7
   * rules covers this peer on this port, which makes the proxy allow every request (Cilium's L7 semantics)
   */
  l7_allow_all_by?: Policy[];
  /** the rule inside the deciding policy, e.g. "ingress[0].toPorts[0].rules.http[1]" */
  rule?: string;
  /** human-readable steps the datapath took for this decision */
  explanation?: string[];
}

/** One line of `hubble observe -o json`: a GetFlowsResponse envelope. */
export interface FlowEnvelope {
  flow: Flow;
  node_name: string;
  time: string;
}

export interface LostEventsEnvelope {
  lost_events: {
    source: "UNKNOWN_LOST_EVENT_SOURCE" | "PERF_EVENT_RING_BUFFER" | "OBSERVER_EVENTS_QUEUE" | "HUBBLE_RING_BUFFER";
    num_events_lost: string;
    first?: string;
    last?: string;
  };
  node_name: string;
  time: string;
}
