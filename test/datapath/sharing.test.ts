// Compiled policy maps are shared by endpoints with the same compile inputs (the identity, plus what
// the compiler reads of the endpoint: ingress named ports, the node for kube-apiserver, a host
// endpoint's node labels), as Cilium shares an identity's resolved policy between its endpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cnp, makeDatapath, P_A1, STAR_WARS, trace } from "./helpers";
import { parsePolicyText } from "../../server/datapath/policy/documents";
import { PROTO_TCP } from "../../server/datapath/policy-map";

test("endpoints of the same workload share one map; other identities have their own", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  const [d1, d2] = dp.cluster.workloadPods("default/deathstar")!;
  const tie = dp.cluster.workloadPods("default/tiefighter")![0]!;
  const xw = dp.cluster.workloadPods("default/xwing")![0]!;
  const map = (id: number) => dp.engine.compiled.get(id)!;
  assert.equal(map(d1!.endpointId), map(d2!.endpointId));
  assert.equal(map(d1!.endpointId).ingress, map(d2!.endpointId).ingress);
  assert.notEqual(map(tie.endpointId), map(xw.endpointId));
  assert.notEqual(map(tie.endpointId), map(d1!.endpointId));
  assert.deepEqual(dp.engine.sharingWith(d1!.endpointId), [d1!.endpointId, d2!.endpointId].sort((a, b) => a - b));
  const endpoints = dp.cluster.endpoints.length + dp.cluster.hostEndpoints.length;
  assert.equal(dp.engine.sharedMapCount, endpoints - 1);
});

test("100 workloads × 5 replicas compile to one map per identity", () => {
  const lines = ["apiVersion: flowscope/v1", "kind: Scenario", "namespaces: [{ name: default }]", "workloads:"];
  for (let i = 0; i < 100; i++) lines.push(`  - { name: w${i}, namespace: default, labels: { app: a${i} }, replicas: 5 }`);
  const dp = makeDatapath(lines.join("\n"));
  const pods = dp.cluster.endpoints.filter((e) => e.workload.startsWith("w"));
  assert.equal(pods.length, 500);
  assert.equal(new Set(pods.map((p) => dp.engine.compiled.get(p.endpointId))).size, 100);
});

const NAMED = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - { name: web-a, namespace: default, labels: { app: web }, ports: [{ name: http, port: 80, app: http }] }
  - { name: web-b, namespace: default, labels: { app: web }, ports: [{ name: http, port: 8080, app: http }] }
`;
const webIngress = (port: string) => cnp("web-in", "{ app: web }", `  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "${port}", protocol: TCP }] }]
`);

test("same labels, different named ports: separate maps, each resolving the port against its own pod", () => {
  const dp = makeDatapath(NAMED, { "p.yaml": webIngress("http") });
  const a = dp.cluster.workloadPods("default/web-a")![0]!;
  const b = dp.cluster.workloadPods("default/web-b")![0]!;
  assert.equal(a.identity.id, b.identity.id, "one identity");
  assert.notEqual(dp.engine.compiled.get(a.endpointId), dp.engine.compiled.get(b.endpointId));
  const client = dp.cluster.workloadPods("default/client")![0]!.identity.id;
  const allows = (id: number, port: number) => {
    const e = dp.engine.compiled.get(id)!.ingress.lookup(client, PROTO_TCP, port).entry;
    return e !== null && !e.deny;
  };
  assert.deepEqual([allows(a.endpointId, 80), allows(a.endpointId, 8080)], [true, false]);
  assert.deepEqual([allows(b.endpointId, 80), allows(b.endpointId, 8080)], [false, true]);
  assert.equal(trace(dp, { from: "default/client", to: "default/web-a", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web-b", port: 80 }).verdict, "DROPPED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web-b", port: 8080 }).verdict, "FORWARDED");

  // a numeric port makes the named ports irrelevant: the two pods share again
  dp.upsertPolicyYaml(webIngress("80"), "p2");
  assert.equal(dp.engine.compiled.get(a.endpointId), dp.engine.compiled.get(b.endpointId));
});

test("an incremental update affecting one identity recompiles its one map for all its endpoints, and nothing else", () => {
  const scn = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client }, replicas: 2 }
  - { name: api, namespace: default, labels: { app: api }, replicas: 5 }
  - { name: db, namespace: default, labels: { app: db }, replicas: 3 }
`;
  const dp = makeDatapath(scn);
  const before = new Map([...dp.engine.compiled].map(([id, c]) => [id, c]));
  const api = dp.cluster.workloadPods("default/api")!;
  const { policies } = parsePolicyText(cnp("api-in", "{ app: api }", `  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
`), "t");
  const stats = dp.engine.apply(policies);
  assert.deepEqual({ endpoints: stats.recompiledEndpoints, maps: stats.compiledMaps }, { endpoints: 5, maps: 1 });
  const fresh = dp.engine.compiled.get(api[0]!.endpointId)!;
  assert.notEqual(fresh, before.get(api[0]!.endpointId));
  for (const p of api) assert.equal(dp.engine.compiled.get(p.endpointId), fresh, `${p.name} uses the new map`);
  const apiIds = new Set(api.map((p) => p.endpointId));
  for (const [id, c] of dp.engine.compiled) if (!apiIds.has(id)) assert.equal(c, before.get(id), `endpoint ${id} untouched`);
  for (let i = 0; i < 5; i++) {
    assert.equal(trace(dp, { from: "default/client", to: "default/api", port: 443 }).verdict, "FORWARDED");
    assert.equal(trace(dp, { from: "default/client", to: "default/api", port: 80 }).verdict, "DROPPED");
  }
  assert.equal(trace(dp, { from: "default/client", to: "default/db", port: 80 }).verdict, "FORWARDED");

  // deleting it goes back the same way: one map, five endpoints
  const del = dp.engine.apply([], ["CiliumNetworkPolicy/default/api-in"]);
  assert.deepEqual({ endpoints: del.recompiledEndpoints, maps: del.compiledMaps }, { endpoints: 5, maps: 1 });
  assert.equal(trace(dp, { from: "default/client", to: "default/api", port: 80 }).verdict, "FORWARDED");
});

test("explanations of a shared map name the endpoint the packet went to", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  const pods = dp.cluster.workloadPods("default/deathstar")!;
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const r = trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80 });
    const line = r.explanation.find((l) => l.startsWith("ingress at default/deathstar"))!;
    seen.add(line.split(":")[0]!);
  }
  assert.deepEqual([...seen].sort(), pods.map((p) => `ingress at default/${p.name}`).sort());
});
