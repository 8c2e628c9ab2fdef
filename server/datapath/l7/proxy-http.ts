// HTTP/1.1 and gRPC (HTTP/2) through the proxy: parse the client's bytes, decide, produce the
// upstream's answer or Envoy's refusal, parse that answer and report both records.
//
// Refusals: cilium.l7policy (cilium/proxy cilium/l7policy.cc) answers a denied request with
// sendLocalReply(Http::Code::Forbidden, "Access denied\r\n"). For HTTP/1.1 that is a 403 with the
// text body. For a gRPC request Envoy turns every local reply into a trailers-only response
// (envoy source/common/http/utility.cc, Utility::sendLocalReply, "Respond with a gRPC
// trailers-only response if the request is gRPC"): :status 200, content-type application/grpc,
// grpc-status = Grpc::Utility::httpToGrpcStatus(403) = 7 PERMISSION_DENIED, grpc-message =
// PercentEncoding::encode(body) = "Access denied%0D%0A". The access log entry takes its status
// from those response headers (cilium/accesslog.cc UpdateFromResponse reads :status), so Hubble's
// response record for a refused gRPC call shows code 200, with Grpc-Status 7 among its headers;
// the request record carries the DROPPED verdict.
import { encodeHttp1AccessDenied, encodeHttp1Response } from "./encode/http1";
import { encodeGrpcResponse, protobufString } from "./encode/http2";
import { inspectGrpc, inspectHttp1, type HttpInspection } from "./inspect";
import { parseHttp1Responses } from "./parse/http1";
import { parseHttp2 } from "./parse/http2";
import type { ProxyEnv } from "./proxy-env";
import type { L7Context, L7Outcome } from "./proxy-types";
import { httpLayer7, httpRequestSummary, httpResponseSummary, type HttpRecordInput } from "./records";

/** cilium.l7policy's default denied_403_body_ ("Access denied", CRLF appended) */
const ACCESS_DENIED_BODY = "Access denied\r\n";
/** Envoy's httpToGrpcStatus(403), from grpc's http-grpc-status-mapping */
const GRPC_PERMISSION_DENIED = 7;
/** what Envoy answers a gRPC call whose path it redirects or refuses (HCM docs: INTERNAL) */
const GRPC_INTERNAL = 13;

/** Why a request whose path Envoy answered itself never reached the policy (trace's explanation). */
function pathProblem(insp: HttpInspection): string | undefined {
  if (insp.pathAction === "redirect") return `the path held an escaped slash (%2F or %5C): Envoy redirects the client to ${insp.view.path} instead of forwarding (Cilium's http-normalize-path)`;
  if (insp.pathAction === "reject") return "the path could not be normalized (it holds a NUL): Envoy answers 400 (Cilium's http-normalize-path)";
  return undefined;
}

/** Envoy's local reply (HTTP/1.1) to a path it redirects or refuses: empty body, Location on a redirect
 * (no Date or Server: see encodeHttp1AccessDenied). */
function http1PathReply(insp: HttpInspection): Buffer {
  const headers: [string, string][] = insp.pathAction === "redirect" ? [["location", insp.view.path]] : [];
  return encodeHttp1Response({ code: insp.pathAction === "redirect" ? 307 : 400, headers });
}

function requestRecordInput(insp: HttpInspection, requestId: string): HttpRecordInput & { requestId: string } {
  const v = insp.view;
  const headers: [string, string][] = [[":scheme", v.scheme]];
  for (const [k, val] of v.headers) if (k.toLowerCase() !== "host") headers.push([k, val]);
  if (!v.lower.has("x-request-id")) headers.push(["x-request-id", requestId]);
  // cilium pkg/envoy GetProtocol: HTTP10 → "HTTP/1", HTTP11 → "HTTP/1.1", HTTP2 → "HTTP/2"
  const protocol = v.protocol === "HTTP/1.0" ? "HTTP/1" : v.protocol;
  return { method: v.method, url: `${v.scheme}://${v.authority}${v.path}`, protocol, headers, requestId };
}

/**
 * Response record headers as cilium/accesslog.cc UpdateFromResponse builds them: the request's
 * x-request-id first, then the response HEADERS block without :status. Trailers never reach the
 * access log (cilium.l7policy hooks encodeHeaders only), so an upstream's grpc-status in trailers
 * is not shown; a trailers-only answer carries it in its one header block.
 */
function responseRecordHeaders(requestId: string, headers: [string, string][]): [string, string][] {
  const out: [string, string][] = [["x-request-id", requestId]];
  for (const [k, v] of headers) {
    if (k === ":status") continue;
    if (k.toLowerCase() === "x-request-id" && v === requestId) continue;
    out.push([k, v]);
  }
  return out;
}

function outcome(
  insp: HttpInspection,
  reqRec: HttpRecordInput & { requestId: string },
  status: number,
  responseHeaders: [string, string][],
  latency: bigint,
  bytes: number,
): L7Outcome {
  const resRec: HttpRecordInput = { ...reqRec, headers: responseRecordHeaders(reqRec.requestId, responseHeaders), code: status };
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
  const head = insp.view.method === "HEAD";
  const answer = insp.pathAction !== "continue"
    ? http1PathReply(insp)
    : insp.decision.allowed
    ? encodeHttp1Response({
        code: 200,
        headers: [
          ["content-type", "application/json"],
          ["date", ctx.now.toUTCString()],
          ["x-envoy-upstream-service-time", "1"],
          ["x-request-id", requestId],
        ],
        body: '{"ok":true}',
        chunked: true,
        head,
      })
    : encodeHttp1AccessDenied(head);
  const res = parseHttp1Responses(answer, [head])[0];
  return withPathProblem(insp, outcome(insp, reqRec, res.status!, res.headers, env.latency(ctx.protocol, startedAt), bytes.length));
}

export function handleGrpc(ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, startedAt: bigint): L7Outcome {
  const insp = inspectGrpc(bytes, ctx.grants);
  const requestId = insp.view.lower.get("x-request-id")?.[0] ?? env.requestId();
  const reqRec = requestRecordInput(insp, requestId);
  const answer = insp.pathAction !== "continue"
    ? encodeGrpcResponse({ httpStatus: 200, grpcStatus: GRPC_INTERNAL })
    : insp.decision.allowed
    ? encodeGrpcResponse({
        httpStatus: 200,
        grpcStatus: 0,
        message: protobufString(1, "ok"),
        date: ctx.now,
        extraHeaders: [["x-request-id", requestId]],
      })
    : encodeGrpcResponse({ httpStatus: 200, grpcStatus: GRPC_PERMISSION_DENIED, grpcMessage: ACCESS_DENIED_BODY });
  const { status, headers } = parseGrpcAnswer(answer);
  return withPathProblem(insp, outcome(insp, reqRec, status, headers, env.latency(ctx.protocol, startedAt), bytes.length));
}

/** The :status and header block of a gRPC answer, parsed from the bytes the server (or Envoy) sent. */
export function parseGrpcAnswer(answer: Uint8Array): { status: number; headers: [string, string][] } {
  const conn = parseHttp2(answer, { client: false });
  const headers = [...conn.streams.values()].find((s) => s.headers !== undefined)?.headers ?? [];
  return { status: Number(headers.find(([k]) => k === ":status")?.[1] ?? 0), headers };
}

function withPathProblem(insp: HttpInspection, o: L7Outcome): L7Outcome {
  const problem = pathProblem(insp);
  if (problem) o.error = problem;
  const traceId = traceIdOf(insp.view.lower.get("traceparent")?.[0]);
  if (traceId) o.traceId = traceId;
  return o;
}

/**
 * The trace id of a W3C traceparent ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"), which
 * Hubble puts in trace_context (parser/seven extractTraceContext, through OpenTelemetry's propagator);
 * undefined for a malformed header or the all-zero id the spec calls invalid.
 */
export function traceIdOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/.exec(header.trim());
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return m[2];
}
