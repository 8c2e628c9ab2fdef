// A TCP connection after its handshake, as Hubble shows it with Cilium's default monitor aggregation
// ("medium", TRACE_AGGREGATE_ACTIVE_CT): a TO_* trace of an established connection is sent only for a
// packet whose flags are new to its direction. So each point that traced the SYN also traces the
// client's first ACK, its first ACK+PSH and its FIN; each point that traced the SYN-ACK also traces the
// server's first ACK+PSH and its FIN. No policy-verdict event is sent again, and a connection
// that never opened has none of this.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Flow } from "../../lib/flow/types";
import { makeDatapath, pA2, P_A1, STAR_WARS, TWO_NODES, cnp, trace } from "./helpers";

/** the trace records (event type 4) of a result, as "point reply? flags" */
function traces(flows: Flow[]): string[] {
  return flows.filter((f) => f.event_type?.type === 4).map((f) => `${f.trace_observation_point} ${f.is_reply ? "<-" : "->"} ${f.Summary}`);
}

/** a pod's connection to a proxy on its own node (the proxy answers, so its replies reach the pod) */
const CLIENT_TO_ITS_PROXY = [
  "TO_PROXY -> TCP Flags: SYN",
  "TO_ENDPOINT <- TCP Flags: SYN, ACK",
  "TO_PROXY -> TCP Flags: ACK",
  "TO_PROXY -> TCP Flags: ACK, PSH",
  "TO_ENDPOINT <- TCP Flags: ACK, PSH",
  "TO_PROXY -> TCP Flags: ACK, FIN",
  "TO_ENDPOINT <- TCP Flags: ACK, FIN",
];

test("a same-node connection: SYN, SYN-ACK, then ACK, ACK+PSH each way and FIN each way, all at the endpoint", () => {
  const dp = makeDatapath(STAR_WARS, { "a1.yaml": P_A1 });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" });
  assert.equal(r.verdict, "FORWARDED");
  const flows = r.flows.map((e) => e.flow);
  assert.deepEqual(traces(flows), [
    "TO_ENDPOINT -> TCP Flags: SYN",
    "TO_ENDPOINT <- TCP Flags: SYN, ACK",
    "TO_ENDPOINT -> TCP Flags: ACK",
    "TO_ENDPOINT -> TCP Flags: ACK, PSH",
    "TO_ENDPOINT <- TCP Flags: ACK, PSH",
    "TO_ENDPOINT -> TCP Flags: ACK, FIN",
    "TO_ENDPOINT <- TCP Flags: ACK, FIN",
  ]);
  // one policy verdict per side, for the SYN only
  assert.equal(flows.filter((f) => f.event_type?.type === 5).length, 1);
  const syn = flows.find((f) => f.Summary === "TCP Flags: SYN" && f.event_type?.type === 4)!;
  const later = flows.filter((f) => f.event_type?.type === 4 && !f.l4?.TCP?.flags?.SYN);
  for (const f of later) {
    // the same connection: same ports, direction by is_reply
    const tcp = f.l4!.TCP!;
    assert.deepEqual([tcp.source_port, tcp.destination_port], f.is_reply ? [syn.l4!.TCP!.destination_port, syn.l4!.TCP!.source_port] : [syn.l4!.TCP!.source_port, syn.l4!.TCP!.destination_port]);
    assert.equal(f.trace_reason, f.is_reply ? "REPLY" : "ESTABLISHED");
    assert.equal(f.verdict, "FORWARDED");
    assert.equal(f.node_name, f.is_reply ? flows.find((g) => g.Summary === "TCP Flags: SYN, ACK")!.node_name : syn.node_name);
    assert.notEqual(f.uuid, syn.uuid);
  }
  // flags in flow.proto key order, as hubble observe -o json prints them
  assert.deepEqual(later.map((f) => Object.keys(f.l4!.TCP!.flags!).join("+")), ["ACK", "PSH+ACK", "PSH+ACK", "FIN+ACK", "FIN+ACK"]);
  // times never go back, and every uuid is distinct
  const times = flows.map((f) => f.time!);
  assert.deepEqual([...times].sort(), times);
  assert.equal(new Set(flows.map((f) => f.uuid)).size, flows.length);
});

test("between nodes through an ingress proxy that allows the request: the proxy terminates the client's connection, logs the request once it arrived, and forwards it on a connection of its own from the node", () => {
  const dp = makeDatapath(`${TWO_NODES}namespaces: [{ name: default }]
workloads:
  - { name: deathstar, namespace: default, labels: { org: empire, class: deathstar }, node: node-2, ports: [{ name: http, port: 80, protocol: TCP, app: http }] }
  - { name: tiefighter, namespace: default, labels: { org: empire, class: tiefighter }, node: node-1 }
`, { "a2.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  assert.equal(r.verdict, "FORWARDED");
  const flows = r.flows.map((e) => e.flow);
  const seq = flows.map((f) => `${f.node_name} ${f.Type === "L7" ? `L7 ${f.l7?.type}` : f.event_type?.type === 4 ? `${f.trace_observation_point} ${f.is_reply ? "<-" : "->"} ${f.Summary!.replace("TCP Flags: ", "")}` : "policy-verdict"}`);
  assert.deepEqual(seq, [
    // the client's connection, terminated by the proxy on node-2: the SYN, the proxy's SYN-ACK, the request
    "node-1 TO_OVERLAY -> SYN",
    "node-2 policy-verdict",
    "node-2 TO_PROXY -> SYN",
    "node-2 TO_OVERLAY <- SYN, ACK",
    "node-1 TO_ENDPOINT <- SYN, ACK",
    "node-1 TO_OVERLAY -> ACK",
    "node-2 TO_PROXY -> ACK",
    "node-1 TO_OVERLAY -> ACK, PSH",
    "node-2 TO_PROXY -> ACK, PSH",
    "node-2 L7 REQUEST",
    // the proxy's own connection to the server: no policy verdict, the server's packets go to the stack
    "node-2 TO_ENDPOINT -> SYN",
    "node-2 TO_STACK <- SYN, ACK",
    "node-2 TO_ENDPOINT -> ACK",
    "node-2 TO_ENDPOINT -> ACK, PSH",
    "node-2 TO_STACK <- ACK, PSH",
    "node-2 L7 RESPONSE",
    // the proxy's answer reaches the client; the client's connection closes, the upstream stays pooled
    "node-2 TO_OVERLAY <- ACK, PSH",
    "node-1 TO_ENDPOINT <- ACK, PSH",
    "node-1 TO_OVERLAY -> ACK, FIN",
    "node-2 TO_PROXY -> ACK, FIN",
    "node-2 TO_OVERLAY <- ACK, FIN",
    "node-1 TO_ENDPOINT <- ACK, FIN",
  ]);
  const client = flows[0]!;
  const upstream = flows.filter((f) => f.trace_observation_point === "TO_ENDPOINT" && f.node_name === "node-2");
  const replies = flows.filter((f) => f.trace_observation_point === "TO_STACK");
  for (const f of upstream) {
    // from node-2's own address and an ephemeral port, under the client's security identity, no pod name
    assert.equal(f.IP!.source, "192.168.1.11");
    assert.notEqual(f.l4!.TCP!.source_port, client.l4!.TCP!.source_port);
    assert.equal(f.source!.identity, client.source!.identity);
    assert.equal(f.source!.pod_name, undefined);
    assert.equal(f.destination!.pod_name, client.destination!.pod_name);
  }
  assert.equal(new Set(upstream.map((f) => f.l4!.TCP!.source_port)).size, 1);
  for (const f of replies) {
    assert.equal(f.IP!.destination, "192.168.1.11");
    assert.equal(f.destination!.identity, 1, "the reply goes to the host, where the proxy is");
    assert.equal(f.l4!.TCP!.destination_port, upstream[0]!.l4!.TCP!.source_port);
  }
  // the server's answer is sent when the response is, just before the proxy logs it
  const answer = replies[1]!;
  const response = flows.find((f) => f.l7?.type === "RESPONSE")!;
  assert.ok(answer.time! < response.time! && answer.time! > flows.find((f) => f.l7?.type === "REQUEST")!.time!);
  // the proxy port is kept on the proxy's records; times never go back; every uuid distinct
  const proxied = flows.filter((f) => f.trace_observation_point === "TO_PROXY");
  assert.equal(proxied.length, 4);
  assert.equal(new Set(proxied.map((f) => f.proxy_port)).size, 1);
  const times = flows.map((f) => f.time!);
  assert.deepEqual([...times].sort(), times);
  assert.equal(new Set(flows.map((f) => f.uuid)).size, flows.length);
  assert.ok(r.explanation.some((l) => l.startsWith("connection ") && l.includes("to the ingress proxy") && l.includes("medium")));
  assert.ok(r.explanation.some((l) => l.includes("stays open") && l.includes("pool")));
});

test("a connection that never opened, and traffic without TCP, have no later packets", () => {
  const dp = makeDatapath(STAR_WARS, {
    "deny.yaml": cnp("deny-xwing", "{ class: deathstar }", `  ingressDeny:
  - fromEndpoints: [{ matchLabels: { org: alliance } }]
`),
  });
  const dropped = trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80, protocol: "TCP" });
  assert.equal(dropped.verdict, "DROPPED");
  assert.deepEqual(traces(dropped.flows.map((e) => e.flow)).filter((t) => !t.endsWith("SYN")), []);
  const udp = trace(dp, { from: "default/tiefighter", to: "default/xwing", port: 53, protocol: "UDP" });
  assert.equal(udp.verdict, "FORWARDED");
  assert.ok(udp.flows.every((e) => !e.flow.l4?.TCP));
  assert.equal(udp.flows.filter((e) => e.flow.event_type?.type === 4).length, 2);
});

test("a request the ingress proxy refuses: the client's connection to the proxy opens and closes, and nothing reaches the server", () => {
  const dp = makeDatapath(STAR_WARS, { "a2.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "PUT", path: "/v1/exhaust-port" } });
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.l7_denied, true);
  const flows = r.flows.map((e) => e.flow);
  assert.deepEqual(traces(flows), CLIENT_TO_ITS_PROXY);
  const order = flows.map((f) => (f.Type === "L7" ? `${f.l7?.type} ${f.verdict}` : f.Summary));
  // the request reaches the proxy (the client's ACK+PSH) before the proxy logs and refuses it
  assert.ok(order.indexOf("REQUEST DROPPED") > order.indexOf("TCP Flags: ACK, PSH"), order.join("\n"));
  assert.ok(order.indexOf("RESPONSE FORWARDED") > order.indexOf("REQUEST DROPPED"), order.join("\n"));
  assert.equal(flows.find((f) => f.l7?.type === "RESPONSE")?.l7?.http?.code, 403);
  // the proxy's answers reach the client's own endpoint
  for (const f of flows.filter((g) => g.is_reply && g.event_type?.type === 4)) assert.equal(f.destination?.pod_name?.startsWith("tiefighter"), true);
  const times = flows.map((f) => f.time!);
  assert.deepEqual([...times].sort(), times);
});

test("records after an answer stamped late in its millisecond carry into the next millisecond: nine fraction digits, never earlier", async () => {
  const { createL7Proxy } = await import("../../server/datapath/l7/proxy");
  // answers due from a few µs before to a few µs after a millisecond ends, whatever the request's own time
  for (let i = 0; i < 30; i++) {
    const latency = BigInt(4_985_000 + i * 1000 + (i % 3) * 333);
    const proxy = createL7Proxy({ requestId: () => "r", latencyNs: () => latency });
    const dp = makeDatapath(STAR_WARS, { "a2.yaml": pA2() }, { proxy });
    for (const path of ["/v1/request-landing", "/v1/exhaust-port"]) {
      const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path } });
      const times = r.flows.map((e) => e.flow.time!);
      for (const t of times) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/, `${latency} ${path}`);
      assert.deepEqual([...times].sort(), times, `${latency} ${path}`);
      assert.ok(r.flows.some((e) => e.flow.Summary === "TCP Flags: ACK, FIN"));
    }
  }
});

test("a client outside the cluster refused by the ingress proxy: its own packets reach the proxy; the proxy's answers leave through the host, untraced", () => {
  const dp = makeDatapath(STAR_WARS, {
    "world.yaml": cnp("from-world", "{ class: deathstar }", `  ingress:
  - fromEntities: [world]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET }] } }]
`),
  });
  const allowed = trace(dp, { from: { ip: "203.0.113.7" }, to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "GET", path: "/" } });
  assert.equal(allowed.verdict, "FORWARDED");
  const refused = trace(dp, { from: { ip: "203.0.113.7" }, to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "PUT", path: "/" } });
  assert.equal(refused.l7_denied, true);
  assert.deepEqual(traces(refused.flows.map((e) => e.flow)), [
    "TO_PROXY -> TCP Flags: SYN",
    "TO_PROXY -> TCP Flags: ACK",
    "TO_PROXY -> TCP Flags: ACK, PSH",
    "TO_PROXY -> TCP Flags: ACK, FIN",
  ]);
  // the same client's allowed request shows the same packets at the proxy
  const allowedAtProxy = traces(allowed.flows.map((e) => e.flow)).filter((t) => t.startsWith("TO_PROXY"));
  assert.deepEqual(allowedAtProxy, traces(refused.flows.map((e) => e.flow)));
});

test("through an egress proxy to an address outside the cluster: each packet goes to the proxy, not also to the stack", () => {
  const dp = makeDatapath(STAR_WARS, {
    "out.yaml": cnp("tiefighter-out", "{ class: tiefighter }", `  egress:
  - toCIDR: ["203.0.113.0/24"]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET }] } }]
`),
  });
  const r = trace(dp, { from: "default/tiefighter", toIP: "203.0.113.7", port: 80, protocol: "TCP", http: { method: "GET", path: "/" } });
  assert.equal(r.verdict, "FORWARDED");
  const fwd = traces(r.flows.map((e) => e.flow)).filter((t) => t.includes(" -> "));
  assert.deepEqual(fwd, ["TO_PROXY -> TCP Flags: SYN", "TO_PROXY -> TCP Flags: ACK", "TO_PROXY -> TCP Flags: ACK, PSH", "TO_PROXY -> TCP Flags: ACK, FIN"]);
});

test("the source's egress proxy relays the destination's refusal: the client's connection to its own proxy opens and closes", () => {
  const dp = makeDatapath(`${TWO_NODES}namespaces: [{ name: default }]
workloads:
  - { name: web, namespace: default, labels: { app: web }, node: node-1, ports: [{ port: 80, app: http }] }
  - { name: client, namespace: default, labels: { app: client }, node: node-2 }
`, {
    "out.yaml": cnp("client-out", "{ app: client }", `  egress:
  - toEndpoints: [{ matchLabels: { app: web } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET }] } }]
`),
    "in.yaml": cnp("web-in", "{ app: web }", `  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET, path: "/ok" }] } }]
`),
  });
  const r = trace(dp, { from: "default/client", to: "default/web", port: 80, protocol: "TCP", http: { method: "GET", path: "/x" } });
  assert.equal(r.l7_denied, true);
  const flows = r.flows.map((e) => e.flow);
  const onClientNode = (f: Flow) => f.node_name?.endsWith("node-2");
  assert.deepEqual(traces(flows.filter(onClientNode)), CLIENT_TO_ITS_PROXY);
  // the relayed answer reaches the client before its proxy's ACK+PSH does
  const seq = flows.filter(onClientNode).map((f) => (f.Type === "L7" ? `L7 ${f.l7?.type}` : `${f.is_reply ? "<-" : "->"} ${f.Summary}`));
  assert.ok(seq.indexOf("L7 RESPONSE") < seq.indexOf("<- TCP Flags: ACK, PSH"), seq.join("\n"));
  const times = flows.map((f) => f.time!);
  assert.deepEqual([...times].sort(), times);
});

test("the ingress proxy pools its upstream connection per client identity: a later request reuses it, traced again only after the 5 s report interval, and a new one opens after the idle timeout", () => {
  // one server replica (Envoy pools per upstream host) and two clients of different identities
  const dp = makeDatapath(`${TWO_NODES}namespaces: [{ name: default }]
workloads:
  - { name: deathstar, namespace: default, labels: { org: empire, class: deathstar }, node: node-2, ports: [{ name: http, port: 80, protocol: TCP, app: http }] }
  - { name: tiefighter, namespace: default, labels: { org: empire, class: tiefighter }, node: node-1 }
  - { name: bomber, namespace: default, labels: { org: empire, class: bomber }, node: node-1 }
`, { "a2.yaml": pA2() });
  const req = { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" as const, http: { method: "POST", path: "/v1/request-landing" } };
  const t0 = Date.parse("2024-05-01T10:00:00Z");
  /** the upstream's trace records (from the node's address), as "point flags", and its source port */
  const upstreamOf = (at: number) => {
    const r = dp.process(req, new Date(at));
    assert.equal(r.verdict, "FORWARDED");
    const flows = r.flows.map((e) => e.flow).filter((f) => f.event_type?.type === 4 && (f.IP?.source?.startsWith("192.168.") || f.IP?.destination?.startsWith("192.168.")));
    // the client's own connection to the proxy opens and closes every time
    assert.equal(r.flows.filter((e) => e.flow.trace_observation_point === "TO_PROXY").length, 4);
    return { seq: flows.map((f) => `${f.trace_observation_point} ${f.Summary!.replace("TCP Flags: ", "")}`), port: flows[0]?.l4?.TCP?.[flows[0].is_reply ? "destination_port" : "source_port"], explanation: r.explanation };
  };
  const first = upstreamOf(t0);
  assert.deepEqual(first.seq, ["TO_ENDPOINT SYN", "TO_STACK SYN, ACK", "TO_ENDPOINT ACK", "TO_ENDPOINT ACK, PSH", "TO_STACK ACK, PSH"]);
  // within the report interval every flag of the pooled connection has been seen: nothing is traced
  const again = upstreamOf(t0 + 2000);
  assert.deepEqual(again.seq, []);
  assert.ok(again.explanation.some((l) => l.includes("pooled connection") && l.includes("5 s")));
  // 5 s after the last report: the forwarded request and the answer, on the same connection
  const later = upstreamOf(t0 + 7000);
  assert.deepEqual(later.seq, ["TO_ENDPOINT ACK, PSH", "TO_STACK ACK, PSH"]);
  assert.equal(later.port, first.port);
  // another identity gets a connection of its own
  const other = dp.process({ ...req, from: "default/bomber" }, new Date(t0 + 7100));
  assert.equal(other.verdict, "FORWARDED");
  const otherSyn = other.flows.find((e) => e.flow.IP?.source?.startsWith("192.168.") && e.flow.l4?.TCP?.flags?.SYN)?.flow;
  assert.ok(otherSyn, "a new upstream connection for the other identity");
  assert.notEqual(otherSyn.l4!.TCP!.source_port, first.port);
  // idle past Envoy's timeout (1 h): the pool closed it, a new connection opens
  const reopened = upstreamOf(t0 + 7000 + 3_600_001);
  assert.deepEqual(reopened.seq, first.seq);
  assert.notEqual(reopened.port, first.port);
});
