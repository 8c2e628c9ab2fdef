// The inspection REST routes and CLI commands against a real server running the Star Wars scenario
// (simulator at rate 0: requests are driven through the datapath directly), plus a hot reload.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { getJson, startTestServer, type TestServer } from "../helpers/server";
import type { EndpointsResponse, IdentitiesResponse, IdentityInfo, IpcacheResponse, PolicyMapResponse, SelectorsResponse } from "../../lib/inspect-types";
import { run as endpointCmd } from "../../server/cli/commands/endpoint";
import { run as identityCmd } from "../../server/cli/commands/identity";
import { run as ipcacheCmd } from "../../server/cli/commands/ipcache";
import { run as policyMapCmd } from "../../server/cli/commands/policy-map";
import { run as policyCmd } from "../../server/cli/commands/policy";

let server: TestServer;
before(async () => {
  server = await startTestServer({ scenario: "server/scenarios/star-wars/scenario.yaml", simulate: true, rate: 0 });
});
after(async () => {
  await server?.close();
});

const dp = () => server.ctx.simulator!.datapath;

async function cli(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await run([...argv, "--server", server.url]);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test("GET /api/endpoints lists every endpoint with enforcement and the policy that turned it on", async () => {
  const { status, body } = await getJson<EndpointsResponse>(`${server.url}/api/endpoints`);
  assert.equal(status, 200);
  // the pods, and each node's host endpoint, as cilium-dbg endpoint list shows them
  assert.equal(body.endpoints.length, dp().cluster.endpoints.length + dp().cluster.nodes.length);
  const hosts = body.endpoints.filter((e) => e.identity === 1);
  assert.equal(hosts.length, dp().cluster.nodes.length);
  for (const h of hosts) {
    assert.ok(h.labels.includes("reserved:host"));
    assert.match(h.pod, /^host:/);
    assert.equal(h.ingress.enforcement, "off", "no host policy here");
  }
  const ds = body.endpoints.filter((e) => e.workload === "deathstar");
  assert.equal(ds.length, 2);
  for (const e of ds) {
    assert.equal(e.ingress.enforcement, "on");
    assert.deepEqual(e.ingress.enabledBy, [{ name: "rule1", namespace: "default", kind: "CiliumNetworkPolicy" }]);
    assert.equal(e.egress.enforcement, "off");
    assert.match(e.ips[0]!, /^10\.0\./);
  }
});

test("policy map over REST: counters count exactly the requests driven through the datapath", async () => {
  const ds = dp().cluster.workloadPods("default/deathstar")!;
  const tie = dp().cluster.workloadPods("default/tiefighter")![0]!.identity.id;
  const url = `${server.url}/api/endpoints/${ds[0]!.endpointId}/policy-map`;
  const before = (await getJson<PolicyMapResponse>(url)).body.rows.find((r) => r.identity === tie)!;
  for (let i = 0; i < 5; i++) dp().process({ from: "default/tiefighter", to: "default/deathstar", port: 80, http: { method: "POST", path: "/v1/request-landing" } });
  const { status, body } = await getJson<PolicyMapResponse>(url);
  assert.equal(status, 200);
  const row = body.rows.find((r) => r.identity === tie)!;
  // `to: workload` round-robins over the 2 replicas: this one got 3 of the 5
  assert.equal(row.packets - before.packets, 3);
  assert.equal(row.l7Redirect, true);
  assert.equal(row.action, "allow");
  assert.equal(row.policies[0]!.name, "rule1");
  assert.ok(row.lastHit);
});

test("errors: unknown endpoint 404 naming it, bad id 400 with field", async () => {
  const nf = await getJson<{ error: string }>(`${server.url}/api/endpoints/99999/policy-map`);
  assert.equal(nf.status, 404);
  assert.match(nf.body.error, /99999/);
  const bad = await getJson<{ error: string; field: string }>(`${server.url}/api/endpoints/x%20y/policy-map`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, "id");
  const badId = await getJson<{ error: string; field: string }>(`${server.url}/api/identities/abc`);
  assert.equal(badId.status, 400);
  assert.equal(badId.body.field, "id");
  const noId = await getJson<{ error: string }>(`${server.url}/api/identities/4242`);
  assert.equal(noId.status, 404);
  assert.match(noId.body.error, /4242/);
  const badNode = await getJson<{ field: string }>(`${server.url}/api/ipcache?node=nope`);
  assert.equal(badNode.status, 400);
  assert.equal(badNode.body.field, "node");
});

test("identities, ipcache and selectors over REST", async () => {
  const ids = (await getJson<IdentitiesResponse>(`${server.url}/api/identities`)).body.identities;
  assert.ok(ids.some((i) => i.id === 2 && i.labels.includes("reserved:world")));
  const one = await getJson<IdentityInfo>(`${server.url}/api/identities/7`);
  assert.deepEqual(one.body.labels, ["reserved:kube-apiserver", "reserved:remote-node"]);
  const ipc = (await getJson<IpcacheResponse>(`${server.url}/api/ipcache?node=node-2`)).body;
  assert.equal(ipc.node, "node-2");
  assert.ok(ipc.entries.some((e) => e.prefix === "192.168.1.11/32" && e.identity === 1));
  const sels = (await getJson<SelectorsResponse>(`${server.url}/api/selectors`)).body.selectors;
  assert.ok(sels.some((s) => s.policies.some((p) => p.name === "rule1")));
});

test("CLI: endpoint list, identity list/get, ipcache list, policy-map get, policy selectors", async () => {
  const ep = await cli(endpointCmd, ["list"]);
  assert.equal(ep.code, 0, ep.err);
  const lines = ep.out.split("\n");
  assert.match(lines[0]!, /^ENDPOINT\s+POD\s+NAMESPACE\s+IDENTITY\s+IPv4\s+NODE\s+POLICY \(ingress\) ENFORCEMENT/);
  // aligned: every column of every row starts where the header's does
  const col = lines[0]!.indexOf("NAMESPACE");
  const dsLine = lines.find((l) => /deathstar/.test(l))!;
  assert.equal(dsLine.indexOf("default"), col);
  assert.match(dsLine, /\bon\b.*\boff\b.*ingress cnp:default\/rule1/);

  const json = await cli(endpointCmd, ["list", "-o", "json"]);
  assert.deepEqual(JSON.parse(json.out), (await getJson(`${server.url}/api/endpoints`)).body);

  const idl = await cli(identityCmd, ["list"]);
  assert.match(idl.out, /^ID\s+LABELS/);
  assert.match(idl.out, /\n2\s+reserved:world/);
  const idg = await cli(identityCmd, ["get", "7"]);
  assert.match(idg.out, /7\s+reserved:kube-apiserver\s*\n\s+reserved:remote-node/);
  const idbad = await cli(identityCmd, ["get", "x"]);
  assert.equal(idbad.code, 2);

  const ipc = await cli(ipcacheCmd, ["list"]);
  assert.match(ipc.out, /IP PREFIX\/ADDRESS\s+IDENTITY\s+SOURCE/);
  assert.match(ipc.out, /192\.168\.1\.10\/32\s+1\s+node/);

  const ds = dp().cluster.workloadPods("default/deathstar")![0]!;
  const pm = await cli(policyMapCmd, ["get", `default/${ds.name}`]);
  assert.equal(pm.code, 0, pm.err);
  assert.match(pm.out, /DIRECTION\s+IDENTITY\s+LABELS \(source:key\[=value\]\)\s+PORT\/PROTO\s+L7 REDIRECT\s+ENTRY TYPE\s+PACKETS\s+BYTES\s+LAST HIT\s+POLICIES/);
  assert.match(pm.out, /Ingress\s+\d+\s+k8s:class=tiefighter\s+80\/TCP\s+yes\s+allow/);
  const pmj = await cli(policyMapCmd, ["get", String(ds.endpointId), "-o", "json"]);
  assert.equal((JSON.parse(pmj.out) as PolicyMapResponse).endpoint.id, ds.endpointId);
  const pmMissing = await cli(policyMapCmd, ["get", "default/none"]);
  assert.equal(pmMissing.code, 1);
  assert.match(pmMissing.err, /default\/none/);

  const sel = await cli(policyCmd, ["selectors"]);
  assert.match(sel.out, /^SELECTOR\s+POLICIES\s+USERS\s+IDENTITIES/);
  assert.match(sel.out, /cnp:default\/rule1/);
  const badOut = await cli(policyCmd, ["selectors", "-o", "yaml"]);
  assert.equal(badOut.code, 2);
});

test("hot reload via PUT /api/policies: the map shows the new entries at once with zeroed counters", async () => {
  const ds = dp().cluster.workloadPods("default/deathstar")![0]!;
  const xwing = dp().cluster.workloadPods("default/xwing")![0]!.identity.id;
  const yaml = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: xwing-maintenance, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: deathstar } }
  ingress: [{ fromEndpoints: [{ matchLabels: { class: xwing } }], toPorts: [{ ports: [{ port: "8443", protocol: TCP }] }] }]
`;
  const put = await fetch(`${server.url}/api/policies`, { method: "PUT", body: yaml });
  assert.equal(put.status, 200);
  const body = (await getJson<PolicyMapResponse>(`${server.url}/api/endpoints/${ds.endpointId}/policy-map`)).body;
  const row = body.rows.find((r) => r.identity === xwing && r.port === "8443");
  assert.ok(row, "new entry present");
  assert.equal(row.packets, 0);
  assert.equal(row.bytes, 0);
  assert.equal(row.lastHit, null);
  assert.deepEqual(row.policies.map((p) => p.name), ["xwing-maintenance"]);
  const ep = (await getJson<EndpointsResponse>(`${server.url}/api/endpoints`)).body.endpoints.find((e) => e.id === ds.endpointId)!;
  assert.deepEqual(ep.ingress.enabledBy.map((p) => p.name).sort(), ["rule1", "xwing-maintenance"]);
});
