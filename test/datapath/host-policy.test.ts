// Host policies (Cilium's host firewall): a CCNP with nodeSelector applies to the host endpoint of
// the nodes whose labels match (identity reserved:host), i.e. to traffic to and from the node's IPs
// and its hostNetwork pods; it goes default-deny in the directions it has rules for; traffic between
// ordinary pods is not affected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Datapath } from "../../server/datapath";
import { parseScenario } from "../../server/scenario/load";
import { NOW, TWO_NODES, dropEvents, trace, verdictEvents } from "./helpers";

const SCN = `${TWO_NODES}namespaces: [{ name: default }, { name: monitoring }]
workloads:
  - { name: web, namespace: default, labels: { app: web }, node: node-1, ports: [{ port: 80, app: http }] }
  - { name: client, namespace: default, labels: { app: client }, node: node-2 }
  - { name: exporter, namespace: monitoring, labels: { app: exporter }, node: node-1, hostNetwork: true, ports: [{ name: metrics, port: 9100, app: http }] }
external:
  - { name: admin, ips: [203.0.113.7] }
  - { name: scanner, ips: [198.51.100.9] }
`;

/** SCN with each node's labels written into the scenario file */
function datapath(policies: string[], nodeLabels: Record<string, Record<string, string>> = { "node-1": { "node-access": "ssh" } }): Datapath {
  const text = SCN.replace(/\{ name: (node-\d), ip: ([\d.]+) \}/g, (_, name: string, ip: string) => `{ name: ${name}, ip: ${ip}, labels: ${JSON.stringify(nodeLabels[name] ?? {})} }`);
  const scenario = parseScenario(text, "/test/host-policy.yaml");
  const dp = new Datapath(scenario);
  for (const [i, p] of policies.entries()) {
    const { warnings } = dp.upsertPolicyYaml(p, `host-${i}.yaml`);
    assert.deepEqual(warnings.map((w) => w.text), []);
  }
  return dp;
}

// the shape of examples/policies/host/demo-host-policy.yaml: SSH and ping from outside, anything from the cluster
const DEMO = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: demo-host-policy }
spec:
  description: ""
  nodeSelector: { matchLabels: { node-access: ssh } }
  ingress:
  - fromEntities: [cluster]
  - toPorts: [{ ports: [{ port: "22", protocol: TCP }] }]
  - icmps: [{ fields: [{ type: 8, family: IPv4 }] }]
`;

const ssh = (to: string) => ({ from: { ip: "203.0.113.7" }, toIP: to, port: 22, protocol: "TCP" as const });
const ftp = (to: string) => ({ from: { ip: "203.0.113.7" }, toIP: to, port: 21, protocol: "TCP" as const });

test("a host policy puts the selected node's host endpoint into ingress default deny", () => {
  const dp = datapath([DEMO]);
  const ok = trace(dp, ssh("192.168.1.10"));
  assert.equal(ok.verdict, "FORWARDED");
  const pv = verdictEvents(ok);
  assert.equal(pv.length, 1);
  assert.equal(pv[0].traffic_direction, "INGRESS");
  assert.equal(pv[0].policy_match_type, 3); // L4-Only
  assert.equal(pv[0].destination?.identity, 1);
  assert.equal(pv[0].ingress_allowed_by?.[0].name, "demo-host-policy");
  assert.equal(pv[0].ingress_allowed_by?.[0].kind, "CiliumClusterwideNetworkPolicy");

  const denied = trace(dp, ftp("192.168.1.10"));
  assert.equal(denied.verdict, "DROPPED");
  assert.equal(denied.drop_reason_desc, "POLICY_DENIED");
  assert.equal(dropEvents(denied)[0].drop_reason, 133);
  assert.deepEqual(denied.ingress?.default_deny_by?.map((p) => p.name), ["demo-host-policy"]);
  assert.ok(denied.explanation.some((l) => l.includes("host endpoint of node node-1")), denied.explanation.join("\n"));

  const ping = trace(dp, { from: { ip: "198.51.100.9" }, toIP: "192.168.1.10", protocol: "ICMP", icmpType: 8 });
  assert.equal(ping.verdict, "FORWARDED");
});

test("nodes the nodeSelector does not match keep an open host", () => {
  const dp = datapath([DEMO]);
  const r = trace(dp, ftp("192.168.1.11"));
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(verdictEvents(r).length, 0);
  assert.ok(r.explanation.some((l) => l.includes("no host policy with ingress rules selects node node-2")));
  // labelling node-2 as well makes it default-deny too
  const both = datapath([DEMO], { "node-1": { "node-access": "ssh" }, "node-2": { "node-access": "ssh" } });
  assert.equal(trace(both, ftp("192.168.1.11")).verdict, "DROPPED");
});

test("the host's identity peers: a pod on the cluster is allowed by fromEntities cluster, world is not", () => {
  const dp = datapath([DEMO]);
  // client runs on node-2: its egress is open, the host ingress at node-1 sees the pod's identity
  const fromPod = trace(dp, { from: "default/client", toIP: "192.168.1.10", port: 10250, protocol: "TCP" });
  assert.equal(fromPod.verdict, "FORWARDED");
  const pv = verdictEvents(fromPod);
  assert.equal(pv.length, 1);
  assert.equal(pv[0].policy_match_type, 1); // L3-Only
  // the other node's host is remote-node, which `cluster` includes
  const fromNode2 = trace(dp, { from: { ip: "192.168.1.11" }, toIP: "192.168.1.10", port: 2379, protocol: "TCP" });
  assert.equal(fromNode2.verdict, "FORWARDED");
  assert.equal(verdictEvents(fromNode2)[0].source?.identity, 6);
  const fromWorld = trace(dp, { from: { ip: "198.51.100.9" }, toIP: "192.168.1.10", port: 2379, protocol: "TCP" });
  assert.equal(fromWorld.verdict, "DROPPED");
});

test("hostNetwork pods are the host: ingress to them is governed by the host policy, and named ports are theirs", () => {
  const named = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: metrics-from-admin }
spec:
  nodeSelector: { matchLabels: { node-access: ssh } }
  ingress:
  - fromCIDR: [203.0.113.0/24]
    toPorts: [{ ports: [{ port: metrics, protocol: TCP }] }]
`;
  const dp = datapath([named]);
  const ok = trace(dp, { from: { ip: "203.0.113.7" }, to: "monitoring/exporter", port: 9100, protocol: "TCP" });
  assert.equal(ok.verdict, "FORWARDED");
  assert.equal(verdictEvents(ok)[0].ingress_allowed_by?.[0].name, "metrics-from-admin");
  const scanner = trace(dp, { from: { ip: "198.51.100.9" }, to: "monitoring/exporter", port: 9100, protocol: "TCP" });
  assert.equal(scanner.verdict, "DROPPED");
  assert.equal(scanner.drop_reason_desc, "POLICY_DENIED");
});

test("host egress: default deny for the host's own connections, pods' traffic untouched", () => {
  const egress = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: host-egress }
spec:
  nodeSelector: {}
  egress:
  - toEntities: [remote-node, kube-apiserver]
  - toPorts: [{ ports: [{ port: "53", protocol: UDP }] }]
`;
  const dp = datapath([egress]);
  // a hostNetwork pod's connection leaves from the host endpoint
  const toWorld = trace(dp, { from: "monitoring/exporter", toIP: "198.51.100.9", port: 443, protocol: "TCP" });
  assert.equal(toWorld.verdict, "DROPPED");
  assert.equal(toWorld.egress?.verdict, "DROPPED");
  assert.equal(dropEvents(toWorld)[0].traffic_direction, "EGRESS");
  const toNode = trace(dp, { from: { ip: "192.168.1.10" }, toIP: "192.168.1.11", port: 10250, protocol: "TCP" });
  assert.equal(toNode.verdict, "FORWARDED");
  assert.equal(verdictEvents(toNode)[0].destination?.identity, 6);
  // host → local pod is host egress too; the pod's ingress stays open (no pod policy)
  const toPod = trace(dp, { from: { ip: "192.168.1.10" }, to: "default/web", port: 80, protocol: "TCP" });
  assert.equal(toPod.verdict, "DROPPED");
  // pods are not selected by a nodeSelector: pod egress to the world stays allowed
  const podOut = trace(dp, { from: "default/web", toIP: "198.51.100.9", port: 443, protocol: "TCP" });
  assert.equal(podOut.verdict, "FORWARDED");
  assert.equal(verdictEvents(podOut).length, 0);
});

test("host deny rules win and report POLICY_DENY (181)", () => {
  const deny = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: no-ssh-from-scanner }
spec:
  nodeSelector: { matchLabels: { node-access: ssh } }
  ingressDeny:
  - fromCIDR: [198.51.100.9/32]
    toPorts: [{ ports: [{ port: "22", protocol: TCP }] }]
`;
  const dp = datapath([DEMO, deny]);
  const r = trace(dp, ssh("192.168.1.10"));
  assert.equal(r.verdict, "FORWARDED");
  const blocked = trace(dp, { from: { ip: "198.51.100.9" }, toIP: "192.168.1.10", port: 22, protocol: "TCP" });
  assert.equal(blocked.drop_reason_desc, "POLICY_DENY");
  assert.equal(verdictEvents(blocked)[0].ingress_denied_by?.[0].name, "no-ssh-from-scanner");
  // the drop event names the program that dropped it: the host firewall runs in bpf_host; a policy
  // verdict event carries no file
  assert.deepEqual(dropEvents(blocked).map((f) => f.file), [{ name: "bpf_host.c" }]);
  assert.equal(verdictEvents(blocked)[0].file, undefined);
});

test("traffic inside one host is not checked; endpoint selectors never select the host", () => {
  const ccnpAll = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: all-endpoints }
spec:
  endpointSelector: {}
  ingress: [{ fromEntities: [cluster] }]
`;
  const dp = datapath([DEMO, ccnpAll]);
  const local = trace(dp, { from: { ip: "192.168.1.10" }, to: "monitoring/exporter", port: 9100, protocol: "TCP" });
  assert.equal(local.verdict, "FORWARDED");
  assert.equal(verdictEvents(local).length, 0);
  // all-endpoints selects pods only: the world still reaches node-2's host
  assert.equal(trace(dp, ftp("192.168.1.11")).verdict, "FORWARDED");
  const host1 = dp.cluster.hostEndpointByNode.get("node-1")!;
  assert.deepEqual(dp.engine.rulesFor(host1).map((r) => r.policy.name), ["demo-host-policy"]);
  const info = dp.policies().find((p) => p.name === "demo-host-policy")!;
  assert.deepEqual(info.selectedEndpoints, [host1.endpointId]);
});

test("audit mode turns host drops into AUDIT; mode never disables the host firewall", () => {
  const scenario = parseScenario(SCN, "/test/host-policy.yaml");
  for (const n of scenario.nodes) (n as { labels?: Record<string, string> }).labels = { "node-access": "ssh" };
  const audit = new Datapath(scenario, { audit: true });
  audit.upsertPolicyYaml(DEMO, "demo.yaml");
  assert.equal(audit.process(ftp("192.168.1.10"), NOW).verdict, "AUDIT");

  const never = parseScenario(SCN.replace("external:", "settings: { policyEnforcementMode: never }\nexternal:"), "/test/never.yaml");
  for (const n of never.nodes) (n as { labels?: Record<string, string> }).labels = { "node-access": "ssh" };
  const off = new Datapath(never);
  off.upsertPolicyYaml(DEMO, "demo.yaml");
  assert.equal(off.process(ftp("192.168.1.10"), NOW).verdict, "FORWARDED");
});

test("policy enforcement mode always does not lock hosts without a host policy", () => {
  const always = parseScenario(SCN.replace("external:", "settings: { policyEnforcementMode: always }\nexternal:"), "/test/always.yaml");
  const dp = new Datapath(always);
  assert.equal(dp.process(ftp("192.168.1.10"), NOW).verdict, "FORWARDED");
  // pods are default-deny in this mode, as before
  assert.equal(dp.process({ from: { ip: "203.0.113.7" }, to: "default/web", port: 80, protocol: "TCP" }, NOW).verdict, "DROPPED");
});

test("host policies reject L7 rules other than DNS egress, with the field path", () => {
  const scenario = parseScenario(SCN, "/test/host-policy.yaml");
  const dp = new Datapath(scenario);
  const { warnings, applied } = dp.upsertPolicyYaml(`apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: host-http }
spec:
  nodeSelector: {}
  ingress:
  - toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET }] } }]
`, "bad.yaml");
  assert.equal(applied.length, 0);
  assert.match(warnings[0].text, /spec\.ingress\[0\]\.toPorts\[0\]\.rules/);
  assert.match(warnings[0].text, /host policies/);
});

test("lint warns about a nodeSelector that selects no node", async () => {
  const { lintDatapath } = await import("../../server/datapath/lint");
  const dp = datapath([DEMO.replace("node-access: ssh", "node-access: vpn").replace("demo-host-policy", "no-such-node")]);
  const f = lintDatapath(dp).find((x) => x.policy === "CiliumClusterwideNetworkPolicy no-such-node");
  assert.equal(f?.path, "spec.nodeSelector");
  assert.match(f!.message, /selects no node/);
  assert.equal(lintDatapath(datapath([DEMO])).filter((x) => x.path === "spec.nodeSelector").length, 0);
});

test("node labels reach the host endpoint through the identity-label filter: kubernetes.io/hostname and the other kubelet labels select no node unless settings.labels keeps them", async () => {
  const { lintDatapath } = await import("../../server/datapath/lint");
  const byHostname = DEMO.replace("node-access: ssh", "kubernetes.io/hostname: node-1").replace("demo-host-policy", "by-hostname");
  const byOs = DEMO.replace("{ matchLabels: { node-access: ssh } }", "{ matchExpressions: [{ key: kubernetes.io/os, operator: In, values: [linux] }] }").replace("demo-host-policy", "by-os");
  for (const policy of [byHostname, byOs]) {
    const dp = datapath([policy]);
    // every Node carries them, but the agent leaves them out of its host endpoint's labels
    assert.equal(dp.cluster.nodes[0]!.labels["kubernetes.io/hostname"], "node-1");
    assert.equal(dp.cluster.nodes[0]!.labels["kubernetes.io/os"], "linux");
    assert.equal(trace(dp, ftp("192.168.1.10")).verdict, "FORWARDED", "the host stays open");
    const f = lintDatapath(dp).filter((x) => /nodeSelector/.test(x.path));
    assert.ok(f.some((x) => /left out of host endpoints' labels by Cilium's identity-label filter/.test(x.message)), JSON.stringify(f));
    assert.ok(f.some((x) => /selects no node/.test(x.message)));
  }
  const host = datapath([DEMO]).cluster.hostEndpoints.find((h) => h.node === "node-1")!;
  assert.deepEqual(host.labels, ["k8s:node-access=ssh", "reserved:host"]);
  // an inclusive pattern longer than the default !kubernetes.io keeps the label, as the agent's `labels` option does
  const scenario = parseScenario(SCN.replace("external:", 'settings: { labels: ["kubernetes.io/hostname"] }\nexternal:'), "/test/host-policy.yaml");
  const kept = new Datapath(scenario);
  kept.upsertPolicyYaml(byHostname, "h.yaml");
  assert.equal(kept.process(ftp("192.168.1.10"), NOW).verdict, "DROPPED");
  assert.equal(kept.process(ftp("192.168.1.11"), NOW).verdict, "FORWARDED", "node-2 is not node-1");
});

test("node labels in the scenario file are validated like any label", () => {
  assert.throws(() => parseScenario(SCN.replace("{ name: node-2, ip: 192.168.1.11 }", '{ name: node-2, ip: 192.168.1.11, labels: { "bad key!": x } }'), "/test/bad.yaml"), /nodes\[1\]\.labels.*not a valid label key/);
});

test("a pod's packet to its own node goes to the stack, or with the host firewall on is handed to cilium_host (TO_HOST, the host endpoint's ID); to another node it goes to the stack as remote-node", () => {
  // no host policy, so no host firewall: bpf_lxc passes the packet to the stack, on no device
  const plain = trace(datapath([]), { from: "default/web", toIP: "192.168.1.10", port: 10250, protocol: "TCP" });
  const toStackLocal = plain.flows.find((f) => f.flow.event_type?.type === 4 && !f.flow.is_reply)!.flow;
  assert.equal(toStackLocal.trace_observation_point, "TO_STACK");
  assert.equal(toStackLocal.destination?.identity, 1);
  assert.equal(toStackLocal.interface, undefined);
  const dp = datapath([DEMO]);
  const host1 = dp.cluster.hostEndpointByNode.get("node-1")!;
  const local = trace(dp, { from: "default/web", toIP: "192.168.1.10", port: 10250, protocol: "TCP" });
  const toHost = local.flows.find((f) => f.flow.event_type?.type === 4 && !f.flow.is_reply && f.flow.trace_observation_point === "TO_HOST")!.flow;
  assert.ok(toHost, JSON.stringify(local.flows.map((f) => f.flow.trace_observation_point)));
  assert.deepEqual(toHost.event_type, { type: 4, sub_type: 2 });
  assert.equal(toHost.node_name, "node-1");
  assert.equal(toHost.destination?.identity, 1);
  assert.equal(toHost.destination?.ID, host1.endpointId);
  assert.ok(toHost.destination?.labels?.includes("reserved:host"));
  assert.deepEqual(toHost.interface, { index: 4, name: "cilium_host" });

  const remote = trace(dp, { from: "default/web", toIP: "192.168.1.11", port: 10250, protocol: "TCP" });
  const toStack = remote.flows.find((f) => f.flow.event_type?.type === 4 && !f.flow.is_reply)!.flow;
  assert.equal(toStack.trace_observation_point, "TO_STACK");
  assert.deepEqual(toStack.event_type, { type: 4, sub_type: 3 });
  assert.equal(toStack.destination?.identity, 6);
  assert.equal(toStack.destination?.ID, undefined);
});

test("records taken on a node see that node's own address as the host, the other node's as remote-node", () => {
  const egress = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: node-egress }
spec:
  nodeSelector: { matchLabels: { node-access: ssh } }
  egress:
  - toEntities: [remote-node]
`;
  const dp = datapath([DEMO, egress]);
  // node-2 → node-1:22: the ingress verdict on node-1 names node-1 as the host (its host endpoint)
  const ingress = verdictEvents(trace(dp, { from: { ip: "192.168.1.11" }, toIP: "192.168.1.10", port: 22, protocol: "TCP" }));
  assert.equal(ingress.length, 1);
  assert.match(ingress[0]!.node_name ?? "", /node-1$/);
  assert.equal(ingress[0]!.source?.identity, 6, "the peer node is remote-node");
  assert.equal(ingress[0]!.destination?.identity, 1, "node-1's own address is the host on node-1");
  assert.deepEqual(ingress[0]!.destination?.labels, ["reserved:host"]);
  assert.ok(ingress[0]!.destination?.ID, "with the host endpoint's ID");
  // node-1 → node-2: the egress verdict on node-1 likewise names its own source as the host
  const out = verdictEvents(trace(dp, { from: { ip: "192.168.1.10" }, toIP: "192.168.1.11", port: 10250, protocol: "TCP" }));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.traffic_direction, "EGRESS");
  assert.equal(out[0]!.source?.identity, 1);
  assert.equal(out[0]!.destination?.identity, 6);
});
