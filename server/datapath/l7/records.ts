// Layer7 records and Summary strings in the shapes Hubble produces (pkg/hubble/parser/seven):
// keys in proto order, zero values and empty lists left out as protojson does, HTTP headers in
// Go's canonical form sorted by key, DNS/Kafka fields as the access log fills them.
import type { DNS, HTTP, HTTPHeader, Kafka, Layer7 } from "../../../lib/flow/types";
import { dnsTypeName, rcodeText } from "./dns-constants";

/** Go textproto.CanonicalMIMEHeaderKey: "x-request-id" → "X-Request-Id"; odd names unchanged. */
export function canonicalHeaderKey(k: string): string {
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45;
    if (!ok) return k;
  }
  let out = "";
  let upper = true;
  for (let i = 0; i < k.length; i++) {
    const ch = k[i];
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === "-";
  }
  return out;
}

export function recordHeaders(headers: [string, string][]): HTTPHeader[] {
  const out = headers.map(([k, v]) => ({ key: canonicalHeaderKey(k), value: v }));
  // stable sort by key in byte order, as Go's sort.Strings over the header map keys
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface HttpRecordInput {
  method: string;
  url: string;
  protocol: string;
  headers: [string, string][];
  code?: number;
}

export function httpLayer7(type: "REQUEST" | "RESPONSE", h: HttpRecordInput, latencyNs?: bigint): Layer7 {
  const http: HTTP = {};
  if (type === "RESPONSE" && h.code) http.code = h.code;
  http.method = h.method;
  http.url = h.url;
  http.protocol = h.protocol;
  const headers = recordHeaders(h.headers);
  if (headers.length) http.headers = headers;
  const l7: Layer7 = { type };
  if (type === "RESPONSE" && latencyNs !== undefined && latencyNs > 0n) l7.latency_ns = latencyNs.toString();
  l7.http = http;
  return l7;
}

export function httpRequestSummary(h: HttpRecordInput): string {
  return `${h.protocol} ${h.method} ${h.url}`;
}

export function httpResponseSummary(h: HttpRecordInput, latencyNs: bigint): string {
  return `${h.protocol} ${h.code ?? 0} ${latencyNs / 1000000n}ms (${h.method} ${h.url})`;
}

export interface DnsRecordInput {
  query: string;
  qtypes: number[];
  ips?: string[];
  ttl?: number;
  cnames?: string[];
  rcode?: number;
  rrtypes?: number[];
}

export function dnsLayer7(type: "REQUEST" | "RESPONSE", d: DnsRecordInput, latencyNs?: bigint): Layer7 {
  const dns: DNS = { query: d.query };
  if (type === "RESPONSE") {
    if (d.ips?.length) dns.ips = d.ips;
    if (d.ttl) dns.ttl = d.ttl;
    if (d.cnames?.length) dns.cnames = d.cnames;
  }
  dns.observation_source = "proxy";
  if (type === "RESPONSE" && d.rcode) dns.rcode = d.rcode;
  if (d.qtypes.length) dns.qtypes = d.qtypes.map(dnsTypeName);
  if (type === "RESPONSE" && d.rrtypes?.length) dns.rrtypes = d.rrtypes.map(dnsTypeName);
  const l7: Layer7 = { type };
  if (type === "RESPONSE" && latencyNs !== undefined && latencyNs > 0n) l7.latency_ns = latencyNs.toString();
  l7.dns = dns;
  return l7;
}

export function dnsRequestSummary(d: DnsRecordInput): string {
  return `DNS Query ${d.query} ${d.qtypes.map(dnsTypeName).join(",")}`;
}

export function dnsResponseSummary(d: DnsRecordInput): string {
  let answer: string;
  if (d.rcode) answer = `RCode: ${rcodeText(d.rcode)}`;
  else {
    const parts: string[] = [];
    if (d.ips?.length) parts.push(JSON.stringify(d.ips.join(",")));
    if (d.cnames?.length) parts.push(`CNAMEs: ${JSON.stringify(d.cnames.join(","))}`);
    answer = parts.join(" ");
  }
  return `DNS Answer ${answer} TTL: ${d.ttl ?? 0} (Proxy ${d.query} ${d.qtypes.map(dnsTypeName).join(",")})`;
}

export interface KafkaRecordInput {
  apiKey: string;
  apiVersion: number;
  correlationId: number;
  topic: string;
  errorCode?: number;
}

export function kafkaLayer7(type: "REQUEST" | "RESPONSE", k: KafkaRecordInput, latencyNs?: bigint): Layer7 {
  const kafka: Kafka = {};
  // a refused request is logged with the error the proxy answered (29), as the reply would be
  if (k.errorCode) kafka.error_code = k.errorCode;
  if (k.apiVersion) kafka.api_version = k.apiVersion;
  kafka.api_key = k.apiKey;
  if (k.correlationId) kafka.correlation_id = k.correlationId;
  if (k.topic) kafka.topic = k.topic;
  const l7: Layer7 = { type };
  if (type === "RESPONSE" && latencyNs !== undefined && latencyNs > 0n) l7.latency_ns = latencyNs.toString();
  l7.kafka = kafka;
  return l7;
}

export function kafkaRequestSummary(k: KafkaRecordInput): string {
  return `Kafka request ${k.apiKey} correlation id ${k.correlationId} topic '${k.topic}'`;
}

export function kafkaResponseSummary(k: KafkaRecordInput): string {
  return `Kafka response ${k.apiKey} correlation id ${k.correlationId} topic '${k.topic}' return code ${k.errorCode ?? 0}`;
}
