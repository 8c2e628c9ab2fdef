// L7 records as Hubble builds them from Cilium's access log: DNS answers carry no latency (Hubble
// measures it for HTTP only), a name that exists but has no address of the asked type is NODATA (not
// NXDOMAIN), and the 403 cilium.l7policy logs has no Date or Server header (Envoy adds them after the
// filters have run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, STAR_WARS, pA2, cnp } from "./helpers";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
dns:
  - { name: api.example.com, ips: [93.184.216.34], ttl: 60 }
`;
const DNS_VISIBLE = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: dns, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: client } }
  egress:
  - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
`;

test("DNS: no latency on answers; AAAA for a name with only A records is NODATA; unknown names NXDOMAIN", () => {
  const dp = makeDatapath(SCN, { "p.yaml": DNS_VISIBLE });
  const answer = (type: string, query = "api.example.com") =>
    trace(dp, { from: "default/client", dns: { query, type } }).flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow;
  const a = answer("A");
  assert.deepEqual(a.l7?.dns?.ips, ["93.184.216.34"]);
  assert.equal(a.l7?.latency_ns, undefined);
  const aaaa = answer("AAAA");
  assert.equal(aaaa.l7?.dns?.rcode, undefined, "NOERROR (rcode 0 is left out)");
  assert.equal(aaaa.l7?.dns?.ips, undefined);
  assert.match(aaaa.Summary ?? "", /^DNS Answer  TTL: 4294967295 \(Proxy api\.example\.com\. AAAA\)$/);
  assert.equal(answer("A", "nope.example.com").l7?.dns?.rcode, 3, "NXDOMAIN");
});

test("the 403 of a refused HTTP request is logged without Date or Server", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "PUT", path: "/v1/exhaust-port" } });
  const res = r.flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow;
  assert.equal(res.l7?.http?.code, 403);
  assert.deepEqual(res.l7?.http?.headers?.map((h) => h.key), ["Content-Length", "Content-Type", "X-Request-Id"]);
});

test("an allowed HTTP response is logged with the upstream's headers, without the Server header Envoy adds after its filters", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  const res = r.flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow;
  assert.equal(res.l7?.http?.code, 200);
  // the headers of the real record in flow-schema.md §3.6 (d), but Connection (hop-by-hop)
  assert.deepEqual(res.l7?.http?.headers?.map((h) => h.key), ["Content-Type", "Date", "Transfer-Encoding", "X-Envoy-Upstream-Service-Time", "X-Request-Id"]);
});

test("a W3C traceparent puts its trace id in trace_context of both records; a response names the server as the DNS cache does", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const r = trace(dp, {
    from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP",
    http: { method: "POST", path: "/v1/request-landing", headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } },
  });
  const l7 = r.flows.filter((f) => f.flow.l7).map((f) => f.flow);
  assert.equal(l7.length, 2);
  for (const f of l7) assert.deepEqual(f.trace_context, { parent: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" } });
  const bad = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing", headers: { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" } } });
  for (const f of bad.flows) assert.equal(f.flow.trace_context, undefined, "an all-zero trace id is invalid");
});

test("the response of a request to a name carries the name as source_names", () => {
  const policy = DNS_VISIBLE + `  - toFQDNs: [{ matchName: api.example.com }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{}] } }]
`;
  const dp = makeDatapath(SCN, { "p.yaml": policy });
  const r = trace(dp, { from: "default/client", toFQDN: "api.example.com", port: 80, protocol: "TCP", http: { method: "GET", path: "/" } });
  const req = r.flows.find((f) => f.flow.l7?.type === "REQUEST" && f.flow.l7.http)!.flow;
  const res = r.flows.find((f) => f.flow.l7?.type === "RESPONSE" && f.flow.l7.http)!.flow;
  assert.deepEqual(req.destination_names, ["api.example.com"]);
  assert.deepEqual(res.source_names, ["api.example.com"]);
});

test("an HTTP response is stamped latency_ns after its request, as Hubble computes latency from the two records", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  const ns = (t: string) => {
    const m = /\.(\d{9})Z$/.exec(t)!;
    return BigInt(Date.parse(t.replace(/\.\d{9}Z$/, "Z"))) * 1_000_000n + BigInt(m[1]!);
  };
  const req = r.flows.find((f) => f.flow.l7?.type === "REQUEST")!;
  const res = r.flows.find((f) => f.flow.l7?.type === "RESPONSE")!;
  assert.ok(res.flow.l7?.latency_ns);
  assert.equal(ns(res.time!) - ns(req.time!), BigInt(res.flow.l7!.latency_ns!));
  // and the records after it keep going forward
  const times = r.flows.map((f) => ns(f.time!));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `record ${i} is later than ${i - 1}`);
});

test("headerMatches actions change the request Envoy forwards, and its Hubble record shows the result", () => {
  const scn = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: app }]
workloads:
  - { name: client, namespace: app, labels: { app: client } }
  - { name: server, namespace: app, labels: { app: server }, ports: [{ name: http, port: 80, protocol: TCP, app: http }] }
`;
  const dp = makeDatapath(scn, {
    "hm.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: hm, namespace: app }
spec:
  endpointSelector: { matchLabels: { app: server } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts:
    - ports: [{ port: "80", protocol: TCP }]
      rules:
        http:
        - { path: /add, headerMatches: [{ name: X-Add, value: v1, mismatch: ADD }] }
        - { path: /rep, headerMatches: [{ name: X-Rep, value: v1, mismatch: REPLACE }] }
        - { path: /del, headerMatches: [{ name: X-Del, value: v1, mismatch: DELETE }] }
        - { path: /log, headerMatches: [{ name: X-Log, value: v1, mismatch: LOG }] }
        - { path: /fail, headerMatches: [{ name: X-Fail, value: v1 }] }
`,
  });
  const send = (path: string, headers: Record<string, string>) => trace(dp, { from: "app/client", to: "app/server", port: 80, http: { method: "GET", path, headers } });
  const recordHeaders = (r: ReturnType<typeof send>, name: string) =>
    (r.flows.find((f) => f.flow.l7?.type === "REQUEST")?.flow.l7?.http?.headers ?? []).filter((h) => h.key === name).map((h) => h.value);
  const add = send("/add", { "X-Add": "zz" });
  assert.equal(add.verdict, "FORWARDED");
  assert.deepEqual(recordHeaders(add, "X-Add"), ["zz", "v1"], "ADD appends the value");
  assert.deepEqual(recordHeaders(send("/rep", { "X-Rep": "zz" }), "X-Rep"), ["v1"], "REPLACE sets it");
  const del = send("/del", { "X-Del": "zz" });
  assert.equal(del.verdict, "FORWARDED");
  assert.deepEqual(recordHeaders(del, "X-Del"), [], "DELETE removes a header present with another value");
  assert.deepEqual(recordHeaders(send("/del", { "X-Del": "v1" }), "X-Del"), ["v1"], "a matching header is left alone");
  assert.deepEqual(recordHeaders(send("/log", { "X-Log": "zz" }), "X-Log"), ["zz"], "LOG changes nothing");
  const fail = send("/fail", { "X-Fail": "zz" });
  assert.equal(fail.verdict, "DROPPED", "no mismatch action: the rule does not admit the request");
  assert.equal(send("/fail", { "X-Fail": "v1" }).verdict, "FORWARDED");
});

test("a HEAD request gets the answer's header fields and no content: allowed when a rule allows HEAD, refused with 403 otherwise", () => {
  const headOrPost = pA2().replace('method: "POST"', 'method: "HEAD|POST"');
  const dp = makeDatapath(STAR_WARS, { "p.yaml": headOrPost });
  const head = (path: string) => trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "HEAD", path } });
  const ok = head("/v1/request-landing");
  assert.equal(ok.verdict, "FORWARDED");
  const res = ok.flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow;
  assert.equal(res.verdict, "FORWARDED");
  assert.equal(res.l7?.http?.code, 200);
  assert.equal(res.l7?.http?.method, "HEAD");
  const refused = head("/v1/exhaust-port");
  assert.equal(refused.verdict, "DROPPED");
  assert.equal(refused.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow.verdict, "DROPPED");
  const denied = refused.flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow;
  assert.equal(denied.l7?.http?.code, 403);
  // a HEAD answer keeps the Content-Length a GET would get, though no content follows
  assert.equal(denied.l7?.http?.headers?.find((h) => h.key === "Content-Length")?.value, "15");
  // with no rule allowing HEAD, the 403 is the policy's, not a parse failure
  const postOnly = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const r = trace(postOnly, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "HEAD", path: "/v1/request-landing" } });
  assert.equal(r.flows.find((f) => f.flow.l7?.type === "RESPONSE")!.flow.l7?.http?.code, 403);
});

test("an HTTP method is sent as written: methods are case-sensitive, so a rule for POST does not allow \"post\"", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const send = (method: string) => trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method, path: "/v1/request-landing" } });
  assert.equal(send("POST").verdict, "FORWARDED");
  const lower = send("post");
  assert.equal(lower.verdict, "DROPPED");
  assert.equal(lower.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow.l7?.http?.method, "post");
});

test("only the entries of a port with L7 rules go to the proxy: a peer allowed at L3 only is forwarded by the datapath on that port, with no L7 records", () => {
  // the deathstar's port 80 has HTTP rules for the empire, and the alliance is allowed at L3 only: its
  // key in the policy map has no port, so no proxy port (Cilium's lookup order: L3/L4, L4-only, L3-only)
  const policies = {
    "l7.yaml": pA2(),
    "l3.yaml": cnp("l3-xwing", "{ org: empire, class: deathstar }", `  ingress:\n  - fromEndpoints: [{ matchLabels: { org: alliance } }]\n`),
  };
  const dp = makeDatapath(STAR_WARS, policies);
  const xwing = trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "PUT", path: "/v1/exhaust-port" } });
  assert.equal(xwing.verdict, "FORWARDED");
  assert.equal(xwing.ingress?.match_type, "L3-Only");
  assert.deepEqual(xwing.flows.filter((f) => f.flow.l7), [], "no proxy, so no L7 records");
  assert.ok(!xwing.flows.some((f) => f.flow.verdict === "REDIRECTED"));
  // the empire still goes through the proxy on port 80 and its rules decide
  const tie = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "PUT", path: "/v1/exhaust-port" } });
  assert.equal(tie.verdict, "DROPPED");
  assert.ok(tie.flows.some((f) => f.flow.verdict === "REDIRECTED"));
  // the policy map shows the difference: the L3-only entry carries no redirect, the port-80 entry does
  const rows = dp.policyMap(dp.cluster.endpoints.find((p) => p.name.startsWith("deathstar"))!.endpointId, "ingress")[0]!.entries;
  const allows = rows.filter((r) => r.action === "allow");
  assert.ok(allows.some((r) => r.port === "80") && allows.filter((r) => r.port === "80").every((r) => r.redirect), "port 80's entries redirect");
  assert.deepEqual(allows.filter((r) => r.port === "ANY").map((r) => r.redirect), [false], "the L3-only entry does not");
});
