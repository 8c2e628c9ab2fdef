// Policy-map inspection rows and counters for the worked cases of policy-semantics.md §4, through
// the live Datapath (no server).
import { test } from "node:test";
import assert from "node:assert/strict";
import { endpointsView, findEndpoint, identitiesView, identityView, InspectError, ipcacheView, policyMapView, selectorsView } from "../../server/datapath/inspect";
import { makeDatapath, NOW, P_A1, P_A3, pA2, STAR_WARS } from "../datapath/helpers";

const SW_SCENARIO = `${STAR_WARS}
nodes: [{ name: node-1, ip: 192.168.1.10 }, { name: node-2, ip: 192.168.1.11 }]
`;

function podIdentity(dp: ReturnType<typeof makeDatapath>, workload: string): number {
  return dp.cluster.workloadPods(workload)![0]!.identity.id;
}

test("A3/A4: P-A1 gives deathstar one ingress entry for tiefighter's identity on 80/TCP and nothing for xwing", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": P_A1 });
  const tie = podIdentity(dp, "default/tiefighter");
  const xwing = podIdentity(dp, "default/xwing");
  const deathstar = dp.cluster.workloadPods("default/deathstar")![0]!;
  const view = policyMapView(dp, String(deathstar.endpointId));
  const ingress = view.rows.filter((r) => r.direction === "ingress");
  // org=empire selects tiefighter and deathstar itself
  assert.deepEqual(ingress.map((r) => r.identity).sort(), [tie, deathstar.identity.id].sort());
  const row = ingress.find((r) => r.identity === tie)!;
  assert.equal(row.protocol, "TCP");
  assert.equal(row.port, "80");
  assert.equal(row.action, "allow");
  assert.equal(row.l7Redirect, false);
  assert.deepEqual(row.policies, [{ name: "rule1", namespace: "default", kind: "CiliumNetworkPolicy", path: "spec.ingress[0].toPorts[0].ports[0]" }]);
  assert.ok(row.identityLabels.includes("k8s:class=tiefighter"));
  assert.ok(!ingress.some((r) => r.identity === xwing));
  // A6: egress is not enforced and has no entries
  assert.equal(view.rows.filter((r) => r.direction === "egress").length, 0);
  assert.equal(view.endpoint.ingress.enforcement, "on");
  assert.deepEqual(view.endpoint.ingress.enabledBy, [{ name: "rule1", namespace: "default", kind: "CiliumNetworkPolicy" }]);
  assert.equal(view.endpoint.egress.enforcement, "off");
});

test("A7: P-A2 marks the 80/TCP entry as an L7 redirect", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": pA2() });
  const tie = podIdentity(dp, "default/tiefighter");
  const view = policyMapView(dp, "default/" + dp.cluster.workloadPods("default/deathstar")![0]!.name);
  const row = view.rows.find((r) => r.identity === tie)!;
  assert.equal(row.l7Redirect, true);
  assert.equal(row.port, "80");
});

test("counters increase by exactly the flows sent, bytes from the request size; per-policy allow/deny counts", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": P_A1 });
  const tie = podIdentity(dp, "default/tiefighter");
  const rowOf = () => policyMapView(dp, String(dp.cluster.workloadPods("default/deathstar")![0]!.endpointId)).rows.find((r) => r.identity === tie)!;
  assert.equal(rowOf().packets, 0);
  assert.equal(rowOf().lastHit, null);
  // deathstar has 2 replicas and the service round-robins, so 6 requests = 3 per backend pod
  const req = { from: "default/tiefighter", toService: "default/deathstar", port: 80, http: { method: "POST", path: "/v1/request-landing" } };
  for (let i = 0; i < 6; i++) dp.process(req, NOW);
  const row = rowOf();
  assert.equal(row.packets, 3);
  // IPv4 20 + TCP 20 + "POST /v1/request-landing HTTP/1.1\r\n" + "Host: <authority>\r\n\r\n"
  const perRequest = row.bytes / 3;
  assert.ok(Number.isInteger(perRequest) && perRequest > 40 + 30, `bytes per request ${perRequest}`);
  assert.equal(row.lastHit, NOW.toISOString());
  // xwing is dropped by default deny: counted for the policy that enabled it, no entry hit
  for (let i = 0; i < 4; i++) dp.process({ from: "default/xwing", toService: "default/deathstar", port: 80 }, NOW);
  const c = dp.engine.policies.get("CiliumNetworkPolicy/default/rule1")!.counters!;
  assert.deepEqual(c.ingress, { allowed: 6, denied: 0, defaultDenied: 4 });
  assert.deepEqual(c.egress, { allowed: 0, denied: 0, defaultDenied: 0 });
  const total = policyMapView(dp, String(dp.cluster.workloadPods("default/deathstar")![1]!.endpointId)).rows.reduce((n, r) => n + r.packets, 0);
  assert.equal(total, 3);
});

test("counting off leaves every counter at zero", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": P_A1 }, { counters: false });
  for (let i = 0; i < 3; i++) dp.process({ from: "default/tiefighter", toService: "default/deathstar", port: 80 }, NOW);
  const rows = dp.cluster.workloadPods("default/deathstar")!.flatMap((p) => policyMapView(dp, String(p.endpointId)).rows);
  assert.equal(rows.reduce((n, r) => n + r.packets, 0), 0);
  assert.equal(dp.engine.policies.get("CiliumNetworkPolicy/default/rule1")!.counters, undefined);
});

const D_SCENARIO = `
apiVersion: flowscope/v1
kind: Scenario
metadata: { name: deny }
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - { name: server, namespace: default, labels: { app: server } }
`;
const ALLOW_L3 = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: allow-l3, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: server } }
  ingress: [{ fromEndpoints: [{ matchLabels: { app: client } }] }]
`;
const DENY_L4_80 = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: deny-l4-80, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: server } }
  ingressDeny: [{ toPorts: [{ ports: [{ port: "80", protocol: TCP }] }] }]
`;

test("D5: a deny entry (ANY, 80/TCP) beside the L3 allow; hits on it count as denied for the deny policy", () => {
  const dp = makeDatapath(D_SCENARIO, { "a.yaml": ALLOW_L3, "d.yaml": DENY_L4_80 });
  const server = dp.cluster.workloadPods("default/server")![0]!;
  const client = dp.cluster.workloadPods("default/client")![0]!;
  const rows = policyMapView(dp, String(server.endpointId)).rows;
  const deny = rows.find((r) => r.action === "deny")!;
  assert.deepEqual([deny.identity, deny.protocol, deny.port], ["ANY", "TCP", "80"]);
  assert.deepEqual(deny.policies.map((p) => p.name), ["deny-l4-80"]);
  const l3 = rows.find((r) => r.identity === client.identity.id)!;
  assert.deepEqual([l3.protocol, l3.port, l3.action], ["ANY", "ANY", "allow"]);
  dp.process({ from: "default/client", to: "default/server", port: 80 }, NOW);
  dp.process({ from: "default/client", to: "default/server", port: 81 }, NOW);
  const after = policyMapView(dp, String(server.endpointId)).rows;
  assert.equal(after.find((r) => r.action === "deny")!.packets, 1);
  assert.equal(after.find((r) => r.identity === client.identity.id)!.packets, 1);
  assert.equal(dp.engine.policies.get("CiliumNetworkPolicy/default/deny-l4-80")!.counters!.ingress.denied, 1);
  assert.equal(dp.engine.policies.get("CiliumNetworkPolicy/default/allow-l3")!.counters!.ingress.allowed, 1);
});

test("enforcement audit: a namespace in audit mode reports audit, P-A3 enables it", () => {
  const dp = makeDatapath(`${SW_SCENARIO}\nsettings: { policyAuditMode: true }\n`, { "p.yaml": P_A3 });
  const ep = endpointsView(dp).endpoints.find((e) => e.workload === "deathstar")!;
  assert.equal(ep.ingress.enforcement, "audit");
  assert.deepEqual(ep.ingress.enabledBy.map((p) => p.name), ["empire-default-deny"]);
  assert.equal(endpointsView(dp).endpoints.find((e) => e.workload === "xwing")!.ingress.enforcement, "off");
});

test("identities and ipcache match the scenario; reserved identities carry their labels", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": P_A1 });
  const ids = identitiesView(dp).identities;
  assert.deepEqual(ids.filter((i) => i.kind === "reserved").map((i) => i.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(identityView(dp, "2").labels, ["reserved:world"]);
  assert.deepEqual(identityView(dp, "1").labels, ["reserved:host"]);
  const pods = ids.filter((i) => i.kind === "pod");
  // deathstar's replicas share one identity; the scenario loader adds kube-dns in kube-system
  assert.deepEqual(pods.map((i) => i.labels.find((l) => /^k8s:(class|k8s-app)=/.test(l))).sort(), ["k8s:class=deathstar", "k8s:class=tiefighter", "k8s:class=xwing", "k8s:k8s-app=kube-dns"]);
  const ds = dp.cluster.workloadPods("default/deathstar")!;
  assert.deepEqual(identityView(dp, String(ds[0]!.identity.id)).endpoints.sort(), ds.map((p) => p.endpointId).sort());
  assert.ok(identityView(dp, String(ds[0]!.identity.id)).labels.includes("k8s:io.kubernetes.pod.namespace=default"));
  assert.throws(() => identityView(dp, "999"), (e: unknown) => e instanceof InspectError && e.status === 404 && /999/.test(e.message));
  assert.throws(() => identityView(dp, "abc"), (e: unknown) => e instanceof InspectError && e.status === 400 && e.field === "id");

  const ipc = ipcacheView(dp, "node-1");
  for (const p of dp.cluster.endpoints) assert.ok(ipc.entries.some((e) => e.prefix === `${p.ip}/32` && e.identity === p.identity.id && e.source === "pod"));
  assert.ok(ipc.entries.some((e) => e.prefix === "192.168.1.10/32" && e.identity === 1 && e.source === "node"));
  assert.ok(ipc.entries.some((e) => e.prefix === "192.168.1.11/32" && e.identity === 6 && e.source === "node"));
  assert.throws(() => ipcacheView(dp, "node-9"), (e: unknown) => e instanceof InspectError && e.field === "node");
  assert.throws(() => findEndpoint(dp, "default/nope"), (e: unknown) => e instanceof InspectError && e.status === 404 && /default\/nope/.test(e.message));
});

test("selectors: the org=empire selector, its policy and the identities it matches", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": P_A1 });
  const sel = selectorsView(dp).selectors.find((s) => s.selector.includes("org") && s.selector.includes("empire"))!;
  assert.ok(sel, JSON.stringify(selectorsView(dp)));
  assert.deepEqual(sel.policies, [{ name: "rule1", namespace: "default", kind: "CiliumNetworkPolicy" }]);
  const expect = [podIdentity(dp, "default/tiefighter"), podIdentity(dp, "default/deathstar")].sort((a, b) => a - b);
  assert.deepEqual(sel.identities, expect);
  assert.deepEqual(sel.users, dp.cluster.workloadPods("default/deathstar")!.map((p) => p.endpointId).sort((a, b) => a - b));
});

test("hot reload: counters survive for unchanged entries, new entries start at zero", () => {
  const dp = makeDatapath(SW_SCENARIO, { "p.yaml": P_A1 });
  const ds = dp.cluster.workloadPods("default/deathstar")![0]!;
  const tie = podIdentity(dp, "default/tiefighter");
  dp.process({ from: "default/tiefighter", to: "default/deathstar", port: 80 }, NOW);
  const xwingPolicy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: xwing-in, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: deathstar } }
  ingress: [{ fromEndpoints: [{ matchLabels: { class: xwing } }], toPorts: [{ ports: [{ port: "443", protocol: TCP }] }] }]
`;
  const rev = dp.revision();
  dp.upsertPolicyYaml(xwingPolicy, "api");
  const view = policyMapView(dp, String(ds.endpointId));
  assert.ok(view.revision > rev);
  const fresh = view.rows.find((r) => r.port === "443")!;
  assert.equal(fresh.identity, podIdentity(dp, "default/xwing"));
  assert.equal(fresh.packets, 0);
  assert.equal(view.rows.find((r) => r.identity === tie && r.port === "80")!.packets, 1);
});
