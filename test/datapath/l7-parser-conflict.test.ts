// Cilium merges every rule selecting an endpoint into one filter per port, protocol and direction, with
// one L7 parser whatever the peers: HTTP rules of one policy and Kafka rules of another on the same port
// cannot be merged ("cannot merge conflicting L7 parsers (kafka/http)", pkg/policy/l4.go), and the
// endpoint keeps the policy it had without the later one. Rules of one parser merge, on any peers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, cnp } from "./helpers";
import { lintDatapath } from "../../server/datapath/lint";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - { name: reader, namespace: default, labels: { app: reader } }
  - { name: server, namespace: default, labels: { app: server }, replicas: 2, ports: [{ port: 80, protocol: TCP, app: http }] }
  - { name: other, namespace: default, labels: { app: other, role: kafka }, ports: [{ port: 80, protocol: TCP, app: kafka }] }
`;

const httpFromClient = (name: string, subject = "{ app: server }") =>
  cnp(name, subject, `  ingress:
    - fromEndpoints: [{ matchLabels: { app: client } }]
      toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET }] } }]
`);
// the Kafka rules are for another peer: the clash is per port, not per peer
const kafkaFromReader = (name: string, subject = "{ app: server }") =>
  cnp(name, subject, `  ingress:
    - fromEndpoints: [{ matchLabels: { app: reader } }]
      toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { kafka: [{ topic: events }] } }]
`);
const kafka = { apiKey: "fetch", topics: ["events"] };

test("a policy whose Kafka rules meet another's HTTP rules on a port is left out of that endpoint, and said so", () => {
  const dp = makeDatapath(SCN, { "a.yaml": httpFromClient("web"), "b.yaml": kafkaFromReader("stream") });
  // the earlier policy is in force; the later one is not, on both replicas
  assert.equal(trace(dp, { from: "default/client", to: "default/server", port: 80, protocol: "TCP", http: { method: "GET", path: "/" } }).verdict, "FORWARDED");
  const reader = trace(dp, { from: "default/reader", to: "default/server", port: 80, protocol: "TCP", kafka });
  assert.equal(reader.verdict, "DROPPED");
  assert.equal(reader.drop_reason_desc, "POLICY_DENIED");
  // a pod's policy drop is reported by bpf_lxc (Hubble's drop events carry the file since Cilium 1.17)
  assert.deepEqual(reader.flows.filter((f) => f.flow.event_type?.type === 1).map((f) => f.flow.file), [{ name: "bpf_lxc.c" }]);
  const conflicts = dp.l7ParserConflicts();
  assert.equal(conflicts.length, 1, "one line for the workload's two endpoints");
  assert.equal(conflicts[0]!.policy.name, "stream");
  assert.equal(conflicts[0]!.path, "spec.ingress[0].toPorts[0].rules");
  assert.match(conflicts[0]!.message, /^CiliumNetworkPolicy default\/stream is left out of default\/server \(2 endpoints\)'s policy: its kafka rules on ingress port 80\/TCP meet the http rules of CiliumNetworkPolicy default\/web/);
  assert.match(conflicts[0]!.message, /cannot merge conflicting L7 parsers \(kafka\/http\)/);
  const lint = lintDatapath(dp).filter((f) => f.level === "error");
  assert.deepEqual(lint.map((f) => [f.policy, f.path]), [["CiliumNetworkPolicy default/stream", "spec.ingress[0].toPorts[0].rules"]]);
});

test("the clash is per endpoint: where the later policy selects alone, it is in force", () => {
  const dp = makeDatapath(SCN, { "a.yaml": httpFromClient("web"), "b.yaml": kafkaFromReader("stream", "{ }") });
  // `other` is selected by `stream` only (web selects app=server)
  const r = trace(dp, { from: "default/reader", to: "default/other", port: 80, protocol: "TCP", kafka });
  assert.equal(r.verdict, "FORWARDED");
  assert.deepEqual(r.ingress?.allowed_by?.map((p) => p.name), ["stream"]);
  const conflicts = dp.l7ParserConflicts();
  assert.equal(conflicts.length, 1);
  assert.match(conflicts[0]!.message, /left out of default\/server \(2 endpoints\)'s policy/);
});

test("rules of one parser merge across policies and peers; other ports and deny rules do not clash", () => {
  const both = cnp("web2", "{ app: server }", `  ingress:
    - fromEndpoints: [{ matchLabels: { app: reader } }]
      toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: POST }] } }]
    - fromEndpoints: [{ matchLabels: { app: reader } }]
      toPorts: [{ ports: [{ port: "9092", protocol: TCP }], rules: { kafka: [{ topic: events }] } }]
  ingressDeny:
    - fromEndpoints: [{ matchLabels: { app: other } }]
      toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]
`);
  const dp = makeDatapath(SCN, { "a.yaml": httpFromClient("web"), "b.yaml": both });
  assert.deepEqual(dp.l7ParserConflicts(), []);
  assert.equal(trace(dp, { from: "default/reader", to: "default/server", port: 80, protocol: "TCP", http: { method: "POST", path: "/" } }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/server", port: 80, protocol: "TCP", http: { method: "GET", path: "/" } }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/reader", to: "default/server", port: 9092, protocol: "TCP", kafka }).verdict, "FORWARDED");
});

test("a policy whose own rules put two parsers on one port is left out wherever it applies", () => {
  const self = cnp("mixed", "{ app: server }", `  ingress:
    - fromEndpoints: [{ matchLabels: { app: client } }]
      toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET }] } }]
    - fromEndpoints: [{ matchLabels: { app: reader } }]
      toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { kafka: [{ topic: events }] } }]
`);
  const dp = makeDatapath(SCN, { "a.yaml": self });
  const conflicts = dp.l7ParserConflicts();
  assert.equal(conflicts.length, 1);
  assert.equal(conflicts[0]!.path, "spec.ingress[1].toPorts[0].rules");
  assert.match(conflicts[0]!.message, /its kafka rules on ingress port 80\/TCP meet its own http rules \(spec\.ingress\[0\]\.toPorts\[0\]\.rules\)/);
  // nothing of it applies: server is selected by no policy, so nothing is enforced
  const r = trace(dp, { from: "default/other", to: "default/server", port: 80, protocol: "TCP", http: { method: "DELETE", path: "/" } });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(r.ingress?.enforced, false);
});

test("egress: DNS rules on port 53/TCP and HTTP rules on 53/TCP of another policy clash at the source", () => {
  const dns = cnp("dns", "{ app: client }", `  egress:
    - toEndpoints: [{ matchLabels: { k8s-app: kube-dns, io.kubernetes.pod.namespace: kube-system } }]
      toPorts: [{ ports: [{ port: "53", protocol: UDP }, { port: "53", protocol: TCP }], rules: { dns: [{ matchPattern: "*" }] } }]
`);
  const web53 = cnp("web53", "{ app: client }", `  egress:
    - toEndpoints: [{ matchLabels: { app: server } }]
      toPorts: [{ ports: [{ port: "53", protocol: TCP }], rules: { http: [{}] } }]
`);
  const dp = makeDatapath(SCN, { "a.yaml": dns, "b.yaml": web53 });
  assert.deepEqual(dp.warnings, []);
  const conflicts = dp.l7ParserConflicts();
  assert.equal(conflicts.length, 1);
  assert.match(conflicts[0]!.message, /^CiliumNetworkPolicy default\/web53 is left out of default\/client-[a-z0-9]+-0's policy: its http rules on egress port 53\/TCP meet the dns rules of CiliumNetworkPolicy default\/dns/);
  // DNS keeps working through the proxy
  assert.equal(trace(dp, { from: "default/client", port: 53, protocol: "UDP", dns: { query: "example.com" } }).verdict, "FORWARDED");
});
