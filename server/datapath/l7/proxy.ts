// The L7 proxy the datapath redirects to (contract: proxy-types.ts). For each request it
// generates the bytes a real client would send, then handles only those bytes: parse, enforce
// the L7 rules, produce and parse the answer, report Hubble-shaped records. Anything that cannot
// be encoded or parsed becomes an outcome with `error` set and the request refused, never an
// exception out of handle().
import { encodeDnsQuery } from "./encode/dns";
import { encodeHttp1Request } from "./encode/http1";
import { encodeGrpcRequest } from "./encode/http2";
import { encodeKafkaRequest } from "./encode/kafka";
import { L7ParseError } from "./errors";
import { createEnv, type L7ProxyOptions, type ProxyEnv } from "./proxy-env";
import { handleDns } from "./proxy-dns";
import { handleGrpc, handleHttp1 } from "./proxy-http";
import { handleKafka } from "./proxy-kafka";
import type { L7Context, L7Outcome, L7Protocol, L7Proxy } from "./proxy-types";
import type { Layer7 } from "../../../lib/flow/types";

export type { L7ProxyOptions } from "./proxy-env";

export interface L7ProxyWithBytes extends L7Proxy {
  /** Handle bytes supplied by the caller (malformed-traffic scenarios, tests) instead of encoding ctx.request. */
  handleBytes(ctx: L7Context, bytes: Uint8Array): L7Outcome;
  /** The bytes handle() would send for ctx.request (throws on an unusable request spec). */
  encodeRequest(ctx: L7Context): Buffer;
}

type Handler = (ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, startedAt: bigint) => L7Outcome;
const HANDLERS: Record<L7Protocol, Handler> = { http: handleHttp1, grpc: handleGrpc, kafka: handleKafka, dns: handleDns };

function encode(ctx: L7Context, env: ProxyEnv): Buffer {
  const r = ctx.request;
  switch (ctx.protocol) {
    case "http":
      if (!r.http) throw new Error("request has no http part for an HTTP port");
      return encodeHttp1Request(r.http, { authority: ctx.authority });
    case "grpc":
      if (r.grpc) return encodeGrpcRequest(r.grpc, { authority: ctx.authority });
      throw new Error("request has no grpc part for a gRPC port");
    case "kafka":
      if (!r.kafka) throw new Error("request has no kafka part for a Kafka port");
      return encodeKafkaRequest(r.kafka, { correlationId: env.nextCorrelationId() });
    case "dns":
      if (!r.dns) throw new Error("request has no dns part for a DNS port");
      if (!r.dns.query) throw new Error("dns request needs a query name");
      return encodeDnsQuery(env.nextDnsId(), { name: r.dns.query, type: r.dns.type ?? "A" });
    default:
      throw new Error(`unknown L7 protocol ${JSON.stringify(ctx.protocol)}`);
  }
}

function emptyRecord(protocol: L7Protocol): Layer7 {
  switch (protocol) {
    case "http":
      return { type: "REQUEST", http: { protocol: "HTTP/1.1" } };
    case "grpc":
      return { type: "REQUEST", http: { protocol: "HTTP/2" } };
    case "kafka":
      return { type: "REQUEST", kafka: {} };
    default:
      return { type: "REQUEST", dns: { observation_source: "proxy" } };
  }
}

function errorOutcome(ctx: L7Context, e: unknown, bytes: number): L7Outcome {
  const message = e instanceof Error ? e.message : String(e);
  const label = ctx.protocol === "grpc" ? "gRPC" : ctx.protocol.toUpperCase();
  const response_code = ctx.protocol === "http" && e instanceof L7ParseError ? { http_code: 400 } : {};
  return {
    allowed: false,
    request: emptyRecord(ctx.protocol),
    requestSummary: `${label} request could not be parsed: ${message}`,
    decidedBy: [],
    response_code,
    error: message,
    bytes,
  };
}

export function createL7Proxy(opts: L7ProxyOptions = {}): L7ProxyWithBytes {
  const env = createEnv(opts);
  const handleBytes = (ctx: L7Context, bytes: Uint8Array, startedAt = process.hrtime.bigint()): L7Outcome => {
    const handler = HANDLERS[ctx.protocol];
    if (!handler) return errorOutcome(ctx, new Error(`unknown L7 protocol ${JSON.stringify(ctx.protocol)}`), bytes.length);
    try {
      return handler(ctx, bytes, env, startedAt);
    } catch (e) {
      return errorOutcome(ctx, e, bytes.length);
    }
  };
  return {
    handle(ctx) {
      const startedAt = process.hrtime.bigint();
      let bytes: Buffer;
      try {
        bytes = encode(ctx, env);
      } catch (e) {
        return errorOutcome(ctx, e, 0);
      }
      return handleBytes(ctx, bytes, startedAt);
    },
    handleBytes: (ctx, bytes) => handleBytes(ctx, bytes),
    encodeRequest: (ctx) => encode(ctx, env),
  };
}
