// CiliumCIDRGroup with fromCIDRSet/toCIDRSet cidrGroupRef and cidrGroupSelector: the groups' CIDRs
// become CIDR identities labelled with the group, policies select them by group name or labels,
// and group changes recompile the endpoints that reference them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDatapath, trace, verdictEvents } from "./helpers";
import { lintDatapath } from "../../server/datapath/lint";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: web, namespace: default, labels: { app: web }, ports: [{ port: 443, app: tcp }] }
external:
  - { name: vpn-a, ips: [10.48.0.5] }
  - { name: vpn-b, ips: [10.16.0.9] }
  - { name: office, ips: [172.20.1.1] }
`;

const group = (name: string, cidrs: string[], labels = "role: vpn") => `apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: { name: ${name}, labels: { ${labels} } }
spec:
  externalCIDRs: [${cidrs.map((c) => `"${c}"`).join(", ")}]
`;

const ingressFrom = (name: string, setEntry: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: web } }
  ingress:
  - fromCIDRSet: [${setEntry}]
    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
`;

const from = (ip: string) => ({ from: { ip }, to: "default/web", port: 443, protocol: "TCP" as const });

test("cidrGroupRef selects the group's CIDRs, and flows carry the group's labels", () => {
  const dp = makeDatapath(SCN, {
    "groups.yaml": group("vpn-example-1", ["10.48.0.0/24", "10.16.0.0/24"]),
    "policy.yaml": ingressFrom("from-vpn", "{ cidrGroupRef: vpn-example-1 }"),
  });
  assert.deepEqual(dp.warnings, []);
  const ok = trace(dp, from("10.48.0.5"));
  assert.equal(ok.verdict, "FORWARDED");
  const pv = verdictEvents(ok)[0];
  assert.equal(pv.ingress_allowed_by?.[0].name, "from-vpn");
  assert.equal(pv.policy_match_type, 2); // L3-L4
  assert.deepEqual(pv.source?.labels, ["cidr:10.48.0.0/24", "cidrgroup:io.cilium.policy.cidrgroupname/vpn-example-1", "cidrgroup:role=vpn", "reserved:world"]);
  assert.equal(trace(dp, from("10.16.0.9")).verdict, "FORWARDED");
  const outside = trace(dp, from("172.20.1.1"));
  assert.equal(outside.verdict, "DROPPED");
  assert.equal(outside.drop_reason_desc, "POLICY_DENIED");
});

test("cidrGroupSelector selects groups by their labels; except carves prefixes out", () => {
  const dp = makeDatapath(SCN, {
    "groups.yaml": [group("vpn-a", ["10.48.0.0/16"]), group("vpn-b", ["10.16.0.0/24"]), group("office", ["172.20.0.0/16"], "role: office")].join("---\n"),
    "policy.yaml": ingressFrom("from-vpns", "{ cidrGroupSelector: { matchLabels: { role: vpn } }, except: [10.48.0.0/24] }"),
  });
  assert.deepEqual(dp.warnings, []);
  assert.equal(trace(dp, from("10.16.0.9")).verdict, "FORWARDED");
  // 10.48.0.5 is inside vpn-a but inside the except too
  assert.equal(trace(dp, from("10.48.0.5")).verdict, "DROPPED");
  assert.equal(trace(dp, from("10.48.7.7")).verdict, "FORWARDED");
  assert.equal(trace(dp, from("172.20.1.1")).verdict, "DROPPED");
});

test("egress toCIDRSet with a group; a missing group selects nothing and lint says so", () => {
  const egress = (ref: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: to-office, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: web } }
  egress:
  - toCIDRSet: [{ cidrGroupRef: ${ref} }]
`;
  const dp = makeDatapath(SCN, { "g.yaml": group("office", ["172.20.0.0/16"], "role: office"), "p.yaml": egress("office") });
  const out = { from: "default/web", toIP: "172.20.1.1", port: 8080, protocol: "TCP" as const };
  assert.equal(trace(dp, out).verdict, "FORWARDED");
  assert.equal(trace(dp, { ...out, toIP: "10.48.0.5" }).verdict, "DROPPED");

  const missing = makeDatapath(SCN, { "p.yaml": egress("nowhere") });
  assert.equal(trace(missing, out).verdict, "DROPPED");
  const f = lintDatapath(missing).find((x) => x.path === "spec.egress[0].toCIDRSet[0]");
  assert.match(f?.message ?? "", /no CiliumCIDRGroup named "nowhere"/);
});

test("changing or deleting a group takes effect at once, as a new revision", () => {
  const dp = makeDatapath(SCN, { "policy.yaml": ingressFrom("from-vpn", "{ cidrGroupRef: vpn }") });
  assert.equal(trace(dp, from("10.48.0.5")).verdict, "DROPPED");
  const rev = dp.revision();
  dp.upsertPolicyYaml(group("vpn", ["10.48.0.0/24"]), "api");
  assert.ok(dp.revision() > rev);
  assert.equal(trace(dp, from("10.48.0.5")).verdict, "FORWARDED");
  // the CIDR moves: the old one is no longer allowed
  dp.upsertPolicyYaml(group("vpn", ["10.16.0.0/24"]), "api");
  assert.equal(trace(dp, from("10.48.0.5")).verdict, "DROPPED");
  assert.equal(trace(dp, from("10.16.0.9")).verdict, "FORWARDED");
  assert.equal(dp.deletePolicy("CiliumCIDRGroup", undefined, "vpn"), true);
  assert.equal(trace(dp, from("10.16.0.9")).verdict, "DROPPED");
  assert.equal(dp.deletePolicy("CiliumCIDRGroup", undefined, "vpn"), false);
  // 0.0.0.0/0 is the world identity itself: no CIDR identity comes or goes, the selector must follow anyway
  dp.upsertPolicyYaml(group("vpn", ["0.0.0.0/0"]), "api");
  assert.equal(trace(dp, from("172.20.1.1")).verdict, "FORWARDED");
});

test("a group whose prefix a policy also names shares one identity; the group labels come and go with it", () => {
  const dp = makeDatapath(SCN, {
    "cidr.yaml": ingressFrom("from-cidr", "{ cidr: 10.48.0.0/24 }").replace("from-cidr", "plain-cidr"),
  });
  const before = verdictEvents(trace(dp, from("10.48.0.5")))[0].source!;
  assert.deepEqual(before.labels, ["cidr:10.48.0.0/24", "reserved:world"]);
  dp.upsertPolicyYaml(group("vpn", ["10.48.0.0/24"]), "api");
  const r = trace(dp, from("10.48.0.5"));
  assert.equal(r.verdict, "FORWARDED"); // the toCIDR policy still selects the relabelled identity
  const after = verdictEvents(r)[0].source!;
  assert.ok(after.labels!.includes("cidrgroup:io.cilium.policy.cidrgroupname/vpn"));
  assert.notEqual(after.identity, before.identity);
});

test("policy files: groups reload with the files; invalid groups are reported with their field path", () => {
  const dp = makeDatapath(SCN, {
    "g.yaml": group("vpn", ["10.48.0.0/24"]),
    "p.yaml": ingressFrom("from-vpn", "{ cidrGroupRef: vpn }"),
    "bad.yaml": `apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: { name: broken, namespace: default }
spec:
  externalCIDRs: ["10.1.0.0/16", "10.300.0.0/16"]
`,
  });
  const texts = dp.warnings.map((w) => w.text);
  assert.ok(texts.some((t) => /bad\.yaml: document 1 \(CiliumCIDRGroup .*broken\).*metadata\.namespace: CiliumCIDRGroup is cluster-scoped/.test(t)), texts.join("\n"));
  assert.ok(texts.some((t) => /spec\.externalCIDRs\[1\]/.test(t)), texts.join("\n"));
  assert.equal(trace(dp, from("10.48.0.5")).verdict, "FORWARDED");
  const dir = dp.scenario.policies[0];
  rmSync(join(dir, "g.yaml"));
  writeFileSync(join(dir, "bad.yaml"), "");
  dp.reloadPolicyFiles();
  assert.equal(trace(dp, from("10.48.0.5")).verdict, "DROPPED");
  assert.deepEqual(dp.warnings, []);
});
