// A request the source's egress proxy allowed and forwarded can still fail on the destination's side.
// Envoy's own upstream connection is what the destination's policy drops, so the client gets Envoy's
// 503 local reply after the connect timeout (gRPC: trailers-only, grpc-status 14), never the
// server's 200; Kafka and DNS clients get no answer, and a DNS answer that never came teaches
// toFQDNs nothing. A refusal by the destination's proxy comes back through the egress proxy, which
// logs it as its own response. Kafka and DNS requests pass the first proxy unchanged, so the second
// sees the same correlation id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace } from "./helpers";
import type { FlowEnvelope } from "../../lib/flow/types";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - name: server
    namespace: default
    labels: { app: server }
    ports:
      - { name: http, port: 80, protocol: TCP, app: http }
      - { name: grpc, port: 50051, protocol: TCP, app: grpc }
      - { name: kafka, port: 9092, protocol: TCP, app: kafka }
dns:
  - { name: api.example.com, ips: [93.184.216.34], ttl: 60 }
`;

/** the client may send GET over HTTP, any gRPC call, Kafka produce and DNS lookups, each through its egress proxy */
const CLIENT_EGRESS = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: client-egress, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: client } }
  egress:
  - toEndpoints: [{ matchLabels: { app: server } }]
    toPorts:
    - ports: [{ port: "80", protocol: TCP }]
      rules: { http: [{ method: GET }] }
    - ports: [{ port: "50051", protocol: TCP }]
      rules: { http: [{ method: POST }] }
    - ports: [{ port: "9092", protocol: TCP }]
      rules: { kafka: [{ role: produce }] }
  - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
  - toFQDNs: [{ matchName: api.example.com }]
    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
`;
/** the server takes nothing: default deny on ingress */
const SERVER_CLOSED = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: server-closed, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: server } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: nobody } }]
`;
/** kube-dns takes nothing either */
const DNS_CLOSED = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: dns-closed, namespace: kube-system }
spec:
  endpointSelector: { matchLabels: { k8s-app: kube-dns } }
  ingressDeny:
  - fromEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: default } }]
`;
/** the server's own proxy: /a only, and produce to topic "ok" only */
const SERVER_L7 = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: server-l7, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: server } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts:
    - ports: [{ port: "80", protocol: TCP }]
      rules: { http: [{ path: /a }] }
    - ports: [{ port: "9092", protocol: TCP }]
      rules: { kafka: [{ role: produce, topic: ok }] }
`;

const l7 = (flows: FlowEnvelope[]) => flows.filter((f) => f.flow.Type === "L7").map((f) => `${f.flow.traffic_direction} ${f.flow.l7?.type} ${f.flow.verdict}`);
const responses = (flows: FlowEnvelope[], dir: string) => flows.filter((f) => f.flow.l7?.type === "RESPONSE" && f.flow.traffic_direction === dir).map((f) => f.flow);

test("HTTP: the destination drops the proxy's connection, so Envoy answers 503 after the connect timeout, never 200", () => {
  const dp = makeDatapath(SCN, { "c.yaml": CLIENT_EGRESS, "s.yaml": SERVER_CLOSED });
  const r = trace(dp, { from: "default/client", to: "default/server", port: 80, protocol: "TCP", http: { method: "GET", path: "/" } });
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.equal(r.l7_denied, undefined, "the proxy allowed it: the drop is at L3/L4");
  assert.deepEqual(r.response, { http_code: 503 });
  assert.deepEqual(l7(r.flows), ["EGRESS REQUEST FORWARDED", "EGRESS RESPONSE FORWARDED"]);
  const [res] = responses(r.flows, "EGRESS");
  assert.equal(res!.l7?.http?.code, 503);
  assert.equal(res!.l7?.latency_ns, "2000000000");
  assert.match(res!.Summary ?? "", /^HTTP\/1\.1 503 2000ms \(GET http:\/\/server\/\)$/);
  const reqId = r.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow.l7?.http?.headers?.find((h) => h.key === "X-Request-Id")?.value;
  assert.ok(reqId);
  assert.deepEqual(res!.l7?.http?.headers, [
    { key: "Content-Length", value: "91" },
    { key: "Content-Type", value: "text/plain" },
    { key: "X-Request-Id", value: reqId },
  ]);
  // the drop is recorded before the reply Envoy sends two seconds later
  const drop = r.flows.findIndex((f) => f.flow.event_type?.type === 1);
  assert.ok(drop >= 0 && drop < r.flows.indexOf(r.flows.find((f) => f.flow === res)!));
  assert.ok(Date.parse(res!.time!) - Date.parse(r.flows[drop]!.flow.time!) >= 1900);
});

test("gRPC: Envoy's local reply is trailers-only, HTTP 200 with grpc-status 14 UNAVAILABLE", () => {
  const dp = makeDatapath(SCN, { "c.yaml": CLIENT_EGRESS, "s.yaml": SERVER_CLOSED });
  const r = trace(dp, { from: "default/client", to: "default/server", port: 50051, protocol: "TCP", grpc: { service: "pkg.Svc", method: "Call" } });
  assert.equal(r.verdict, "DROPPED");
  const [res] = responses(r.flows, "EGRESS");
  assert.equal(res!.l7?.http?.code, 200);
  assert.equal(res!.l7?.http?.headers?.find((h) => h.key === "Grpc-Status")?.value, "14");
  assert.deepEqual(r.response, { http_code: 200 });
});

test("Kafka and DNS: no answer reaches the client, and the unanswered lookup teaches toFQDNs nothing", () => {
  const dp = makeDatapath(SCN, { "c.yaml": CLIENT_EGRESS, "s.yaml": SERVER_CLOSED, "d.yaml": DNS_CLOSED });
  const k = trace(dp, { from: "default/client", to: "default/server", port: 9092, protocol: "TCP", kafka: { apiKey: "produce", topics: ["ok"] } });
  assert.equal(k.verdict, "DROPPED");
  assert.equal(k.response, undefined);
  assert.deepEqual(l7(k.flows), ["EGRESS REQUEST FORWARDED"]);
  const d = trace(dp, { from: "default/client", dns: { query: "api.example.com", type: "A" } });
  assert.equal(d.verdict, "DROPPED");
  assert.equal(d.drop_reason_desc, "POLICY_DENY");
  assert.equal(d.response, undefined);
  assert.deepEqual(l7(d.flows), ["EGRESS REQUEST FORWARDED"]);
  // nothing was learned: a connection to the address kube-dns would have given is outside toFQDNs
  const conn = trace(dp, { from: "default/client", toIP: "93.184.216.34", port: 443, protocol: "TCP" });
  assert.equal(conn.verdict, "DROPPED");
  assert.equal(conn.drop_reason_desc, "POLICY_DENIED");
});

test("the lookup that reaches kube-dns does teach toFQDNs (the control for the case above)", () => {
  const dp = makeDatapath(SCN, { "c.yaml": CLIENT_EGRESS });
  assert.equal(trace(dp, { from: "default/client", dns: { query: "api.example.com", type: "A" } }).response?.dns_rcode, "NOERROR");
  assert.equal(trace(dp, { from: "default/client", toIP: "93.184.216.34", port: 443, protocol: "TCP" }).verdict, "FORWARDED");
});

test("HTTP on both sides: the destination proxy's 403 comes back through the egress proxy, which logs it too", () => {
  const dp = makeDatapath(SCN, { "c.yaml": CLIENT_EGRESS, "s.yaml": SERVER_L7 });
  const ok = trace(dp, { from: "default/client", to: "default/server", port: 80, protocol: "TCP", http: { method: "GET", path: "/a" } });
  assert.deepEqual(l7(ok.flows), ["EGRESS REQUEST FORWARDED", "INGRESS REQUEST FORWARDED", "INGRESS RESPONSE FORWARDED", "EGRESS RESPONSE FORWARDED"]);
  const r = trace(dp, { from: "default/client", to: "default/server", port: 80, protocol: "TCP", http: { method: "GET", path: "/b" } });
  assert.equal(r.l7_denied, true);
  assert.deepEqual(r.response, { http_code: 403 });
  assert.deepEqual(l7(r.flows), ["EGRESS REQUEST FORWARDED", "INGRESS REQUEST DROPPED", "INGRESS RESPONSE FORWARDED", "EGRESS RESPONSE FORWARDED"]);
  const [inner] = responses(r.flows, "INGRESS");
  const [outer] = responses(r.flows, "EGRESS");
  assert.equal(outer!.l7?.http?.code, 403);
  const keys = (f: typeof inner) => f!.l7?.http?.headers?.filter((h) => h.key !== "X-Request-Id");
  assert.deepEqual(keys(outer), keys(inner), "the same answer, under the egress proxy's own request id");
  const egressReqId = r.flows.find((f) => f.flow.l7?.type === "REQUEST" && f.flow.traffic_direction === "EGRESS")!.flow.l7?.http?.headers?.find((h) => h.key === "X-Request-Id")?.value;
  assert.equal(outer!.l7?.http?.headers?.find((h) => h.key === "X-Request-Id")?.value, egressReqId);
  assert.ok(BigInt(outer!.l7!.latency_ns!) > BigInt(inner!.l7?.latency_ns ?? "0"), "the egress proxy hears the refusal after the inner one sent it");
});

test("Kafka on both sides: one correlation id end to end, and the injected refusal is logged by the egress proxy as its reply", () => {
  const dp = makeDatapath(SCN, { "c.yaml": CLIENT_EGRESS, "s.yaml": SERVER_L7 });
  const r = trace(dp, { from: "default/client", to: "default/server", port: 9092, protocol: "TCP", kafka: { apiKey: "produce", topics: ["other"] } });
  assert.equal(r.l7_denied, true);
  assert.deepEqual(r.response, { kafka_error_code: 29 });
  assert.deepEqual(l7(r.flows), ["EGRESS REQUEST FORWARDED", "INGRESS REQUEST DROPPED", "EGRESS RESPONSE FORWARDED"]);
  const ids = new Set(r.flows.filter((f) => f.flow.l7?.kafka).map((f) => f.flow.l7?.kafka?.correlation_id));
  assert.equal(ids.size, 1, `correlation ids ${[...ids].join(", ")}`);
});
