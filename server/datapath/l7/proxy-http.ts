// HTTP/1.1 and gRPC (HTTP/2) through the proxy: parse the client's bytes, decide, produce the
// upstream's answer or Envoy's refusal (403 "Access denied"; for gRPC a trailers-only answer with
// grpc-status 7 PERMISSION_DENIED), parse that answer and report both records.
import { encodeHttp1AccessDenied, encodeHttp1Response } from "./encode/http1";
import { encodeGrpcResponse, protobufString } from "./encode/http2";
import { inspectGrpc, inspectHttp1, type HttpInspection } from "./inspect";
import { parseHttp1Responses } from "./parse/http1";
import { parseHttp2 } from "./parse/http2";
import type { ProxyEnv } from "./proxy-env";
import type { L7Context, L7Outcome } from "./proxy-types";
import { httpLayer7, httpRequestSummary, httpResponseSummary, type HttpRecordInput } from "./records";

function requestRecordInput(insp: HttpInspection, requestId: string): HttpRecordInput {
  const v = insp.view;
  const headers: [string, string][] = [[":scheme", v.scheme]];
  for (const [k, val] of v.headers) if (k.toLowerCase() !== "host") headers.push([k, val]);
  if (!v.lower.has("x-request-id")) headers.push(["x-request-id", requestId]);
  return { method: v.method, url: `${v.scheme}://${v.authority}${v.path}`, protocol: v.protocol, headers };
}

function outcome(
  insp: HttpInspection,
  reqRec: HttpRecordInput,
  status: number,
  responseHeaders: [string, string][],
  latency: bigint,
  bytes: number,
): L7Outcome {
  const resRec: HttpRecordInput = { ...reqRec, headers: responseHeaders, code: status };
  return {
    allowed: insp.decision.allowed,
    request: httpLayer7("REQUEST", reqRec),
    response: httpLayer7("RESPONSE", resRec, latency),
    requestSummary: httpRequestSummary(reqRec),
    responseSummary: httpResponseSummary(resRec, latency),
    decidedBy: insp.decision.decidedBy,
    rule: insp.decision.rule,
    response_code: { http_code: status },
    bytes,
  };
}

export function handleHttp1(ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, startedAt: bigint): L7Outcome {
  const insp = inspectHttp1(bytes, ctx.grants, ctx.authority);
  const requestId = insp.view.lower.get("x-request-id")?.[0] ?? env.requestId();
  const reqRec = requestRecordInput(insp, requestId);
  const answer = insp.decision.allowed
    ? encodeHttp1Response({
        code: 200,
        headers: [
          ["content-type", "application/json"],
          ["date", ctx.now.toUTCString()],
          ["server", "envoy"],
          ["x-envoy-upstream-service-time", "1"],
          ["x-request-id", requestId],
        ],
        body: '{"ok":true}',
        chunked: true,
      })
    : encodeHttp1AccessDenied(ctx.now);
  const res = parseHttp1Responses(answer, [insp.view.method === "HEAD"])[0];
  return outcome(insp, reqRec, res.status!, res.headers, env.latency(ctx.protocol, startedAt), bytes.length);
}

export function handleGrpc(ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, startedAt: bigint): L7Outcome {
  const insp = inspectGrpc(bytes, ctx.grants);
  const requestId = insp.view.lower.get("x-request-id")?.[0] ?? env.requestId();
  const reqRec = requestRecordInput(insp, requestId);
  const answer = insp.decision.allowed
    ? encodeGrpcResponse({
        httpStatus: 200,
        grpcStatus: 0,
        message: protobufString(1, "ok"),
        date: ctx.now,
        extraHeaders: [["x-request-id", requestId]],
      })
    : encodeGrpcResponse({ httpStatus: 403, grpcStatus: 7, grpcMessage: "Access denied", date: ctx.now });
  const conn = parseHttp2(answer, { client: false });
  const stream = [...conn.streams.values()].find((s) => s.headers !== undefined);
  const headers = stream?.headers ?? [];
  const status = Number(headers.find(([k]) => k === ":status")?.[1] ?? 0);
  const shown = [...headers.filter(([k]) => !k.startsWith(":")), ...(stream?.trailers ?? [])];
  return outcome(insp, reqRec, status, shown, env.latency(ctx.protocol, startedAt), bytes.length);
}
