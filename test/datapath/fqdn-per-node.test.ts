// toFQDNs is decided per agent: each node's DNS proxy learns its own names, so a lookup on one node
// opens nothing on another; and only names some toFQDNs selector matches reach the ipcache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, verdictEvents } from "./helpers";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
nodes: [{ name: node-1, ip: 192.168.1.10 }, { name: node-2, ip: 192.168.1.11 }]
namespaces: [{ name: app }]
workloads:
  - { name: client, namespace: app, labels: { app: client }, node: node-1 }
  - { name: client2, namespace: app, labels: { app: client }, node: node-2 }
dns:
  - { name: api.example.com, ips: [54.1.2.3], ttl: 300 }
  - { name: other.example.org, ips: [54.9.9.9], ttl: 300 }
`;

const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: egress, namespace: app }
spec:
  endpointSelector: { matchLabels: { app: client } }
  egress:
  - toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
  - toFQDNs: [{ matchName: api.example.com }]
    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
`;

test("a name learned on one node does not open the address on another", () => {
  const dp = makeDatapath(SCN, { "p.yaml": POLICY });
  assert.equal(trace(dp, { from: "app/client", toFQDN: "api.example.com", port: 443 }).verdict, "FORWARDED");
  // same identity, same policy, but node-2's DNS proxy never saw the answer
  const other = trace(dp, { from: "app/client2", toIP: "54.1.2.3", port: 443 });
  assert.equal(other.verdict, "DROPPED");
  assert.equal(other.drop_reason_desc, "POLICY_DENIED");
  const drop = other.flows.find((f) => f.flow.verdict === "DROPPED")!.flow;
  assert.equal(drop.destination?.identity, 2, "node-2's ipcache has no FQDN identity for it: world");
  assert.ok(other.explanation.some((l) => l.includes("learned from DNS answers on node-1 only")), other.explanation.join("\n"));
  // the first node still connects by address, as its cache holds the answer
  const same = trace(dp, { from: "app/client", toIP: "54.1.2.3", port: 443 });
  assert.equal(same.verdict, "FORWARDED");
  assert.equal(verdictEvents(same)[0]?.destination?.labels?.includes("cidr:54.1.2.3/32"), true);
  // once node-2 resolves the name itself, it connects too
  assert.equal(trace(dp, { from: "app/client2", toFQDN: "api.example.com", port: 443 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "app/client2", toIP: "54.1.2.3", port: 443 }).verdict, "FORWARDED");
  // each node's ipcache lists what it learned
  assert.ok(dp.ipcache("node-1").some((e) => e.prefix === "54.1.2.3/32" && e.source === "fqdn"));
  const dp2 = makeDatapath(SCN, { "p.yaml": POLICY });
  trace(dp2, { from: "app/client", toFQDN: "api.example.com", port: 443 });
  assert.ok(!dp2.ipcache("node-2").some((e) => e.prefix === "54.1.2.3/32"));
  assert.equal(dp2.fqdnCache().find((e) => e.name === "api.example.com")?.node, "node-1");
});

test("an address DNS gave for a name no toFQDNs selector matches stays world", () => {
  const dp = makeDatapath(SCN, { "p.yaml": POLICY });
  const r = trace(dp, { from: "app/client", toFQDN: "other.example.org", port: 443 });
  assert.equal(r.verdict, "DROPPED");
  const drop = r.flows.find((f) => f.flow.verdict === "DROPPED" && f.flow.l4?.TCP)!.flow;
  assert.equal(drop.destination?.identity, 2);
  assert.deepEqual(drop.destination?.labels, ["reserved:world"]);
  assert.deepEqual(drop.destination_names, ["other.example.org"], "Hubble still names it from the endpoint's DNS history");
  assert.ok(!dp.identities().some((i) => i.labels.includes("cidr:54.9.9.9/32")));
  assert.ok(dp.identities().some((i) => i.labels.includes("cidr:54.1.2.3/32")) === false, "nothing resolved api.example.com yet");
});
