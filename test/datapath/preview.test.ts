// Policy preview: the scenario's traffic is replayed through sandboxes with and without a change, and
// the live datapath (policies, revisions, counters, connections) is left exactly as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace } from "./helpers";
import { Datapath } from "../../server/datapath";
import { DEFAULT_SCENARIO } from "../../server/config";
import { previewPolicyChange } from "../../server/datapath";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
metadata: { name: pv }
namespaces: [{ name: default }, { name: shop }]
workloads:
  - { name: web, namespace: shop, labels: { app: web } }
  - { name: api, namespace: shop, labels: { app: api }, ports: [{ port: 8080, app: http }] }
  - { name: db, namespace: shop, labels: { app: db }, ports: [{ port: 5432, app: tcp }] }
  - { name: batch, namespace: default, labels: { app: batch } }
dns:
  - { name: api.github.com, ips: [140.82.112.5], ttl: 300 }
external:
  - { name: github, ips: [140.82.112.5] }
traffic:
  - { from: shop/web, to: shop/api, port: 8080, http: { method: GET, path: /items }, rate: 1 }
  - { from: shop/web, to: shop/api, port: 8080, http: { method: DELETE, path: /items/1 }, rate: 1 }
  - { from: shop/api, to: shop/db, port: 5432, rate: 1 }
  - { from: default/batch, to: shop/db, port: 5432, rate: 1 }
  - { from: shop/api, toFQDN: api.github.com, port: 443, rate: 1 }
  - { from: shop/api, to: shop/db, port: 5432, rate: 3 }
`;
const API_L7 = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: api-l7, namespace: shop }
spec:
  endpointSelector: { matchLabels: { app: api } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: web } }]
    toPorts: [{ ports: [{ port: "8080", protocol: TCP }], rules: { http: [{ method: GET }] } }]
`;
const DB_ONLY_API = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: db-from-api, namespace: shop }
spec:
  endpointSelector: { matchLabels: { app: db } }
  ingress:
  - fromEndpoints: [{ matchLabels: { app: api } }]
    toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
`;

test("a preview names the requests whose outcome or deciding policy would change, and leaves the live datapath alone", () => {
  const dp = makeDatapath(SCN, { "api.yaml": API_L7 });
  const live = trace(dp, { from: "shop/web", to: "shop/api", port: 8080, http: { method: "DELETE", path: "/items/1" } });
  assert.equal(live.verdict, "DROPPED");
  const revision = dp.revision();
  const policies = JSON.stringify(dp.policies());
  const counters = JSON.stringify(dp.endpoints());
  const conns = dp.connections().length;

  const r = previewPolicyChange(dp, DB_ONLY_API);
  assert.deepEqual(r.applied.map((p) => `${p.kind}/${p.namespace}/${p.name}`), ["CiliumNetworkPolicy/shop/db-from-api"]);
  assert.equal(r.warnings.length, 0);
  // six entries, one a duplicate of another (only the rate differs)
  assert.equal(r.requests, 5);
  assert.equal(r.verdictChanges, 1);
  const batch = r.rows[0]!;
  assert.equal(batch.change, "verdict");
  assert.match(batch.label, /^default\/batch → shop\/db 5432\/TCP$/);
  assert.equal(batch.before.verdict, "FORWARDED");
  assert.equal(batch.after.verdict, "DROPPED");
  assert.equal(batch.after.drop_reason_desc, "POLICY_DENIED");
  assert.deepEqual(batch.after.ingress?.denied_by, [], "no deny rule matched");
  assert.deepEqual(batch.after.ingress?.default_deny_by, ["CiliumNetworkPolicy/shop/db-from-api"]);
  // api → db keeps its verdict but is now decided (allowed) by the new policy
  const apiDb = r.rows.find((x) => x.label.startsWith("shop/api → shop/db"))!;
  assert.equal(apiDb.change, "decision");
  assert.equal(apiDb.before.ingress, undefined, "db enforced nothing before");
  assert.deepEqual(apiDb.after.ingress?.allowed_by, ["CiliumNetworkPolicy/shop/db-from-api"]);
  // the L7 denial the live policy makes is the same on both sides, so it is not a change
  const del = r.rows.find((x) => x.label.includes("DELETE /items/1"))!;
  assert.equal(del.change, null);
  assert.equal(del.before.l7_denied, true);
  assert.equal(del.before.response?.http_code, 403);
  // the proxy's own decision: whose L7 rules refused it, and why
  assert.deepEqual(del.before.l7?.decided_by, ["CiliumNetworkPolicy/shop/api-l7"]);
  assert.match(del.before.l7?.reason ?? "", /^no L7 rule of CiliumNetworkPolicy shop\/api-l7 matched HTTP\/1\.1 DELETE /);
  const get = r.rows.find((x) => x.label.includes("GET /items"))!;
  assert.equal(get.before.l7?.rule, "spec.ingress[0].toPorts[0].rules.http[0]");
  // the FQDN request resolves through kube-dns inside the sandbox
  const gh = r.rows.find((x) => x.label.includes("fqdn api.github.com"))!;
  assert.equal(gh.after.verdict, "FORWARDED");

  assert.equal(dp.revision(), revision, "the live repository's revision is unchanged");
  assert.equal(JSON.stringify(dp.policies()), policies, "the live policies (and their revisions) are unchanged");
  assert.equal(JSON.stringify(dp.endpoints()), counters);
  assert.equal(dp.connections().length, conns, "no connection of the preview reaches the live conntrack");
  assert.equal(dp.fqdnCache().length, 0, "no name the preview resolved reaches the live FQDN cache");
});

test("a preview that replaces a live policy compares against the policy in force", () => {
  const dp = makeDatapath(SCN, { "api.yaml": API_L7 });
  const allowDelete = API_L7.replace("http: [{ method: GET }]", "http: [{ method: GET }, { method: DELETE, path: \"/items/[0-9]+\" }]");
  const r = previewPolicyChange(dp, allowDelete);
  assert.deepEqual(r.warnings, []);
  const changed = r.rows.filter((x) => x.change === "verdict");
  assert.deepEqual(changed.map((x) => x.label), ["shop/web → shop/api 8080/TCP DELETE /items/1"]);
  assert.equal(changed[0]!.before.verdict, "DROPPED");
  assert.equal(changed[0]!.after.verdict, "FORWARDED");
  assert.equal(r.decisionChanges, 0);
});

test("invalid YAML is reported with the field at fault and changes nothing", () => {
  const dp = makeDatapath(SCN, { "api.yaml": API_L7 });
  const r = previewPolicyChange(dp, "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: x, namespace: shop }\nspec:\n  endpointSelector: {}\n  ingress: [{ fromEndpoints: 3 }]\n");
  assert.equal(r.applied.length, 0);
  assert.equal(r.verdictChanges + r.decisionChanges, 0);
  assert.ok(r.warnings.some((w) => w.path === "spec.ingress[0].fromEndpoints" && /list/.test(w.message)), JSON.stringify(r.warnings));
  const broken = previewPolicyChange(dp, "kind: [unclosed");
  assert.equal(broken.applied.length, 0);
  assert.ok(broken.warnings.length > 0 && broken.warnings[0]!.message.length > 0);
});

test("preview names Cilium's own map entries as Hubble lists them, not as a blank policy", () => {
  const dp = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const r = previewPolicyChange(dp, "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: deny-x, namespace: production }\nspec:\n  endpointSelector: { matchLabels: { app: redis } }\n  ingressDeny: [{ fromEndpoints: [{ matchLabels: { app: api } }] }]\n");
  const refs = r.rows.flatMap((row) => [row.before, row.after].flatMap((o) => [...(o.ingress?.allowed_by ?? []), ...(o.egress?.allowed_by ?? [])]));
  assert.ok(refs.includes("reserved:allow-any-egress"), JSON.stringify(refs));
  assert.deepEqual(refs.filter((x) => x.endsWith("/")), [], "no policy without a name");
});

test("the preview thread answers as the main thread does, from a snapshot of the live datapath, for every bundled scenario", async () => {
  const { previewPolicyChangeOffThread } = await import("../../server/datapath/preview-thread");
  const { parsePolicyText } = await import("../../server/datapath/policy/documents");
  const { join } = await import("node:path");
  const now = new Date("2026-01-01T00:00:00Z");
  // a change that turns on default deny for every pod, with a CIDR and a DNS rule: it touches every request
  const change = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: lock-down }
spec:
  endpointSelector: {}
  egress:
  - toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": kube-system } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
  - toCIDR: ["10.0.0.0/8"]
`;
  for (const dir of ["default", "star-wars"]) {
    const scenario = join("server/scenarios", dir, "scenario.yaml");
    const dp = Datapath.fromScenarioFile(scenario);
    const inline = previewPolicyChange(dp, parsePolicyText(change, "preview"), now);
    const threaded = await previewPolicyChangeOffThread(dp, parsePolicyText(change, "preview"), now);
    assert.ok(inline.rows.length > 0 && inline.verdictChanges > 0, `${dir}: the change changes verdicts (${inline.verdictChanges})`);
    assert.deepEqual(threaded, inline, dir);
  }
});
