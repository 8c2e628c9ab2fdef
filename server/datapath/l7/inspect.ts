// Parse the bytes a client sent and decide on them: the unit of work the proxy does per request
// (and what the benchmark measures). Nothing here looks at the request spec; only at bytes.
import { fail } from "./errors";
import { indexHeaders, type HttpRequestView } from "./http-message";
import { decideDns, decideHttp, decideKafka, type L7Decision } from "./match/decide";
import { parseDnsMessage, type DnsMessage } from "./parse/dns";
import { parseHttp1Requests } from "./parse/http1";
import { countGrpcMessages, parseHttp2, streamBody, type Http2Stream } from "./parse/http2";
import { normalizeRequestPath, type PathAction } from "./path-normalize";
import { parseKafkaRequests, type KafkaRequest } from "./parse/kafka";
import type { L7Grant } from "./proxy-types";

export interface HttpInspection {
  view: HttpRequestView;
  decision: L7Decision;
  /** gRPC: number of length-prefixed messages in the request body */
  grpcMessages?: number;
  /** what Envoy did with the path before policy (path-normalize.ts); not "continue": never forwarded */
  pathAction: PathAction;
}

/** Rules see the path Envoy hands on; a path Envoy answers itself never reaches them. */
function decideNormalized(grants: L7Grant[] | null, view: HttpRequestView): { decision: L7Decision; pathAction: PathAction } {
  const norm = normalizeRequestPath(view.path);
  view.path = norm.path;
  if (norm.action !== "continue") return { decision: { allowed: false, decidedBy: [] }, pathAction: norm.action };
  return { decision: decideHttp(grants, view), pathAction: "continue" };
}

export function inspectHttp1(bytes: Uint8Array, grants: L7Grant[] | null, defaultAuthority: string): HttpInspection {
  const msg = parseHttp1Requests(bytes)[0];
  const lower = indexHeaders(msg.headers);
  const view: HttpRequestView = {
    method: msg.method!,
    path: msg.target!,
    authority: lower.get("host")?.[0] ?? defaultAuthority,
    scheme: "http",
    protocol: msg.version,
    headers: msg.headers,
    lower,
  };
  return { view, ...decideNormalized(grants, view) };
}

export function inspectGrpc(bytes: Uint8Array, grants: L7Grant[] | null): HttpInspection {
  const conn = parseHttp2(bytes, { client: true });
  let stream: Http2Stream | undefined;
  for (const s of conn.streams.values()) {
    if (s.headers !== undefined) {
      stream = s;
      break;
    }
  }
  if (!stream) fail("http2", bytes.length, "no request HEADERS on any stream");
  // one pass: pseudo-headers come first (checked by the parser), the rest are the regular ones
  const fields = stream.headers!;
  let method: string | undefined;
  let path: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let i = 0;
  for (; i < fields.length; i++) {
    const [k, v] = fields[i];
    if (k.charCodeAt(0) !== 58 /* ":" */) break;
    if (k === ":method") method ??= v;
    else if (k === ":path") path ??= v;
    else if (k === ":scheme") scheme ??= v;
    else if (k === ":authority") authority ??= v;
  }
  if (!method) fail("http2", 0, `stream ${stream.id}: missing :method`);
  if (!path) fail("http2", 0, `stream ${stream.id}: missing :path`);
  if (!scheme) fail("http2", 0, `stream ${stream.id}: missing :scheme`);
  const regular = i === 0 ? fields : fields.slice(i);
  const lower = indexHeaders(regular);
  authority ??= lower.get("host")?.[0] ?? "";
  let grpcMessages: number | undefined;
  if ((lower.get("content-type")?.[0] ?? "").startsWith("application/grpc")) {
    grpcMessages = countGrpcMessages(streamBody(stream));
  }
  const view: HttpRequestView = { method, path, authority, scheme, protocol: "HTTP/2", headers: regular, lower };
  return { view, ...decideNormalized(grants, view), grpcMessages };
}

export interface KafkaInspection {
  request: KafkaRequest;
  decision: L7Decision;
}

export function inspectKafka(bytes: Uint8Array, grants: L7Grant[] | null): KafkaInspection {
  const request = parseKafkaRequests(bytes)[0];
  return { request, decision: decideKafka(grants, request) };
}

export interface DnsInspection {
  message: DnsMessage;
  qname: string;
  qtype: number;
  decision: L7Decision;
}

export function inspectDns(bytes: Uint8Array, grants: L7Grant[] | null): DnsInspection {
  const message = parseDnsMessage(bytes);
  if (message.qr) fail("dns", 2, "expected a query, got a response (QR=1)");
  if (message.opcode !== 0) fail("dns", 2, `unsupported opcode ${message.opcode}`);
  if (message.questions.length !== 1) fail("dns", 4, `expected exactly one question, got ${message.questions.length}`);
  const q = message.questions[0];
  return { message, qname: q.name, qtype: q.type, decision: decideDns(grants, q.name) };
}

