// The contract between the L3/L4 datapath and the L7 proxy. The datapath decides that a connection is
// redirected to the proxy (a port with L7 rules on the enforcing side, §2.5 of policy-semantics) and
// which L7 rules apply to this peer; the proxy turns the request into the bytes a real client would
// send, parses those bytes, enforces the rules and reports what it saw. Nothing structured bypasses the
// bytes: the rules are matched against what the parser extracted.
import type { Layer7, Policy } from "../../../lib/flow/types";

export type L7Protocol = "http" | "grpc" | "kafka" | "dns";

export interface HttpRequestSpec {
  method: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
}
export interface GrpcRequestSpec {
  service: string;
  method: string;
}
export interface KafkaRequestSpec {
  /** name (produce, fetch, metadata, listoffsets, offsetcommit, offsetfetch, …) or numeric api key */
  apiKey: string | number;
  apiVersion?: number;
  clientId?: string;
  topics?: string[];
}
export interface DnsRequestSpec {
  query: string;
  type?: string;
}
/** The L7 part of a request (scenario traffic entry or trace request); at most one member is set. */
export interface L7RequestSpec {
  http?: HttpRequestSpec;
  grpc?: GrpcRequestSpec;
  kafka?: KafkaRequestSpec;
  dns?: DnsRequestSpec;
}

// L7 rules exactly as policy YAML spells them (already validated by the policy parser).
export interface HeaderMatch {
  name: string;
  value?: string;
  mismatch?: "LOG" | "ADD" | "DELETE" | "REPLACE";
  secret?: { namespace?: string; name: string };
}
export interface HttpRule {
  method?: string;
  path?: string;
  host?: string;
  headers?: string[];
  headerMatches?: HeaderMatch[];
}
export interface KafkaRule {
  role?: string;
  apiKey?: string;
  apiVersion?: string;
  clientID?: string;
  topic?: string;
}
export interface DnsRule {
  matchName?: string;
  matchPattern?: string;
}
export interface L7Rules {
  http?: HttpRule[];
  kafka?: KafkaRule[];
  dns?: DnsRule[];
}

/** The L7 rules one policy rule contributes for this (peer, port), with where they came from. */
export interface L7Grant {
  rules: L7Rules;
  policy: Policy;
  /** path of the rule inside the policy, e.g. "spec.ingress[0].toPorts[0].rules" */
  rulePath: string;
}

/** What kube-dns would answer: the scenario's dns records. */
export interface DnsAnswerSource {
  resolve(name: string, qtype: string): { ips: string[]; ttl: number; cnames?: string[] } | undefined;
}

export interface L7Context {
  protocol: L7Protocol;
  request: L7RequestSpec;
  direction: "INGRESS" | "EGRESS";
  /** null: L7 allow-all for this peer (a rule without L7 also covers it on this port, §2.5) */
  grants: L7Grant[] | null;
  /** authority for HTTP URLs / Host when the request names none (service or pod DNS name) */
  authority: string;
  port: number;
  dnsServer?: DnsAnswerSource;
  now: Date;
  /** the bytes the previous proxy on the path forwarded (L7Outcome.forwarded), handled instead of a fresh encoding */
  forwardedBytes?: Uint8Array;
}

export interface L7Response {
  http_code?: number;
  kafka_error_code?: number;
  dns_rcode?: string;
}

export interface L7Outcome {
  allowed: boolean;
  /** Layer7 record of the request as parsed from the bytes (type REQUEST); absent when the proxy logs
   * none */
  request?: Layer7;
  /** Layer7 record of the response (type RESPONSE; latency_ns on HTTP only); absent if none was produced */
  response?: Layer7;
  requestSummary: string;
  /** further REQUEST records for the same request: Cilium logs a Kafka request once per topic */
  moreRequests?: { l7: Layer7; summary: string }[];
  responseSummary?: string;
  /** policies whose L7 rules matched (allowed) or were in force and did not match (denied) */
  decidedBy: Policy[];
  /** the matching rule, e.g. "spec.ingress[0].toPorts[0].rules.http[1]" */
  rule?: string;
  response_code: L7Response;
  /** answers seen by the DNS proxy; the datapath feeds them to the FQDN cache only when allowed */
  dnsAnswer?: { query: string; ips: string[]; ttl: number; cnames?: string[] };
  /** why the proxy refused the request without consulting the rules: unparsable bytes, or a path Envoy
   * redirects or refuses (path-normalize.ts) */
  error?: string;
  /** total request bytes the proxy parsed */
  bytes: number;
  /** the trace id of a W3C traceparent header the request carried (HTTP and gRPC) */
  traceId?: string;
  /**
   * The request bytes as the proxy passes them upstream, when it passes them unchanged (Kafka, DNS):
   * a second proxy on the path sees the same correlation id or DNS id. Envoy rewrites HTTP requests
   * (it adds X-Request-Id, among others), so those are encoded afresh.
   */
  forwarded?: Uint8Array;
}

/**
 * Why the answer a proxy forwarded a request for never came from the server: the next proxy on the
 * path refused it (`by` is that proxy's outcome), or the upstream connection was dropped at L3/L4
 * and nothing answered at all.
 */
export type UpstreamFailure = { kind: "refused"; by: L7Outcome } | { kind: "unreachable" };

/** What a proxy logs and hands its client instead of the server's answer (L7Proxy.relay). */
export interface RelayedAnswer {
  /** the response record the proxy logs, if it logs one */
  response?: Layer7;
  responseSummary?: string;
  response_code: L7Response;
}

export interface L7Proxy {
  handle(ctx: L7Context): L7Outcome;
  /** The answer of a proxy that allowed and forwarded a request (`forwarded` is its outcome) when upstream failed it. */
  relay(ctx: L7Context, forwarded: L7Outcome, upstream: UpstreamFailure): RelayedAnswer;
}
