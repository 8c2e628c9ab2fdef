// Kafka through the proxy as Hubble shows it. Cilium's Kafka parser in Envoy logs each request with its
// topics and the agent writes one record per topic (one with no topic when the request names none);
// the reply passes unread, so its one record carries the correlation id alone (api key 0, "produce").
// A refused request is answered with error 29, which Hubble keeps off request records; a refused
// request of a kind the proxy cannot answer gets no answer at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace } from "./helpers";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: data }]
workloads:
  - { name: kafka, namespace: data, labels: { app: kafka }, ports: [{ port: 9092, app: kafka }] }
  - { name: app, namespace: data, labels: { app: app } }
`;
const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: kafka-acl, namespace: data }
spec:
  endpointSelector: { matchLabels: { app: kafka } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: app } }]
    toPorts:
    - ports: [{ port: "9092", protocol: TCP }]
      rules:
        kafka:
        - { role: produce, topic: orders }
        - { role: consume, topic: orders }
        - { role: consume, topic: logs }
`;
const kafkaReq = (apiKey: string | number, topics: string[]) => ({ from: "data/app", to: "data/kafka", port: 9092, protocol: "TCP" as const, kafka: { apiKey, topics } });
const l7Records = (r: ReturnType<typeof trace>, type: "REQUEST" | "RESPONSE") => r.flows.filter((f) => f.flow.l7?.type === type).map((f) => f.flow);

test("a refused multi-topic produce is logged once per topic and answered with error 29", () => {
  const dp = makeDatapath(SCN, { "p.yaml": POLICY });
  const r = trace(dp, kafkaReq("produce", ["orders", "logs"]));
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.l7_denied, true);
  assert.deepEqual(r.response, { kafka_error_code: 29 });
  const reqs = l7Records(r, "REQUEST");
  assert.deepEqual(reqs.map((f) => f.l7?.kafka?.topic), ["orders", "logs"]);
  for (const f of reqs) {
    assert.equal(f.verdict, "DROPPED");
    assert.equal(f.l7?.kafka?.error_code, undefined, "Hubble's decodeKafka leaves error_code out of request records");
    assert.equal(f.l7?.kafka?.api_key, "produce");
  }
  assert.equal(l7Records(r, "RESPONSE").length, 0, "a refusal has no response record");
});

test("an allowed multi-topic fetch is logged once per topic; the reply once, with its correlation id alone", () => {
  const dp = makeDatapath(SCN, { "p.yaml": POLICY });
  const r = trace(dp, kafkaReq("fetch", ["orders", "logs"]));
  assert.equal(r.verdict, "FORWARDED");
  const reqs = l7Records(r, "REQUEST");
  assert.deepEqual(reqs.map((f) => f.l7?.kafka?.topic), ["orders", "logs"]);
  for (const f of reqs) assert.equal(f.l7?.kafka?.error_code, undefined);
  const correlation = reqs[0]!.l7!.kafka!.correlation_id;
  const resps = l7Records(r, "RESPONSE");
  assert.equal(resps.length, 1, "one reply frame, one record");
  assert.deepEqual(resps[0]!.l7, { type: "RESPONSE", kafka: { api_key: "produce", correlation_id: correlation } });
  assert.equal(resps[0]!.Summary, `Kafka response produce correlation id ${correlation} topic '' return code 0`);
  assert.equal(resps[0]!.IP?.source, reqs[0]!.IP?.destination, "the response record is addressed from the broker");
});

test("a request naming no topic (Metadata for all topics) is logged once, with no topic", () => {
  const dp = makeDatapath(SCN, { "p.yaml": POLICY.replace("- { role: consume, topic: logs }", "- { role: consume, topic: logs }\n        - { apiKey: metadata }") });
  const r = trace(dp, { from: "data/app", to: "data/kafka", port: 9092, protocol: "TCP", kafka: { apiKey: "metadata" } });
  assert.equal(r.verdict, "FORWARDED");
  const reqs = l7Records(r, "REQUEST");
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0]!.l7?.kafka?.topic, undefined);
  assert.match(reqs[0]!.Summary ?? "", /^Kafka request metadata correlation id \d+ topic ''$/);
  assert.equal(l7Records(r, "RESPONSE").length, 1);
});

test("a refused request of a kind with no authorization-error answer (ListGroups) is dropped unanswered", () => {
  const dp = makeDatapath(SCN, { "p.yaml": POLICY });
  const r = trace(dp, { from: "data/app", to: "data/kafka", port: 9092, protocol: "TCP", kafka: { apiKey: 16 } });
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.l7_denied, true);
  assert.equal(r.response, undefined, JSON.stringify(r.response));
  const reqs = l7Records(r, "REQUEST");
  assert.equal(reqs.length, 1, "logged once, with no topic");
  assert.equal(reqs[0]!.verdict, "DROPPED");
  assert.equal(reqs[0]!.l7?.kafka?.api_key, "listgroups");
  assert.equal(l7Records(r, "RESPONSE").length, 0);
});

test("a refused FindCoordinator is answered with error 29, not a coordinator", () => {
  // produce only: the consume role would allow FindCoordinator
  const dp = makeDatapath(SCN, { "p.yaml": POLICY.replace("        - { role: consume, topic: orders }\n        - { role: consume, topic: logs }\n", "") });
  for (const apiVersion of [0, 3, 4]) {
    const r = trace(dp, { from: "data/app", to: "data/kafka", port: 9092, protocol: "TCP", kafka: { apiKey: "findcoordinator", apiVersion } });
    assert.equal(r.verdict, "DROPPED", `v${apiVersion}`);
    assert.deepEqual(r.response, { kafka_error_code: 29 }, `v${apiVersion}`);
  }
});
