// Kafka through the proxy: parse the request frame, decide, let the broker answer or answer
// with TOPIC_AUTHORIZATION_FAILED (29) for every topic and partition, as Cilium's Kafka proxy
// does. A refusal is logged as request records carrying error 29 (Cilium's access log has no response
// for it), one per topic.
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

export function handleKafka(ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, startedAt: bigint): L7Outcome {
  const { request, decision } = inspectKafka(bytes, ctx.grants);
  const topics = [...new Set((request.topics ?? []).map((t) => t.name))];
  const recOf = (topic: string, errorCode?: number): KafkaRecordInput => ({
    apiKey: kafkaApiKeyName(request.apiKey),
    apiVersion: request.apiVersion,
    correlationId: request.correlationId,
    topic,
    ...(errorCode ? { errorCode } : {}),
  });
  const refusedWith = decision.allowed ? undefined : TOPIC_AUTHORIZATION_FAILED;
  // one record per topic, as Cilium's access log splits a multi-topic request
  const records = (topics.length ? topics : [""]).map((t) => recOf(t, refusedWith));
  const base = {
    allowed: decision.allowed,
    request: kafkaLayer7("REQUEST", records[0]!),
    requestSummary: kafkaRequestSummary(records[0]!),
    ...(records.length > 1 ? { moreRequests: records.slice(1).map((r) => ({ l7: kafkaLayer7("REQUEST", r), summary: kafkaRequestSummary(r) })) } : {}),
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
  const first = topics[0] ?? "";
  const errorCode = (first && res.topicErrors.get(first)) || res.errorCode;
  if (!decision.allowed) return { ...base, response_code: { kafka_error_code: errorCode } };
  const resRec = recOf(first, errorCode);
  const latency = env.latency(ctx.protocol, startedAt);
  return { ...base, response_code: { kafka_error_code: errorCode }, response: kafkaLayer7("RESPONSE", resRec, latency), responseSummary: kafkaResponseSummary(resRec) };
}
