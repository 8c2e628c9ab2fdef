// What a flow's decision details (the FlowDecision extension the detail panel reads) say: an allowed
// policy verdict names the rule behind the matching entry; a default-deny drop names no rule (none
// matched) and gives the nearest one only as a hint; an L7 refusal says which request no rule matched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, STAR_WARS, pA2 } from "./helpers";

type Ext = { rule?: string; explanation?: string[]; default_deny_by?: unknown[] };
const ext = (f: { extensions?: unknown }) => (f.extensions ?? {}) as Ext;
const landing = (from: string, path: string) => ({ from, to: "default/deathstar", port: 80, protocol: "TCP" as const, http: { method: "POST", path } });

test("decision details name the deciding rule, and only a rule that decided", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const ok = trace(dp, landing("default/tiefighter", "/v1/request-landing"));
  const verdict = ok.flows.find((f) => f.flow.event_type?.type === 5)!.flow;
  assert.equal(verdict.verdict, "REDIRECTED");
  assert.equal(ext(verdict).rule, "spec.ingress[0].toPorts[0].ports[0]");

  const refused = trace(dp, landing("default/tiefighter", "/v1/exhaust-port"));
  const req = refused.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow;
  assert.equal(req.verdict, "DROPPED");
  assert.equal(ext(req).rule, undefined);
  assert.deepEqual(ext(req).explanation, ["no L7 rule of CiliumNetworkPolicy default/rule1 matched HTTP/1.1 POST http://deathstar/v1/exhaust-port"]);

  const denied = trace(dp, landing("default/xwing", "/v1/request-landing"));
  const drop = denied.flows.find((f) => f.flow.event_type?.type === 5)!.flow;
  assert.equal(drop.verdict, "DROPPED");
  assert.equal(ext(drop).rule, undefined, "default deny: no rule decided");
  assert.equal(ext(drop).default_deny_by?.length, 1);
  assert.ok(ext(drop).explanation?.some((l) => l.startsWith("nearest rule: CiliumNetworkPolicy default/rule1 spec.ingress[0]")), "the nearest rule stays as a hint");
});

test("an L7 record the proxy let through with no rule to check names what made it allow all", async () => {
  const { decidingPolicies } = await import("../../lib/filter/policy");
  const { decisionOf } = await import("../../lib/ui/flow-view");
  const l7Policy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: landing-l7, namespace: default }
spec:
  endpointSelector: { matchLabels: { org: empire, class: deathstar } }
  ingress:
  - fromEndpoints: [ { matchLabels: { org: empire } } ]
    toPorts: [ { ports: [ { port: "80", protocol: TCP } ], rules: { http: [ { method: POST, path: /v1/request-landing } ] } } ]
`;
  const l4Policy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: port-80, namespace: default }
spec:
  podSelector: { matchLabels: { class: deathstar } }
  ingress:
  - ports: [ { port: 80, protocol: TCP } ]
`;
  // an allow without L7 rules for the same peer and port: every request passes, and the record says why
  const dp = makeDatapath(STAR_WARS, { "a.yaml": l7Policy, "b.yaml": l4Policy });
  const r = trace(dp, landing("default/tiefighter", "/v1/exhaust-port"));
  const req = r.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow;
  assert.equal(req.verdict, "FORWARDED");
  const e = req.extensions as { l7_allow_all_by?: { name?: string; kind?: string }[]; l7_decided_by?: unknown[]; rule?: string; explanation?: string[] };
  assert.deepEqual(e.l7_allow_all_by?.map((p) => `${p.kind}/${p.name}`), ["NetworkPolicy/port-80"]);
  assert.equal(e.l7_decided_by, undefined, "no L7 rule decided");
  assert.equal(e.rule, "spec.ingress[0].ports[0]");
  assert.match(e.explanation?.[0] ?? "", /^an allow without L7 rules \(NetworkPolicy default\/port-80 spec\.ingress\[0\]\.ports\[0\]\) also covers this peer/);
  assert.deepEqual(decidingPolicies(req), ["NetworkPolicy/default/port-80"], "a policy filter finds the record");
  assert.deepEqual(decisionOf(req).policies.map((p) => p.via), ["l7_allow_all_by"]);

  // with only the L7 policy, its rule decides as before
  const strict = trace(makeDatapath(STAR_WARS, { "a.yaml": l7Policy }), landing("default/tiefighter", "/v1/request-landing"));
  const ok = strict.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow.extensions as { l7_allow_all_by?: unknown; l7_decided_by?: unknown[] };
  assert.equal(ok.l7_allow_all_by, undefined);
  assert.equal(ok.l7_decided_by?.length, 1);

  // a policy that does not enable default deny brings its own L7 allow-all (Cilium 1.17)
  const visibility = l7Policy.replace("spec:\n", "spec:\n  enableDefaultDeny: { ingress: false }\n");
  const vis = trace(makeDatapath(STAR_WARS, { "a.yaml": visibility }), landing("default/tiefighter", "/v1/exhaust-port"));
  const vreq = vis.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow;
  assert.equal(vreq.verdict, "FORWARDED");
  const ve = vreq.extensions as { l7_allow_all_by?: { name?: string }[]; explanation?: string[] };
  assert.deepEqual(ve.l7_allow_all_by?.map((p) => p.name), ["landing-l7"]);
  assert.match(ve.explanation?.[0] ?? "", /does not enable default deny for ingress \(enableDefaultDeny\.ingress: false\)/);
});
