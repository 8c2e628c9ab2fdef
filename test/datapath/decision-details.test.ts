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
