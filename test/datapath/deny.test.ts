// §4.D of policy-semantics.md: deny policies (deny.rst table and examples).
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, verdictEvents } from "./helpers";
import type { FlowscopeExtension } from "../../lib/flow/types";
import { decidingPolicies } from "../../lib/filter/policy";
import { decidingPolicyLabel } from "../../lib/ui/flow-view";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - { name: server, namespace: default, labels: { app: server }, ports: [{ port: 80, app: http }, { port: 81, app: tcp }] }
  - { name: other, namespace: default, labels: { app: other } }
  - { name: backend, namespace: default, labels: { role: backend } }
  - { name: frontend, namespace: default, labels: { role: frontend } }
`;
const cnp = (name: string, body: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: server } }
${body}`;
const ALLOWS = {
  "allow-l7.yaml": cnp("allow-l7", `  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: GET, path: "/" }] } }]`),
  "allow-l4-80.yaml": cnp("allow-l4-80", `  ingress:\n  - toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]`),
  "allow-l4-81.yaml": cnp("allow-l4-81", `  ingress:\n  - toPorts: [{ ports: [{ port: "81", protocol: TCP }] }]`),
  "allow-l3.yaml": cnp("allow-l3", `  ingress:\n  - fromEndpoints: [{ matchLabels: { app: client } }]`),
};
const DENY_L4 = { "deny-l4-80.yaml": cnp("deny-l4-80", `  ingressDeny:\n  - toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]`) };
const DENY_L3 = { "deny-l3.yaml": cnp("deny-l3", `  ingressDeny:\n  - fromEndpoints: [{ matchLabels: { app: client } }]`) };
const curl = (port: number) => ({ from: "default/client", to: "default/server", port, protocol: "TCP" as const, http: { method: "PUT", path: "/x" } });
const ping = { from: "default/client", to: "default/server", protocol: "ICMP" as const, icmpType: 8 };

test("D1–D3: four allows, no deny; the L4 allow shadows the L7 rules", () => {
  const dp = makeDatapath(SCN, ALLOWS);
  assert.equal(trace(dp, curl(81)).verdict, "FORWARDED");
  const r80 = trace(dp, curl(80));
  assert.equal(r80.verdict, "FORWARDED"); // PUT would be refused by allow-l7 alone
  assert.equal(verdictEvents(r80)[0].verdict, "REDIRECTED");
  assert.equal(trace(dp, ping).verdict, "FORWARDED");
});

test("D4–D6: plus deny-L4-80", () => {
  const dp = makeDatapath(SCN, { ...ALLOWS, ...DENY_L4 });
  assert.equal(trace(dp, curl(81)).verdict, "FORWARDED");
  const r = trace(dp, curl(80));
  assert.equal(r.drop_reason_desc, "POLICY_DENY");
  const pv = verdictEvents(r)[0];
  assert.equal(pv.drop_reason_desc, "POLICY_DENY");
  assert.equal(pv.ingress_denied_by?.[0].name, "deny-l4-80");
  // the drop event (type 1) has no *_denied_by, as in Hubble; Flowscope's extension names the policy, so
  // the table, policy filters and stats answer "which policy decided" for it too
  const drop = r.flows.map((e) => e.flow).find((f) => f.event_type?.type === 1)!;
  assert.equal(drop.ingress_denied_by, undefined);
  assert.deepEqual((drop.extensions as FlowscopeExtension).denied_by?.map((p) => p.name), ["deny-l4-80"]);
  assert.deepEqual(decidingPolicies(drop), ["CiliumNetworkPolicy/default/deny-l4-80"]);
  assert.equal(decidingPolicyLabel(drop), "CNP default/deny-l4-80");
  assert.equal(trace(dp, ping).verdict, "FORWARDED");
});

test("D7–D10: deny-L3 (and both) drop everything 181", () => {
  for (const extra of [DENY_L3, { ...DENY_L3, ...DENY_L4 }]) {
    const dp = makeDatapath(SCN, { ...ALLOWS, ...extra });
    for (const req of [curl(81), curl(80), ping]) assert.equal(trace(dp, req).drop_reason_desc, "POLICY_DENY");
  }
});

test("D11–D13: a deny-only policy still enables default deny", () => {
  const dp = makeDatapath(SCN, DENY_L4);
  assert.equal(trace(dp, curl(81)).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, curl(80)).drop_reason_desc, "POLICY_DENY");
  assert.equal(trace(dp, ping).drop_reason_desc, "POLICY_DENIED");
});

test("D14/D15: egressDeny beats toEntities all", () => {
  const dp = makeDatapath(SCN, {
    "e.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: deny-backend, namespace: default }
spec:
  endpointSelector: { matchLabels: { role: frontend } }
  egress: [{ toEntities: [all] }]
  egressDeny: [{ toEndpoints: [{ matchLabels: { role: backend } }] }]
`,
  });
  const r = trace(dp, { from: "default/frontend", to: "default/backend", port: 1234, protocol: "UDP" });
  assert.equal(r.drop_reason_desc, "POLICY_DENY");
  assert.equal(verdictEvents(r)[0].traffic_direction, "EGRESS");
  assert.equal(verdictEvents(r)[0].egress_denied_by?.[0].name, "deny-backend");
  assert.equal(trace(dp, { from: "default/frontend", to: "default/other", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/frontend", toIP: "1.1.1.1", port: 443 }).verdict, "FORWARDED");
});

const LOCKDOWN = `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: external-lockdown }
spec:
  endpointSelector: {}
  ingressDeny: [{ fromEntities: [world] }]
  ingress: [{ fromEntities: [all] }]
`;

test("D16–D19: world deny covers world and CIDR identities, deny wins over any allow", () => {
  const dp = makeDatapath(SCN, { "l.yaml": LOCKDOWN });
  const r = trace(dp, { from: { ip: "1.1.1.1" }, to: "default/server", port: 80 });
  assert.equal(r.drop_reason_desc, "POLICY_DENY");
  assert.equal(verdictEvents(r)[0].ingress_denied_by?.[0].kind, "CiliumClusterwideNetworkPolicy");
  assert.equal(verdictEvents(r)[0].ingress_denied_by?.[0].namespace, undefined);
  assert.equal(trace(dp, { from: "default/client", to: "default/server", port: 80 }).verdict, "FORWARDED");
  const dp2 = makeDatapath(SCN, {
    "l.yaml": LOCKDOWN,
    "w.yaml": cnp("from-world", `  ingress:\n  - fromEntities: [world]\n  - fromCIDR: [203.0.113.0/24]`),
  });
  assert.equal(trace(dp2, { from: { ip: "1.1.1.1" }, to: "default/server", port: 80 }).drop_reason_desc, "POLICY_DENY");
  const r19 = trace(dp2, { from: { ip: "203.0.113.5" }, to: "default/server", port: 80 });
  assert.equal(r19.drop_reason_desc, "POLICY_DENY");
  assert.ok(verdictEvents(r19)[0].source!.identity! >= 16777217, "CIDR identity is local scope");
  assert.ok(verdictEvents(r19)[0].source!.labels!.includes("reserved:world"));
});
