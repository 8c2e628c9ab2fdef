// Kafka through the proxy: parse the request frame, decide, let the broker answer or answer
// with TOPIC_AUTHORIZATION_FAILED (29) for every topic and partition, as Cilium's Kafka proxy
// does. A refusal is logged as one request record (Cilium's access log has no response for it).
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

export function handleKafka(ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, startedAt: bigint): L7Outcome {
  const { request, decision } = inspectKafka(bytes, ctx.grants);
  const rec: KafkaRecordInput = {
    apiKey: kafkaApiKeyName(request.apiKey),
    apiVersion: request.apiVersion,
    correlationId: request.correlationId,
    topic: request.topics?.[0]?.name ?? "",
  };
  const answer = encodeKafkaResponse(request, decision.allowed ? 0 : TOPIC_AUTHORIZATION_FAILED, brokerOf(ctx));
  const res = parseKafkaResponse(answer, request.apiKey, request.apiVersion);
  if (res.correlationId !== request.correlationId) {
    throw new Error(`kafka: response correlation id ${res.correlationId} does not match request ${request.correlationId}`);
  }
  const errorCode = (rec.topic && res.topicErrors.get(rec.topic)) || res.errorCode;
  const base = {
    allowed: decision.allowed,
    request: kafkaLayer7("REQUEST", rec),
    requestSummary: kafkaRequestSummary(rec),
    decidedBy: decision.decidedBy,
    rule: decision.rule,
    response_code: { kafka_error_code: errorCode },
    bytes: bytes.length,
  };
  if (!decision.allowed) return base;
  const resRec = { ...rec, errorCode };
  const latency = env.latency(ctx.protocol, startedAt);
  return { ...base, response: kafkaLayer7("RESPONSE", resRec, latency), responseSummary: kafkaResponseSummary(resRec) };
}
