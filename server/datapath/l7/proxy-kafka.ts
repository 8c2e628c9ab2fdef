// Kafka through the proxy: parse the request frame, decide, let the broker answer or answer
// with TOPIC_AUTHORIZATION_FAILED (29) for every topic and partition, as Cilium's Kafka parser in
// Envoy does (cilium/proxy proxylib/kafka). Its log entry for a request carries the request's topics,
// and the agent (pkg/envoy/accesslog_server.go logRecord) writes one record per topic, or one with no
// topic when the request names none (ApiVersions, Heartbeat, Metadata for all topics). The reply
// passes the parser unread: its entry holds the correlation id alone, so Hubble prints it as api key
// 0 ("produce") with no topic, version or error code. A refused request is logged as request records
// only (the injected answer is not), and Hubble keeps error_code for response records alone
// (parser/seven decodeKafka), with no latency (it measures latency only for HTTP, by X-Request-Id).
import { encodeKafkaResponse } from "./encode/kafka";
import { inspectKafka } from "./inspect";
import { TOPIC_AUTHORIZATION_FAILED, kafkaApiKeyName } from "./kafka-api";
import { parseKafkaResponse } from "./parse/kafka";
import type { ProxyEnv } from "./proxy-env";
import type { L7Context, L7Outcome } from "./proxy-types";
import { kafkaLayer7, kafkaRequestSummary, kafkaResponseSummary, type KafkaRecordInput } from "./records";

function brokerOf(ctx: L7Context): { host: string; port: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(ctx.authority);
  return { host: m?.[1] || ctx.authority, port: m?.[2] ? Number(m[2]) : ctx.port };
}

/**
 * Request kinds Cilium's Kafka parser can build an authorization-error answer for; a refused request of
 * any other kind is dropped with no answer (CreateAuthErrorResponse fails, nothing is injected).
 */
const ANSWERABLE = new Set([0, 1, 2, 3, 8, 9, 10]); // Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, FindCoordinator

export function handleKafka(ctx: L7Context, bytes: Uint8Array, _env: ProxyEnv, _startedAt: bigint): L7Outcome {
  const { request, decision } = inspectKafka(bytes, ctx.grants);
  const topics = [...new Set((request.topics ?? []).map((t) => t.name))];
  const recOf = (topic: string, errorCode?: number): KafkaRecordInput => ({
    apiKey: kafkaApiKeyName(request.apiKey),
    apiVersion: request.apiVersion,
    correlationId: request.correlationId,
    topic,
    ...(errorCode ? { errorCode } : {}),
  });
  const requests = (topics.length ? topics : [""]).map((t) => recOf(t));
  const base = {
    allowed: decision.allowed,
    request: kafkaLayer7("REQUEST", requests[0]!),
    requestSummary: kafkaRequestSummary(requests[0]!),
    ...(requests.length > 1 ? { moreRequests: requests.slice(1).map((r) => ({ l7: kafkaLayer7("REQUEST", r), summary: kafkaRequestSummary(r) })) } : {}),
    decidedBy: decision.decidedBy,
    rule: decision.rule,
    bytes: bytes.length,
  };
  if (!decision.allowed && !ANSWERABLE.has(request.apiKey)) return { ...base, response_code: {} };
  const answer = encodeKafkaResponse(request, decision.allowed ? 0 : TOPIC_AUTHORIZATION_FAILED, brokerOf(ctx));
  const res = parseKafkaResponse(answer, request.apiKey, request.apiVersion);
  if (res.correlationId !== request.correlationId) {
    throw new Error(`kafka: response correlation id ${res.correlationId} does not match request ${request.correlationId}`);
  }
  const errorCode = (topics[0] !== undefined && res.topicErrors.get(topics[0])) || res.errorCode;
  if (!decision.allowed) return { ...base, response_code: { kafka_error_code: errorCode } };
  const reply: KafkaRecordInput = { apiKey: kafkaApiKeyName(0), apiVersion: 0, correlationId: request.correlationId, topic: "" };
  return { ...base, response_code: { kafka_error_code: errorCode }, response: kafkaLayer7("RESPONSE", reply), responseSummary: kafkaResponseSummary(reply) };
}
