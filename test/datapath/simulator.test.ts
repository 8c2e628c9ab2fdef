// The live simulator: rates are honoured, and a tick that runs out of time leaves the rest to the next
// ticks instead of blocking the event loop; only a backlog beyond one second is skipped (and counted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowBus } from "../../server/bus";
import { Datapath } from "../../server/datapath";
import { Simulator } from "../../server/traffic/simulator";
import { makeDatapath } from "./helpers";

/** an RFC 3339 time with up to nanoseconds, as a number that orders like the time */
function ns(s: string): bigint {
  const m = /\.(\d{1,9})Z$/.exec(s);
  return BigInt(Date.parse(s.replace(/\.\d+Z$/, "Z"))) * 1_000_000n + BigInt((m?.[1] ?? "").padEnd(9, "0"));
}

test("the simulator sends the scenario's rate through the datapath onto the bus", () => {
  const dp = Datapath.fromScenarioFile("server/scenarios/star-wars/scenario.yaml");
  const bus = new FlowBus(0);
  let flows = 0;
  bus.subscribe((b) => (flows += b.length));
  const sim = new Simulator(dp, bus, { rate: 10 });
  // 10 requests/s for 1 s, in 20 ms steps
  let sent = 0;
  for (let t = 0; t < 50; t++) sent += sim.step(20);
  assert.ok(sent >= 9 && sent <= 11, `about 10 requests in one second, got ${sent}`);
  assert.ok(flows > sent, "each request yields several flow records");
  assert.equal(sim.skippedRequests, 0);
});

test("requests a tick has no time for are sent by the next tick", () => {
  const dp = Datapath.fromScenarioFile("server/scenarios/star-wars/scenario.yaml");
  const sim = new Simulator(dp, new FlowBus(0), { rate: 1000 });
  assert.equal(sim.step(100, Date.now(), -1), 0);
  const later = sim.step(0);
  assert.ok(later >= 95 && later <= 101, `the 100 requests due were sent late, got ${later}`);
  assert.equal(sim.skippedRequests, 0);
});

test("a backlog beyond one second is skipped and counted", () => {
  const dp = Datapath.fromScenarioFile("server/scenarios/star-wars/scenario.yaml");
  const sim = new Simulator(dp, new FlowBus(0), { rate: 1000 });
  assert.equal(sim.step(500, Date.now(), -1), 0);
  assert.equal(sim.skippedRequests, 0);
  assert.equal(sim.step(1500, Date.now(), -1), 0);
  // 2,000 requests came due, at most 1,000 may wait
  assert.ok(sim.skippedRequests >= 990 && sim.skippedRequests <= 1010, `skipped ${sim.skippedRequests}`);
  const later = sim.step(0);
  assert.ok(later >= 990 && later <= 1001, `the second's worth kept was sent, got ${later}`);
});

test("a tick's flows reach the bus in time order, responses after the requests that came before them", () => {
  // the default scenario's HTTP and gRPC responses are stamped their latency after their requests
  const dp = Datapath.fromScenarioFile("server/scenarios/default/scenario.yaml");
  const bus = new FlowBus(0);
  const times: string[] = [];
  bus.subscribe((b) => {
    for (const f of b) times.push(f.envelope.time ?? "");
  });
  const sim = new Simulator(dp, bus, { rate: 2000 });
  const base = Date.UTC(2025, 0, 1, 12, 0, 0);
  for (let t = 1; t <= 5; t++) sim.step(20, base + t * 20);
  assert.ok(times.length > 200, `${times.length} flows`);
  for (let i = 1; i < times.length; i++) assert.ok(ns(times[i - 1]!) <= ns(times[i]!), `flow ${i}: ${times[i - 1]} then ${times[i]}`);
});

test("a record stamped seconds ahead (Envoy's 503 after its connect timeout) waits for its time, and stop() lets it out", () => {
  const dp = makeDatapath(`
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - { name: server, namespace: default, labels: { app: server }, ports: [{ name: http, port: 80, protocol: TCP, app: http }] }
traffic:
  - { from: default/client, to: default/server, port: 80, http: { method: GET, path: / }, rate: 50 }
`, {
    "c.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: c, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: client } }
  egress: [{ toEndpoints: [{ matchLabels: { app: server } }], toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{}] } }] }]
`,
    "s.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: s, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: server } }
  ingress: [{ fromEndpoints: [{ matchLabels: { app: nobody } }] }]
`,
  });
  const bus = new FlowBus(0);
  const seen: { time: string; code?: number }[] = [];
  bus.subscribe((b) => {
    for (const f of b) seen.push({ time: f.envelope.time ?? "", code: f.envelope.flow.l7?.http?.code });
  });
  const sim = new Simulator(dp, bus, { rate: 50 });
  const base = Date.UTC(2025, 0, 1, 12, 0, 0);
  for (let t = 1; t <= 50; t++) sim.step(20, base + t * 20);
  // one second in: the 503s of the first requests are due a second from now
  assert.ok(seen.length > 0);
  assert.equal(seen.filter((s) => s.code === 503).length, 0, "no reply before its time");
  for (let t = 51; t <= 150; t++) sim.step(20, base + t * 20);
  const replied = seen.filter((s) => s.code === 503).length;
  assert.ok(replied > 0, "the replies came once their time did");
  for (let i = 1; i < seen.length; i++) assert.ok(ns(seen[i - 1]!.time) <= ns(seen[i]!.time), `flow ${i}: ${seen[i - 1]!.time} then ${seen[i]!.time}`);
  sim.stop();
  assert.ok(seen.filter((s) => s.code === 503).length > replied, "stop() published the replies still waiting");
  assert.equal(seen.filter((s) => s.code === 503).length, sim.requests, "every request got its reply");
});
