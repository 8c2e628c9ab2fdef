// The proxy end to end: spec → bytes → parse → decide → answer bytes → parse → Hubble records.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Policy } from "../../lib/flow/types";
import { createL7Proxy } from "../../server/datapath/l7/proxy";
import type { L7Context, L7Grant } from "../../server/datapath/l7/proxy-types";

const policy: Policy = { name: "payments-api-l7-policy", namespace: "shop", kind: "CiliumNetworkPolicy", revision: "4" };
const grants: L7Grant[] = [
  {
    policy,
    rulePath: "spec.ingress[0].toPorts[0].rules",
    rules: {
      http: [{ method: "GET", path: "/v1/payments/[0-9]+" }, { method: "POST", path: "/payments.v1.Payments/Charge" }],
      kafka: [{ role: "consume", topic: "orders" }],
      dns: [{ matchPattern: "*.github.com" }],
    },
  },
];
const dnsServer = {
  resolve: (name: string) => (name === "api.github.com" ? { ips: ["140.82.112.5", "140.82.112.6"], ttl: 300 } : undefined),
};
const proxy = createL7Proxy({ requestId: () => "req-1", latencyNs: () => 3_000_000n });
const ctx = (protocol: L7Context["protocol"], request: L7Context["request"], g: L7Grant[] | null = grants): L7Context => ({
  protocol,
  request,
  direction: "INGRESS",
  grants: g,
  authority: "payments:8080",
  port: 8080,
  dnsServer,
  now: new Date("2024-01-01T00:00:00Z"),
});

test("HTTP allowed: records, summaries, rule attribution", () => {
  const o = proxy.handle(ctx("http", { http: { method: "GET", path: "/v1/payments/42", headers: { "x-user": "bob" } } }));
  assert.equal(o.allowed, true);
  assert.equal(o.error, undefined);
  assert.deepEqual(o.decidedBy, [policy]);
  assert.equal(o.rule, "spec.ingress[0].toPorts[0].rules.http[0]");
  assert.equal(o.request!.type, "REQUEST");
  assert.equal(o.request!.http?.url, "http://payments:8080/v1/payments/42");
  assert.equal(o.request!.http?.protocol, "HTTP/1.1");
  const keys = o.request!.http?.headers?.map((h) => h.key) ?? [];
  assert.deepEqual(keys, [...keys].sort(), "headers sorted by key");
  assert.ok(keys.includes("X-User"), "canonical header keys");
  assert.equal(o.response?.http?.code, 200);
  assert.equal(o.response?.latency_ns, "3000000");
  assert.equal(o.requestSummary, "HTTP/1.1 GET http://payments:8080/v1/payments/42");
  assert.equal(o.responseSummary, "HTTP/1.1 200 3ms (GET http://payments:8080/v1/payments/42)");
  assert.ok(o.bytes > 40);
});

test("HTTP denied: 403 Access denied, attributed to the policy in force", () => {
  const o = proxy.handle(ctx("http", { http: { method: "GET", path: "/v1/payments" } }));
  assert.equal(o.allowed, false);
  assert.deepEqual(o.response_code, { http_code: 403 });
  assert.equal(o.response?.http?.code, 403);
  assert.deepEqual(o.decidedBy, [policy]);
  assert.equal(o.rule, undefined);
  assert.equal(proxy.handle(ctx("http", { http: { method: "DELETE", path: "/x" } }, null)).allowed, true, "null grants: allow-all");
});

test("gRPC through the HTTP path rule", () => {
  const ok = proxy.handle(ctx("grpc", { grpc: { service: "payments.v1.Payments", method: "Charge" } }));
  assert.equal(ok.allowed, true);
  assert.equal(ok.request!.http?.protocol, "HTTP/2");
  assert.equal(ok.request!.http?.url, "http://payments:8080/payments.v1.Payments/Charge");
  // the access log sees response headers only: the upstream's grpc-status (a trailer) is not shown
  assert.ok(!ok.response?.http?.headers?.some((h) => h.key === "Grpc-Status"));
  const okId = ok.request!.http?.headers?.find((h) => h.key === "X-Request-Id")?.value;
  assert.ok(okId && ok.response?.http?.headers?.filter((h) => h.key === "X-Request-Id").map((h) => h.value).join() === okId);
  // Envoy answers a refused gRPC call trailers-only: :status 200, grpc-status 7, the 403 body
  // percent-encoded as grpc-message; the access log (and so Hubble) takes code 200 from :status
  const no = proxy.handle(ctx("grpc", { grpc: { service: "payments.v1.Payments", method: "Refund" } }));
  assert.equal(no.allowed, false);
  assert.deepEqual(no.decidedBy, [policy]);
  assert.equal(no.response_code.http_code, 200);
  assert.equal(no.response?.http?.code, 200);
  const hdr = (k: string) => no.response?.http?.headers?.find((h) => h.key === k)?.value;
  assert.equal(hdr("Grpc-Status"), "7");
  assert.equal(hdr("Grpc-Message"), "Access denied%0D%0A");
  assert.equal(hdr("Content-Type"), "application/grpc");
  assert.equal(hdr("X-Request-Id"), no.request!.http?.headers?.find((h) => h.key === "X-Request-Id")?.value, "request id carried over");
  assert.match(no.responseSummary ?? "", /^HTTP\/2 200 \d+ms \(POST http:\/\/payments:8080\/payments\.v1\.Payments\/Refund\)$/);
  assert.equal(no.request!.latency_ns, undefined, "latency only on the response");
  assert.ok(no.response?.latency_ns !== undefined);
});

test("Kafka: consume allowed, produce refused with 29", () => {
  const ok = proxy.handle(ctx("kafka", { kafka: { apiKey: "fetch", apiVersion: 11, topics: ["orders"], clientId: "c" } }));
  assert.equal(ok.allowed, true);
  assert.deepEqual(ok.request!.kafka, { api_version: 11, api_key: "fetch", correlation_id: ok.request!.kafka?.correlation_id, topic: "orders" });
  assert.match(ok.requestSummary, /^Kafka request fetch correlation id \d+ topic 'orders'$/);
  assert.match(ok.responseSummary ?? "", /return code 0$/);
  const no = proxy.handle(ctx("kafka", { kafka: { apiKey: "produce", topics: ["orders"] } }));
  assert.equal(no.allowed, false);
  assert.deepEqual(no.response_code, { kafka_error_code: 29 });
  assert.equal(no.response, undefined, "Cilium logs a refused Kafka request as one record");
  assert.equal(no.request!.kafka?.api_key, "produce");
});

test("DNS: allowed answer feeds dnsAnswer; unknown → NXDOMAIN; refused → REFUSED", () => {
  const ok = proxy.handle(ctx("dns", { dns: { query: "API.github.com" } }));
  assert.equal(ok.allowed, true);
  assert.deepEqual(ok.request!.dns, { query: "api.github.com.", observation_source: "proxy", qtypes: ["A"] });
  assert.deepEqual(ok.response?.dns, { query: "api.github.com.", ips: ["140.82.112.5", "140.82.112.6"], ttl: 300, observation_source: "proxy", qtypes: ["A"], rrtypes: ["A", "A"] });
  assert.deepEqual(ok.dnsAnswer, { query: "api.github.com.", ips: ["140.82.112.5", "140.82.112.6"], ttl: 300 });
  assert.equal(ok.responseSummary, 'DNS Answer "140.82.112.5,140.82.112.6" TTL: 300 (Proxy api.github.com. A)');
  const nx = proxy.handle(ctx("dns", { dns: { query: "nope.github.com" } }));
  assert.equal(nx.response_code.dns_rcode, "NXDOMAIN");
  assert.equal(nx.dnsAnswer, undefined);
  assert.equal(nx.response?.dns?.rcode, 3);
  const no = proxy.handle(ctx("dns", { dns: { query: "evil.com", type: "AAAA" } }));
  assert.equal(no.allowed, false);
  assert.equal(no.response_code.dns_rcode, "REFUSED");
  assert.equal(no.requestSummary, "DNS Query evil.com. AAAA");
});

test("malformed bytes and unusable specs give an error outcome, never an exception", () => {
  const h = proxy.handleBytes(ctx("http", {}), Buffer.from("GET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"));
  assert.equal(h.allowed, false);
  assert.match(h.error ?? "", /^http: truncated body/);
  const k = proxy.handleBytes(ctx("kafka", {}), Buffer.from([0, 0, 0, 2, 0]));
  assert.match(k.error ?? "", /^kafka: /);
  const d = proxy.handleBytes(ctx("dns", {}), Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]));
  assert.match(d.error ?? "", /compression pointer loop/);
  const g = proxy.handleBytes(ctx("grpc", {}), Buffer.from("nonsense"));
  assert.match(g.error ?? "", /^http2: /);
  const spec = proxy.handle(ctx("kafka", { kafka: { apiKey: "bogus" } }));
  assert.match(spec.error ?? "", /unknown apiKey "bogus"/);
  const missing = proxy.handle(ctx("dns", { http: { method: "GET", path: "/" } }));
  assert.match(missing.error ?? "", /no dns part/);
  const bad = proxy.handle({ ...ctx("http", { http: { method: "GET", path: "/" } }), grants: [{ policy, rulePath: "r", rules: { http: [{ path: "(" }] } }] });
  assert.match(bad.error ?? "", /invalid regular expression/);
});
