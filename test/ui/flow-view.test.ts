import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appLabel,
  decidingPolicyLabel,
  decisionOf,
  destinationLabel,
  dropReasonLabel,
  l7Summary,
  portProtocol,
  sourceLabel,
  verdictClass,
} from "../../lib/ui/flow-view";
import type { Policy } from "../../lib/flow/types";
import { stored } from "./fixtures";

const cnp = (name: string, ns = "shop"): Policy => ({ name, namespace: ns, kind: "CiliumNetworkPolicy", revision: "3", labels: [] });

test("endpoints show ns/pod, then DNS name, then reserved name, then IP", () => {
  const f = stored(1).flow;
  assert.equal(sourceLabel(f), "shop/frontend-7d9c-abcde");
  assert.equal(destinationLabel({ ...f, destination: { identity: 2, labels: ["reserved:world"] }, destination_names: ["api.github.com"] }), "api.github.com");
  assert.equal(destinationLabel({ ...f, destination: { identity: 1, labels: ["reserved:host"] } }), "host");
  assert.equal(destinationLabel({ ...f, destination: { identity: 2, labels: ["reserved:world"] } }), "10.0.0.2");
  assert.equal(appLabel(["k8s:io.kubernetes.pod.namespace=x", "k8s:app.kubernetes.io/name=db"]), "db");
});

test("port/protocol and L7 summaries", () => {
  const f = stored(1).flow;
  assert.equal(portProtocol(f), "80/TCP");
  assert.equal(portProtocol({ ...f, l4: { ICMPv4: { type: 8 } } }), "ICMPv4");
  assert.equal(
    l7Summary({ ...f, l7: { type: "RESPONSE", latency_ns: "12500000", http: { code: 403, method: "POST", url: "http://api.shop/orders?x=1" } } }),
    "← POST 403 /orders?x=1 13ms",
  );
  assert.equal(l7Summary({ ...f, l7: { type: "REQUEST", dns: { query: "api.github.com.", qtypes: ["A"] } } }), "→ DNS api.github.com. A");
  assert.equal(l7Summary({ ...f, l7: { type: "REQUEST", kafka: { api_key: "produce", topic: "orders" } } }), "→ Kafka produce orders");
  assert.equal(l7Summary(f), "");
});

test("verdict classes group the colours", () => {
  assert.equal(verdictClass("REDIRECTED"), "forwarded");
  assert.equal(verdictClass("DROPPED"), "dropped");
  assert.equal(verdictClass("AUDIT"), "audit");
  assert.equal(verdictClass(undefined), "other");
});

test("the deciding policy comes from the flow's own direction first", () => {
  const f = stored(1, { traffic_direction: "EGRESS", egress_allowed_by: [cnp("egress-a")], ingress_allowed_by: [cnp("ingress-b")] }).flow;
  const d = decisionOf(f);
  assert.deepEqual(d.policies.map((p) => [p.via, p.policy.name]), [
    ["egress_allowed_by", "egress-a"],
    ["ingress_allowed_by", "ingress-b"],
  ]);
  assert.equal(decidingPolicyLabel(f), "CNP shop/egress-a +1");
});

test("a default-deny drop names the policies from Flowscope's extension, with rule and explanation", () => {
  const f = stored(1, {
    verdict: "DROPPED",
    drop_reason: 133,
    drop_reason_desc: "POLICY_DENIED",
    extensions: {
      "@type": "type.googleapis.com/flowscope.v1.FlowDecision",
      default_deny_by: [cnp("api-ingress")],
      rule: "ingress[0]",
      explanation: ["api selected by api-ingress", "no rule allows frontend on 80/TCP"],
    },
  }).flow;
  const d = decisionOf(f);
  assert.equal(d.defaultDeny, true);
  assert.equal(d.rule, "ingress[0]");
  assert.equal(d.explanation.length, 2);
  assert.equal(decidingPolicyLabel(f), "default deny (CNP shop/api-ingress)");
  assert.equal(dropReasonLabel(f), "POLICY_DENIED");
});

test("a deny-rule drop and an L7 decision are named", () => {
  const deny = stored(1, { verdict: "DROPPED", drop_reason: 181, ingress_denied_by: [{ ...cnp("deny-all", ""), kind: "CiliumClusterwideNetworkPolicy", namespace: undefined }] }).flow;
  assert.equal(decidingPolicyLabel(deny), "CCNP deny-all");
  assert.equal(dropReasonLabel(deny), "POLICY_DENY");
  const l7 = stored(2, { Type: "L7", extensions: { "@type": "type.googleapis.com/flowscope.v1.FlowDecision", l7_decided_by: [cnp("api-l7")] } }).flow;
  assert.equal(decisionOf(l7).policies[0]?.via, "l7_decided_by");
  // foreign extension payloads are ignored, not misread
  assert.equal(decisionOf(stored(3, { extensions: { "@type": "type.googleapis.com/other", rule: "x" } }).flow).rule, undefined);
});

test("Hubble UI's optional columns: source/destination IP, TCP flags in Hubble's order, authentication", async () => {
  const { COLUMN_BY_ID } = await import("../../lib/ui/columns");
  const { tcpFlagsLabel } = await import("../../lib/ui/flow-view");
  const f = stored(1, { l4: { TCP: { source_port: 40000, destination_port: 80, flags: { PSH: true, ACK: true } } }, auth_type: "SPIRE" });
  assert.equal(COLUMN_BY_ID.srcIp.text(f), "10.0.0.1");
  assert.equal(COLUMN_BY_ID.dstIp.text(f), "10.0.0.2");
  assert.equal(COLUMN_BY_ID.tcpFlags.text(f), "ACK, PSH");
  assert.equal(tcpFlagsLabel({ l4: { TCP: { flags: { FIN: true, ACK: true, SYN: true } } } }), "SYN, ACK, FIN");
  assert.equal(COLUMN_BY_ID.auth.text(f), "SPIRE");
  assert.equal(COLUMN_BY_ID.auth.text(stored(2, { auth_type: "DISABLED" })), "");
  assert.equal(COLUMN_BY_ID.tcpFlags.text(stored(3, { l4: { UDP: { source_port: 1, destination_port: 53 } } })), "");
});

test("l7Refused: the request the proxy refused and the proxy's own reply to it, never an allowed exchange", async () => {
  const { makeDatapath, trace, STAR_WARS, pA2 } = await import("../datapath/helpers");
  const { l7Refused } = await import("../../lib/ui/flow-view");
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const l7 = (req: Parameters<typeof trace>[1]) => trace(dp, req).flows.map((e) => e.flow).filter((x) => x.Type === "L7");
  const denied = l7({ from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "PUT", path: "/v1/exhaust-port" } });
  assert.deepEqual(denied.map((x) => [x.l7?.type, l7Refused(x, decisionOf(x))]), [["REQUEST", true], ["RESPONSE", true]]);
  const allowed = l7({ from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  assert.deepEqual(allowed.map((x) => [x.l7?.type, l7Refused(x, decisionOf(x))]), [["REQUEST", false], ["RESPONSE", false]]);
});

test("timeCell: the time of day for today's rows, the date in front for other days and years", async () => {
  const { timeCell } = await import("../../lib/ui/flow-view");
  const now = new Date(2026, 10, 28, 15, 0, 0);
  const local = (...a: [number, number, number, number, number, number, number]) => new Date(...a).toISOString();
  assert.equal(timeCell(local(2026, 10, 28, 9, 5, 7, 42), now), "09:05:07.042");
  assert.equal(timeCell(local(2026, 2, 4, 9, 5, 7, 42), now), "03-04 09:05:07");
  assert.equal(timeCell(local(2021, 10, 10, 10, 40, 56, 886), now), "2021-11-10 10:40");
  assert.equal(timeCell("not a time", now), "not a time");
  assert.equal(timeCell(undefined, now), "");
});
