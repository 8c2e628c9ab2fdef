// What a proxy that allowed a request logs and answers when the server's answer never comes back:
// the next proxy on the path refused the request, or the upstream connection was dropped at L3/L4.
//
// Envoy opens its own connection to the destination; when the destination's policy drops that SYN,
// the connect attempt times out and the router answers the client itself with a 503 local reply
// ("upstream connect error or disconnect/reset before headers. reset reason: connection timeout"),
// which passes cilium.l7policy's encodeHeaders and is logged like any response. A gRPC request gets
// that reply as trailers-only (:status 200, grpc-status httpToGrpcStatus(503) = 14 UNAVAILABLE), as
// for the 403 in proxy-http.ts. Kafka and DNS proxies have no answer of their own for a lost
// upstream: the client's request goes unanswered, and Cilium's DNS proxy logs no record for a
// forwarded query that timed out.
//
// A refusal by the next proxy is an ordinary upstream answer to this one: it logs the same status
// and headers under its own X-Request-Id (HTTP), or the reply by correlation id alone (Kafka, as
// proxy-kafka.ts logs every reply).
import type { HTTPHeader, Layer7 } from "../../../lib/flow/types";
import { encodeHttp1Response } from "./encode/http1";
import { encodeGrpcResponse } from "./encode/http2";
import { parseHttp1Responses } from "./parse/http1";
import { parseGrpcAnswer } from "./proxy-http";
import type { L7Context, L7Outcome, RelayedAnswer, UpstreamFailure } from "./proxy-types";
import { httpLayer7, httpResponseSummary, type HttpRecordInput } from "./records";

/** How long Envoy waits for the upstream connection: Cilium's envoy.connectTimeoutSeconds default, 2 s. */
export const UPSTREAM_CONNECT_TIMEOUT_NS = 2_000_000_000n;
const CONNECT_TIMEOUT_BODY = "upstream connect error or disconnect/reset before headers. reset reason: connection timeout";
/** Envoy's httpToGrpcStatus(503) */
const GRPC_UNAVAILABLE = 14;

export function relayAnswer(ctx: L7Context, forwarded: L7Outcome, upstream: UpstreamFailure): RelayedAnswer {
  switch (ctx.protocol) {
    case "http":
    case "grpc":
      return relayHttp(ctx, forwarded, upstream);
    case "kafka":
      if (upstream.kind === "unreachable") return { response_code: {} };
      // the refusing proxy injected an error answer (or dropped a request it cannot answer)
      if (upstream.by.response_code.kafka_error_code === undefined) return { response_code: {} };
      return { response: forwarded.response, responseSummary: forwarded.responseSummary, response_code: upstream.by.response_code };
    case "dns":
      if (upstream.kind === "unreachable") return { response_code: {} };
      return { response: upstream.by.response, responseSummary: upstream.by.responseSummary, response_code: upstream.by.response_code };
  }
}

function relayHttp(ctx: L7Context, forwarded: L7Outcome, upstream: UpstreamFailure): RelayedAnswer {
  const req = forwarded.request?.http;
  if (!req) return { response_code: upstream.kind === "refused" ? upstream.by.response_code : {} };
  const requestId = headerValue(req.headers, "X-Request-Id");
  let status: number;
  let headers: [string, string][];
  let latency: bigint;
  if (upstream.kind === "refused") {
    const inner = upstream.by.response?.http;
    if (!inner) return { response_code: upstream.by.response_code };
    status = inner.code ?? 0;
    headers = (inner.headers ?? []).filter((h) => h.key !== "X-Request-Id").map((h) => [h.key, h.value]);
    // the refusal reached this proxy after the next one had answered: never sooner than its latency
    const own = BigInt(forwarded.response?.latency_ns ?? "0");
    const theirs = BigInt(upstream.by.response?.latency_ns ?? "0");
    latency = own > theirs ? own : theirs + 1_000_000n;
  } else {
    ({ status, headers } = ctx.protocol === "grpc" ? grpcConnectTimeoutReply() : http1ConnectTimeoutReply());
    latency = UPSTREAM_CONNECT_TIMEOUT_NS;
  }
  const rec: HttpRecordInput = {
    method: req.method ?? "",
    url: req.url ?? "",
    protocol: req.protocol ?? "",
    headers: [...(requestId === undefined ? [] : [["x-request-id", requestId] as [string, string]]), ...headers.filter(([k]) => k !== ":status")],
    code: status,
  };
  const response: Layer7 = httpLayer7("RESPONSE", rec, latency);
  return { response, responseSummary: httpResponseSummary(rec, latency), response_code: { http_code: status } };
}

function headerValue(headers: HTTPHeader[] | undefined, key: string): string | undefined {
  return headers?.find((h) => h.key === key)?.value;
}

/** Envoy's 503 local reply, as the bytes it writes and the status and headers parsed back from them */
function http1ConnectTimeoutReply(): { status: number; headers: [string, string][] } {
  const bytes = encodeHttp1Response({ code: 503, headers: [["content-type", "text/plain"]], body: CONNECT_TIMEOUT_BODY });
  const res = parseHttp1Responses(bytes, [false])[0]!;
  return { status: res.status!, headers: res.headers };
}

function grpcConnectTimeoutReply(): { status: number; headers: [string, string][] } {
  return parseGrpcAnswer(encodeGrpcResponse({ httpStatus: 200, grpcStatus: GRPC_UNAVAILABLE, grpcMessage: CONNECT_TIMEOUT_BODY }));
}
