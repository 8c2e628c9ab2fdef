// The one filter model for REST, WebSocket, CLI and UI. Field names are Hubble's FlowFilter proto names
// (flow-schema.md §4.5) so a filter written for `hubble observe --allowlist` means the same here.
import type { TrafficDirection, Verdict } from "../flow/types";

export interface WorkloadFilter {
  name?: string;
  kind?: string;
}

export interface EventTypeFilter {
  type: number;
  match_sub_type?: boolean;
  sub_type?: number;
}

export interface HTTPHeaderFilter {
  key: string;
  value: string;
}

export type TCPFlagName = "FIN" | "SYN" | "RST" | "PSH" | "ACK" | "URG" | "ECE" | "CWR" | "NS";

/**
 * Hubble's FlowFilter. Within one filter every set field must match (AND); within one field any value may
 * match (OR). An empty or absent array means "no constraint".
 */
export interface FlowFilter {
  uuid?: string[];
  source_ip?: string[];
  source_ip_xlated?: string[];
  /** `[ns/]pod-name-prefix`: `ns/` alone = namespace only; no slash or `/prefix` = any namespace */
  source_pod?: string[];
  source_fqdn?: string[];
  /** Kubernetes label selectors (`app=x`, `k8s:app in (a,b)`, `!app`, `app!=x`) */
  source_label?: string[];
  source_service?: string[];
  source_workload?: WorkloadFilter[];
  source_cluster_name?: string[];
  destination_ip?: string[];
  destination_pod?: string[];
  destination_fqdn?: string[];
  destination_label?: string[];
  destination_service?: string[];
  destination_workload?: WorkloadFilter[];
  destination_cluster_name?: string[];
  traffic_direction?: TrafficDirection[];
  verdict?: Verdict[];
  drop_reason_desc?: string[];
  event_type?: EventTypeFilter[];
  /** `404`, `5+`, `40+` */
  http_status_code?: string[];
  /** tcp, udp, icmp, icmpv4, icmpv6, sctp, http, dns, kafka */
  protocol?: string[];
  source_port?: string[];
  destination_port?: string[];
  reply?: boolean[];
  /** regular expressions (see regex.ts for the accepted subset) */
  dns_query?: string[];
  source_identity?: number[];
  destination_identity?: number[];
  http_method?: string[];
  http_path?: string[];
  http_url?: string[];
  http_header?: HTTPHeaderFilter[];
  tcp_flags?: Partial<Record<TCPFlagName, boolean>>[];
  /** patterns: `k8s*`, `cluster/`, `cluster/node-*` */
  node_name?: string[];
  ip_version?: ("IP_NOT_USED" | "IPv4" | "IPv6")[];
  /** label selectors over the labels of the node that observed the flow (flow.node_labels, `key=value`) */
  node_labels?: string[];
  /** the interface the flow was observed at: each set field must equal the flow's (an index of 0 is unset) */
  interface?: { index?: number; name?: string }[];
  /** whether the packet was encrypted (WireGuard or IPsec, flow.IP.encrypted; unset reads as false) */
  encrypted?: boolean[];
  /** the W3C trace id the L7 request carried (flow.trace_context.parent.trace_id), matched whole */
  trace_id?: string[];
  /** the trace id an IP option carried (flow.ip_trace_id.trace_id, a uint64), as decimal strings;
   * 0 matches records without one, as Hubble's GetTraceId() reads them */
  ip_trace_id?: string[];
  /** Hubble's experimental filters: CEL expressions over `_flow` (any true matches; lib/filter/cel) */
  experimental?: { cel_expression?: string[] };
  /**
   * Flowscope's addition: the deciding policy. `name`, `namespace/name` or `Kind/namespace/name`
   * (`CiliumClusterwideNetworkPolicy//name` for cluster-wide ones).
   */
  policy?: string[];
  /**
   * Flowscope's addition: the service map node a side is drawn as, by its id in GET /api/service-map
   * (`ns/workload`, `reserved:host`, `fqdn:name`, `cidr:1.2.3.0/24`, …; lib/flow/map-node.ts).
   */
  source_map_node?: string[];
  destination_map_node?: string[];
  /**
   * Flowscope's addition: a service map edge, `source->target` by node id: the flows the map counts
   * for it (source to target, not replies) and the replies back (target to source).
   */
  map_edge?: string[];
}

export type FlowFilterField = keyof FlowFilter;

/** A whole question about flows: Hubble's GetFlowsRequest less the streaming options. */
export interface FlowQuery {
  /** keep a flow if ANY of these matches; empty = keep all */
  whitelist: FlowFilter[];
  /** drop a flow if ANY of these matches */
  blacklist: FlowFilter[];
  /** RFC 3339 time or epoch milliseconds; inclusive */
  since?: string;
  /** RFC 3339 time or epoch milliseconds; inclusive */
  until?: string;
  limit?: number;
  /** oldest first (hubble `--first N`) instead of newest first */
  first?: boolean;
  /** opaque pagination cursor, passed through */
  cursor?: string;
  /**
   * only flows observed on this node (its exact `node_name`), ANDed with everything above: what Hubble
   * Relay asks each node for, so `observe --last N` can take N per node as it does through Relay
   */
  node?: string;
}

/** A filter that cannot be used. `field` names the offending field or flag, e.g. `source_pod` or `--to-port`. */
export class FilterError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "FilterError";
    this.field = field;
  }
}

export function emptyQuery(): FlowQuery {
  return { whitelist: [], blacklist: [] };
}
