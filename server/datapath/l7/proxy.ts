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
import { relayAnswer } from "./proxy-relay";
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

function encodeFresh(ctx: L7Context, env: ProxyEnv, id: number): Buffer {
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
      return encodeKafkaRequest(r.kafka, { correlationId: id });
    case "dns":
      if (!r.dns) throw new Error("request has no dns part for a DNS port");
      if (!r.dns.query) throw new Error("dns request needs a query name");
      return encodeDnsQuery(id, { name: r.dns.query, type: r.dns.type ?? "A" });
    default:
      throw new Error(`unknown L7 protocol ${JSON.stringify(ctx.protocol)}`);
  }
}

/**
 * What identifies the bytes of a request: everything encodeFresh reads except the per-request id
 * (Kafka correlation id, DNS id), which is patched into a copy. undefined: do not cache.
 */
function encodingKey(ctx: L7Context): string | undefined {
  const r = ctx.request;
  switch (ctx.protocol) {
    case "http":
      return r.http ? JSON.stringify(["http", ctx.authority, r.http]) : undefined;
    case "grpc":
      return r.grpc ? JSON.stringify(["grpc", ctx.authority, r.grpc]) : undefined;
    case "kafka":
      return r.kafka ? JSON.stringify(["kafka", r.kafka]) : undefined;
    case "dns":
      return r.dns ? JSON.stringify(["dns", r.dns]) : undefined;
    default:
      return undefined;
  }
}

// where the per-request id sits in the encoded bytes (Kafka request header: size, api key, api
// version, correlation id; DNS header: id first)
const KAFKA_CORRELATION_OFFSET = 8;
const DNS_ID_OFFSET = 0;
/** distinct request shapes kept; traffic entries are a few dozen, `trace` adds one each */
const ENCODING_CACHE_MAX = 4096;

/**
 * The bytes a client sends for ctx.request. The same request spec always encodes to the same
 * bytes apart from its id, so the encoding is kept per spec and every request gets a fresh copy
 * with its own id: the parsers still read real bytes each time, never a shared buffer.
 */
function encoder(env: ProxyEnv): (ctx: L7Context) => Buffer {
  const cache = new Map<string, Buffer>();
  return (ctx) => {
    // ids are drawn exactly when encodeFresh would draw them, so the sequence does not change
    const r = ctx.request;
    const id = ctx.protocol === "kafka" && r.kafka ? env.nextCorrelationId() : ctx.protocol === "dns" && r.dns?.query ? env.nextDnsId() : 0;
    const key = encodingKey(ctx);
    const template = key === undefined ? undefined : cache.get(key);
    if (template === undefined) {
      const fresh = encodeFresh(ctx, env, id);
      if (key !== undefined) {
        if (cache.size >= ENCODING_CACHE_MAX) cache.clear();
        cache.set(key, Buffer.from(fresh));
      }
      return fresh;
    }
    const bytes = Buffer.from(template);
    if (ctx.protocol === "kafka") bytes.writeInt32BE(id, KAFKA_CORRELATION_OFFSET);
    else if (ctx.protocol === "dns") bytes.writeUInt16BE(id, DNS_ID_OFFSET);
    return bytes;
  };
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
  const encode = encoder(env);
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
      let bytes: Uint8Array;
      try {
        bytes = ctx.forwardedBytes ?? encode(ctx);
      } catch (e) {
        return errorOutcome(ctx, e, 0);
      }
      const out = handleBytes(ctx, bytes, startedAt);
      if (out.allowed && (ctx.protocol === "kafka" || ctx.protocol === "dns")) out.forwarded = bytes;
      return out;
    },
    relay: relayAnswer,
    handleBytes: (ctx, bytes) => handleBytes(ctx, bytes),
    encodeRequest: (ctx) => encode(ctx),
  };
}
