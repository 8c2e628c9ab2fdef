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
import { run as fqdnCmd } from "../../server/cli/commands/fqdn-cache";

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

// What cilium-dbg prints on node-2 of this scenario, byte for byte (Go's tabwriter pads every
// tab-terminated cell, so lines end in spaces). The numbers are the scenario's: endpoint IDs and
// identities are derived from names and labels, the same on every start.
const ENDPOINT_LIST_NODE2 = [
  "ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])                                              IPv6   IPv4           STATUS   ",
  "           ENFORCEMENT        ENFORCEMENT                                                                                                                 ",
  "628        Disabled           Disabled          31487      k8s:class=xwing                                                                 10.0.2.11      ready   ",
  "                                                           k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default                                 ",
  "                                                           k8s:io.cilium.k8s.policy.cluster=default                                                               ",
  "                                                           k8s:io.cilium.k8s.policy.serviceaccount=default                                                        ",
  "                                                           k8s:io.kubernetes.pod.namespace=default                                                                ",
  "                                                           k8s:org=alliance                                                                                       ",
  "1512       Disabled           Disabled          1          reserved:host                                                                   192.168.1.11   ready   ",
  "1951       Enabled            Disabled          19341      k8s:class=deathstar                                                             10.0.2.10      ready   ",
  "                                                           k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default                                 ",
  "                                                           k8s:io.cilium.k8s.policy.cluster=default                                                               ",
  "                                                           k8s:io.cilium.k8s.policy.serviceaccount=default                                                        ",
  "                                                           k8s:io.kubernetes.pod.namespace=default                                                                ",
  "                                                           k8s:org=empire                                                                                         ",
].join("\n");

const IPCACHE_LIST_NODE2 = [
  "IP PREFIX/ADDRESS   IDENTITY",
  "10.0.1.10/32        identity=19341 encryptkey=0 tunnelendpoint=192.168.1.10 flags=hastunnel   ",
  "10.0.1.11/32        identity=29266 encryptkey=0 tunnelendpoint=192.168.1.10 flags=hastunnel   ",
  "10.0.1.12/32        identity=50696 encryptkey=0 tunnelendpoint=192.168.1.10 flags=hastunnel   ",
  "10.0.2.10/32        identity=19341 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>           ",
  "10.0.2.11/32        identity=31487 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>           ",
  "192.168.1.10/32     identity=6 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>               ",
  "192.168.1.11/32     identity=1 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>               ",
].join("\n");

const IDENTITY_ENDPOINTS_NODE2 = [
  "ID      LABELS                                                                   REFCOUNT",
  "1       reserved:host                                                            1    ",
  "19341   k8s:class=deathstar                                                      1    ",
  "        k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default   ",
  "        k8s:io.cilium.k8s.policy.cluster=default                                 ",
  "        k8s:io.cilium.k8s.policy.serviceaccount=default                          ",
  "        k8s:io.kubernetes.pod.namespace=default                                  ",
  "        k8s:org=empire                                                           ",
  "31487   k8s:class=xwing                                                          1    ",
  "        k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default   ",
  "        k8s:io.cilium.k8s.policy.cluster=default                                 ",
  "        k8s:io.cilium.k8s.policy.serviceaccount=default                          ",
  "        k8s:io.kubernetes.pod.namespace=default                                  ",
  "        k8s:org=alliance                                                         ",
].join("\n");

test("CLI endpoint list: one node's endpoints exactly as cilium-dbg endpoint list prints them", async () => {
  const n2 = await cli(endpointCmd, ["list", "--node", "node-2"]);
  assert.equal(n2.code, 0, n2.err);
  assert.equal(n2.out, ENDPOINT_LIST_NODE2);

  // default: the scenario's first node, rows sorted by endpoint ID, only that node's endpoints
  const ep = await cli(endpointCmd, ["list"]);
  assert.equal(ep.code, 0, ep.err);
  const lines = ep.out.split("\n");
  assert.match(lines[0]!, /^ENDPOINT {3}POLICY \(ingress\) {3}POLICY \(egress\) {3}IDENTITY {3}LABELS \(source:key\[=value\]\) +IPv6 {3}IPv4 {11}STATUS {3}$/);
  assert.match(lines[1]!, /^ {11}ENFORCEMENT {8}ENFORCEMENT +$/);
  const local = dp().cluster.endpoints.filter((p) => p.node === "node-1").map((p) => p.endpointId);
  const ids = lines.filter((l) => /^\d/.test(l)).map((l) => Number(l.split(" ")[0]));
  assert.deepEqual(ids, [...local, dp().cluster.hostEndpointByNode.get("node-1")!.endpointId].sort((a, b) => a - b));
  const dsId = dp().cluster.workloadPods("default/deathstar")!.find((p) => p.node === "node-1")!.endpointId;
  assert.match(lines.find((l) => l.startsWith(`${dsId} `))!, /^\d+ +Enabled +Disabled +\d+ +k8s:class=deathstar +10\.0\.1\.\d+ +ready {3}$/);

  const bare = await cli(endpointCmd, ["list", "--node=node-2", "--no-headers"]);
  assert.ok(!bare.out.includes("ENDPOINT"));
  assert.match(bare.out.split("\n")[0]!, /^628 {4}Disabled {3}Disabled {3}31487 {3}k8s:class=xwing /);

  const all = await cli(endpointCmd, ["list", "--all-nodes"]);
  assert.equal(all.code, 0, all.err);
  assert.ok(all.out.endsWith(`# node node-2\n${ENDPOINT_LIST_NODE2}`));
  assert.ok(all.out.startsWith(`# node node-1\n${ep.out}\n\n`));

  // -o json: /api/endpoints with the chosen node's endpoints (every node's with --all-nodes)
  const rest = (await getJson<EndpointsResponse>(`${server.url}/api/endpoints`)).body;
  assert.deepEqual(rest.nodes, ["node-1", "node-2"]);
  const json = await cli(endpointCmd, ["list", "-o", "json", "--node", "node-2"]);
  assert.deepEqual(JSON.parse(json.out), { ...rest, endpoints: rest.endpoints.filter((e) => e.node === "node-2") });
  const allJson = await cli(endpointCmd, ["list", "--all-nodes", "-o", "json"]);
  assert.deepEqual(JSON.parse(allJson.out), rest);

  const bad = await cli(endpointCmd, ["list", "--node", "node-9"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown node "node-9"; nodes: node-1, node-2/);
  assert.equal((await cli(endpointCmd, ["list", "--node", "node-1", "--all-nodes"])).code, 2);
});

test("CLI identity list/get: ID and LABELS as cilium-dbg prints them; --endpoints adds REFCOUNT per node", async () => {
  const idl = await cli(identityCmd, ["list"]);
  assert.equal(idl.code, 0, idl.err);
  const lines = idl.out.split("\n");
  // tabwriter(2, 0, 3): the ID column is as wide as the longest ID + 3 (here 5-digit pod identities)
  assert.equal(lines[0], "ID      LABELS");
  assert.equal(lines[1], "1       reserved:host");
  assert.equal(lines[2], "2       reserved:world");
  assert.ok(lines.includes("7       reserved:kube-apiserver"));
  assert.equal(lines[lines.indexOf("7       reserved:kube-apiserver") + 1], "        reserved:remote-node");
  // one label per line, sorted; IDs ascending; nothing but the two columns
  const shown = lines.slice(1).filter((l) => /^\d/.test(l)).map((l) => Number(l.split(" ")[0]));
  assert.deepEqual(shown, dp().cluster.identities.all().map((i) => i.id).sort((a, b) => a - b));
  const ds = dp().cluster.workloadPods("default/deathstar")![0]!.identity;
  const at = lines.findIndex((l) => l.startsWith(`${ds.id} `));
  assert.deepEqual(lines.slice(at, at + ds.labels.length).map((l) => l.slice(lines[0]!.indexOf("LABELS"))), [...ds.labels].sort());
  assert.ok(!/ENDPOINTS|REFCOUNT/.test(idl.out));
  assert.ok(lines.every((l) => l === l.trimEnd()), "LABELS is the last cell: no padding after it");

  const idg = await cli(identityCmd, ["get", "7"]);
  assert.equal(idg.out, "ID   LABELS\n7    reserved:kube-apiserver\n     reserved:remote-node");
  assert.equal((await cli(identityCmd, ["get", "x"])).code, 2);
  const idgJson = await cli(identityCmd, ["get", "7", "-o", "json"]);
  assert.deepEqual(JSON.parse(idgJson.out), (await getJson(`${server.url}/api/identities/7`)).body);

  const refs = await cli(identityCmd, ["list", "--endpoints", "--node", "node-2"]);
  assert.equal(refs.code, 0, refs.err);
  assert.equal(refs.out, IDENTITY_ENDPOINTS_NODE2);
  const refsJson = JSON.parse((await cli(identityCmd, ["list", "--endpoints", "--node", "node-2", "-o", "json"])).out);
  assert.equal(refsJson.node, "node-2");
  assert.deepEqual(refsJson.identities.map((i: { id: number; refcount: number }) => [i.id, i.refcount]), [[1, 1], [19341, 1], [31487, 1]]);
  assert.equal((await cli(identityCmd, ["list", "--node", "node-2"])).code, 2, "--node only with --endpoints");
});

test("CLI ipcache list: IP PREFIX/ADDRESS and the BPF value as cilium-dbg bpf ipcache list prints them", async () => {
  const ipc = await cli(ipcacheCmd, ["list", "--node", "node-2"]);
  assert.equal(ipc.code, 0, ipc.err);
  assert.equal(ipc.out, IPCACHE_LIST_NODE2);
  // default node-1: its own pods and IP without tunnel, node-2's pods through node-2's IP
  const n1 = (await cli(ipcacheCmd, ["list"])).out.split("\n");
  assert.ok(n1.includes("192.168.1.10/32     identity=1 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>               "));
  assert.ok(n1.includes("192.168.1.11/32     identity=6 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>               "));
  assert.ok(n1.includes("10.0.2.11/32        identity=31487 encryptkey=0 tunnelendpoint=192.168.1.11 flags=hastunnel   "));
  assert.ok(n1.includes("10.0.1.10/32        identity=19341 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>           "));

  const json = JSON.parse((await cli(ipcacheCmd, ["list", "--node", "node-2", "-o", "json"])).out) as IpcacheResponse;
  assert.deepEqual(json, (await getJson(`${server.url}/api/ipcache?node=node-2`)).body);
  assert.deepEqual(json.entries.find((e) => e.prefix === "10.0.1.10/32"), { prefix: "10.0.1.10/32", identity: 19341, source: "pod", node: "node-1", tunnelEndpoint: "192.168.1.10" });
  assert.deepEqual(json.entries.find((e) => e.prefix === "10.0.2.10/32"), { prefix: "10.0.2.10/32", identity: 19341, source: "pod", node: "node-2" });

  const bad = await cli(ipcacheCmd, ["list", "--node"]);
  assert.equal(bad.code, 2);
});

test("CLI: policy-map get, policy selectors", async () => {
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

test("CLI fqdn-cache list: one node's DNS cache as cilium-dbg fqdn cache list prints it there", async () => {
  const yaml = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: tiefighter-dns, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: tiefighter } }
  enableDefaultDeny: { egress: false }
  egress:
  - toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
`;
  assert.equal((await fetch(`${server.url}/api/policies`, { method: "PUT", body: yaml })).status, 200);
  const tie = dp().cluster.workloadPods("default/tiefighter")![0]!;
  dp().process({ from: "default/tiefighter", dns: { query: "deathstar.default.svc.cluster.local" } });
  const entry = dp().fqdnCache().find((e) => e.endpointId === tie.endpointId)!;
  assert.ok(entry, "the lookup was learned");
  const here = await cli(fqdnCmd, ["list", "--node", tie.node]);
  assert.equal(here.code, 0, here.err);
  const lines = here.out.split("\n");
  assert.match(lines[0]!, /^Endpoint {3,}Source {3,}FQDN {3,}TTL {3,}ExpirationTime {3,}IPs/);
  const row = lines.find((l) => l.startsWith(`${tie.endpointId} `))!;
  assert.ok(row, here.out);
  assert.deepEqual(row.trim().split(/ +/), [String(tie.endpointId), "lookup", "deathstar.default.svc.cluster.local.", "30", new Date(entry.expiresAt).toISOString(), entry.ips.join(",")]);
  // another node's agent never saw the answer
  const other = dp().cluster.nodes.find((n) => n.name !== tie.node);
  if (other) {
    const there = await cli(fqdnCmd, ["list", "--node", other.name]);
    assert.equal(there.out.split("\n").length, 1, there.out);
  }
  const bad = await cli(fqdnCmd, ["list", "--node", "nope"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown node "nope"/);
});
