// Identity-relevant labels: Cilium's label filter (pkg/labelsfilter) decides which pod labels make the
// security identity, and policies can only select what it keeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, verdictEvents } from "./helpers";
import { isIdentityLabel, labelFilter, parseLabelPattern } from "../../server/cluster/label-filter";
import { parseScenario } from "../../server/scenario/load";
import { lintDatapath } from "../../server/datapath/lint";

const loadScenarioText = (text: string) => parseScenario(text, "/tmp/scenario.yaml");

const defaults = labelFilter();

test("default filter: hashes and generated names are left out, namespace, cluster and app.kubernetes.io kept", () => {
  const cases: [string, boolean][] = [
    ["k8s:app=web", true],
    ["k8s:pod-template-hash=7d9f8c6b5", false],
    ["k8s:controller-revision-hash=abc", false],
    ["k8s:pod-template-generation=3", false],
    ["k8s:statefulset.kubernetes.io/pod-name=db-0", false],
    ["k8s:apps.kubernetes.io/pod-index=0", false],
    ["k8s:batch.kubernetes.io/job-completion-index=2", false],
    // Job controller UIDs go (Cilium 1.16+); job names stay unless configured away
    ["k8s:batch.kubernetes.io/controller-uid=249b1dfa", false],
    ["k8s:controller-uid=249b1dfa", false],
    ["k8s:batch.kubernetes.io/job-name=x", true],
    ["k8s:job-name=x", true],
    ["k8s:kubernetes.io/os=linux", false],
    ["k8s:topology.kubernetes.io/zone=a", true],
    ["k8s:failure-domain.beta.kubernetes.io/zone=a", false],
    ["k8s:k8s.io/cluster-service=true", false],
    ["k8s:annotation.foo=bar", false],
    ["k8s:etcd_node=x", false],
    ["k8s:io.kubernetes.pod.namespace=shop", true],
    ["k8s:io.kubernetes.pod.uid=x", false],
    ["k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop", true],
    ["k8s:io.cilium.k8s.policy.serviceaccount=default", true],
    ["k8s:io.cilium.k8s.policy.cluster=default", true],
    ["k8s:app.kubernetes.io/name=web", true],
    // matches must start at the key's start
    ["k8s:my-pod-template-hash=x", true],
  ];
  for (const [label, want] of cases) assert.equal(isIdentityLabel(defaults, label), want, label);
});

test("configured patterns: exclusions add to the defaults; an inclusion keeps only what inclusions match", () => {
  const ex = labelFilter(["k8s:!job-name", "k8s:!controller-uid"]);
  assert.equal(isIdentityLabel(ex, "k8s:job-name=x"), false);
  assert.equal(isIdentityLabel(ex, "k8s:controller-uid=x"), false);
  assert.equal(isIdentityLabel(ex, "k8s:app=x"), true);
  // the source must match: a pattern for another source leaves k8s labels alone
  assert.equal(isIdentityLabel(labelFilter(["container:!app"]), "k8s:app=x"), true);

  const inc = labelFilter(["k8s:team"]);
  assert.equal(isIdentityLabel(inc, "k8s:team=a"), true);
  assert.equal(isIdentityLabel(inc, "k8s:team-lead=a"), true, "a prefix match");
  assert.equal(isIdentityLabel(inc, "k8s:env=prod"), false);
  assert.equal(isIdentityLabel(inc, "k8s:io.kubernetes.pod.namespace=a"), true);
  assert.equal(isIdentityLabel(inc, "k8s:io.cilium.k8s.namespace.labels.team=a"), true);
  assert.equal(isIdentityLabel(inc, "k8s:app.kubernetes.io/name=a"), true);
  assert.equal(isIdentityLabel(inc, "k8s:io.cilium.k8s.policy.cluster=default"), true);
  assert.equal(isIdentityLabel(inc, "k8s:io.cilium.k8s.policy.serviceaccount=sa"), false, "not among Cilium's default inclusions");
  // a longer inclusive match beats a shorter exclusion
  const both = labelFilter(["k8s:pod-template-hash-keep"]);
  assert.equal(isIdentityLabel(both, "k8s:pod-template-hash-keep=1"), true);
  assert.equal(isIdentityLabel(both, "k8s:pod-template-hash=1"), false);
});

test("a bad pattern is refused with its text", () => {
  assert.throws(() => parseLabelPattern("k8s:(unclosed"), /label pattern "k8s:\(unclosed": invalid regular expression/);
  assert.throws(() => parseLabelPattern("k8s:"), /nothing after the source/);
  assert.throws(
    () => loadScenarioText("apiVersion: flowscope/v1\nkind: Scenario\nsettings: { labels: 'k8s:app k8s:[x' }\n"),
    /settings\.labels: label pattern "k8s:\[x": invalid regular expression/,
  );
  assert.throws(() => loadScenarioText("apiVersion: flowscope/v1\nkind: Scenario\nsettings: { labels: [7] }\n"), /settings\.labels\[0\]/);
});

const SCENARIO = (settings = "") => `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: shop }]
${settings}
workloads:
  - { name: web, namespace: shop, replicas: 2, labels: { app: web, pod-template-hash: 5f7b9c, env: prod }, ports: [{ port: 80, protocol: TCP }] }
  - { name: db, namespace: shop, labels: { app: db, statefulset.kubernetes.io/pod-name: db-0, env: prod } }
  - { name: cron, namespace: shop, labels: { app: cron, env: dev } }
`;

test("pods differing only in filtered labels share an identity, and their records show identity labels only", () => {
  const dp = makeDatapath(SCENARIO());
  const web = dp.endpoints().filter((e) => e.workload === "web");
  assert.equal(web.length, 2);
  const ids = dp.identities();
  const webIdentity = ids.find((i) => i.labels.includes("k8s:app=web"))!;
  assert.ok(!webIdentity.labels.some((l) => l.includes("pod-template-hash")), webIdentity.labels.join(" "));
  const db = ids.find((i) => i.labels.includes("k8s:app=db"))!;
  assert.ok(!db.labels.some((l) => l.includes("statefulset.kubernetes.io")), db.labels.join(" "));
  const r = trace(dp, { from: "shop/db", to: "shop/web", port: 80, protocol: "TCP" });
  const rec = r.flows[0]!.flow;
  assert.ok(!rec.destination!.labels!.some((l) => l.includes("pod-template-hash")));
  assert.ok(!rec.source!.labels!.some((l) => l.includes("statefulset")));
});

const SELECT_BY = (key: string, value: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: by-${key.replace(/[^a-z]/g, "")}, namespace: shop }
spec:
  endpointSelector: { matchLabels: { app: web } }
  ingress:
  - fromEndpoints: [{ matchLabels: { "${key}": "${value}" } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]
`;

test("a policy peer selecting a filtered-out label selects nobody (as in Cilium)", () => {
  const dp = makeDatapath(SCENARIO(), { "p.yaml": SELECT_BY("statefulset.kubernetes.io/pod-name", "db-0") });
  const r = trace(dp, { from: "shop/db", to: "shop/web", port: 80, protocol: "TCP" });
  assert.equal(verdictEvents(r)[0]?.verdict, "DROPPED");
  const ok = makeDatapath(SCENARIO(), { "p.yaml": SELECT_BY("env", "prod") });
  assert.equal(verdictEvents(trace(ok, { from: "shop/db", to: "shop/web", port: 80, protocol: "TCP" }))[0]?.verdict, "FORWARDED");
});

test("settings.labels: an inclusive pattern drops the other labels, so env no longer selects", () => {
  const dp = makeDatapath(SCENARIO("settings: { labels: 'k8s:app' }"), { "p.yaml": SELECT_BY("env", "prod") });
  const db = dp.identities().find((i) => i.labels.includes("k8s:app=db"))!;
  assert.ok(!db.labels.includes("k8s:env=prod"), db.labels.join(" "));
  assert.ok(!db.labels.some((l) => l.startsWith("k8s:io.cilium.k8s.policy.serviceaccount")), db.labels.join(" "));
  assert.ok(db.labels.includes("k8s:io.kubernetes.pod.namespace=shop"));
  assert.equal(verdictEvents(trace(dp, { from: "shop/db", to: "shop/web", port: 80, protocol: "TCP" }))[0]?.verdict, "DROPPED");
  // an exclusion merges identities: cron and db then differ only by app
  const merged = makeDatapath(SCENARIO("settings: { labels: ['k8s:!env', 'k8s:!app'] }"));
  const workloadIds = new Set(merged.endpoints().filter((e) => ["web", "db", "cron"].includes(e.workload)).map((e) => e.identity));
  assert.equal(workloadIds.size, 1, "web, db and cron share one identity once app and env are left out");
});

test("lint names a selector key the identity-label filter leaves out", () => {
  const dp = makeDatapath(SCENARIO(), { "p.yaml": SELECT_BY("statefulset.kubernetes.io/pod-name", "db-0"), "q.yaml": SELECT_BY("env", "prod") });
  const found = lintDatapath(dp).filter((f) => f.message.includes("identity-label filter"));
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.match(found[0]!.path, /fromEndpoints\[0\]\.matchLabels\.statefulset\.kubernetes\.io\/pod-name$/);
  const inc = makeDatapath(SCENARIO("settings: { labels: 'k8s:app' }"), { "q.yaml": SELECT_BY("env", "prod") });
  assert.equal(lintDatapath(inc).filter((f) => f.message.includes("identity-label filter")).length, 1);
});
