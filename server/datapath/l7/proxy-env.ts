// Per-proxy state and knobs shared by the protocol handlers.
import { randomUUID } from "node:crypto";
import type { L7Protocol } from "./proxy-types";

export interface L7ProxyOptions {
  /** X-Request-Id that Envoy adds to requests (and echoes in responses); default random UUID */
  requestId?: () => string;
  /** simulated upstream latency in ns; default: the time the proxy itself took */
  latencyNs?: (protocol: L7Protocol) => bigint;
  /** answer to a refused DNS query (Cilium --tofqdns-dns-reject-response-code); default "refused" */
  dnsRejectResponseCode?: "refused" | "nameError";
}

export interface ProxyEnv {
  requestId(): string;
  nextCorrelationId(): number;
  nextDnsId(): number;
  latency(protocol: L7Protocol, startedAt: bigint): bigint;
  dnsRejectRcode: number;
}

export function createEnv(opts: L7ProxyOptions): ProxyEnv {
  let correlation = 0;
  let dnsId = 0;
  return {
    requestId: opts.requestId ?? (() => randomUUID()),
    nextCorrelationId: () => (correlation = (correlation % 0x7fffffff) + 1),
    nextDnsId: () => (dnsId = (dnsId + 1) & 0xffff),
    latency: (protocol, startedAt) => (opts.latencyNs ? opts.latencyNs(protocol) : process.hrtime.bigint() - startedAt),
    dnsRejectRcode: opts.dnsRejectResponseCode === "nameError" ? 3 : 5,
  };
}
