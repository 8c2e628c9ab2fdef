// §4.A of policy-semantics.md: the Star Wars demo, through the Datapath API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, verdictEvents, dropEvents, STAR_WARS, P_A1, P_A3, pA2 } from "./helpers";

const landing = (from: string, method = "POST", path = "/v1/request-landing", port = 80) => ({ from, to: "default/deathstar", port, protocol: "TCP" as const, http: { method, path } });

test("A1/A2: no policy — everything is forwarded without policy-verdict events", () => {
  const dp = makeDatapath(STAR_WARS);
  for (const from of ["default/xwing", "default/tiefighter"]) {
    const r = trace(dp, landing(from));
    assert.equal(r.verdict, "FORWARDED");
    assert.equal(verdictEvents(r).length, 0);
    assert.ok(r.flows.some((f) => f.flow.event_type?.type === 4 && f.flow.trace_observation_point === "TO_ENDPOINT"));
  }
});

test("A3: P-A1 tiefighter → deathstar:80 is L3-L4 allowed by rule1", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  const r = trace(dp, landing("default/tiefighter"));
  assert.equal(r.verdict, "FORWARDED");
  const [pv] = verdictEvents(r);
  assert.equal(pv.verdict, "FORWARDED");
  assert.equal(pv.traffic_direction, "INGRESS");
  assert.equal(pv.policy_match_type, 2);
  assert.equal(pv.ingress_allowed_by?.[0].name, "rule1");
  assert.equal(pv.ingress_allowed_by?.[0].namespace, "default");
  assert.equal(pv.ingress_allowed_by?.[0].kind, "CiliumNetworkPolicy");
  assert.equal(typeof pv.ingress_allowed_by?.[0].revision, "string");
  assert.equal(r.ingress?.match_type, "L3-L4");
});

test("A4: P-A1 xwing → deathstar is DROP133 with no policy name, extensions name the default-deny policy", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  const r = trace(dp, landing("default/xwing"));
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  const [pv] = verdictEvents(r);
  assert.equal(pv.verdict, "DROPPED");
  assert.equal(pv.drop_reason_desc, "POLICY_DENIED");
  assert.equal(pv.policy_match_type, undefined);
  assert.equal(pv.ingress_denied_by, undefined);
  assert.equal(pv.ingress_allowed_by, undefined);
  const [drop] = dropEvents(r);
  assert.deepEqual(drop.event_type, { type: 1, sub_type: 133 });
  assert.equal(drop.drop_reason, 133);
  const ext = drop.extensions as { default_deny_by?: { name?: string }[] };
  assert.equal(ext.default_deny_by?.[0].name, "rule1");
  assert.ok(r.explanation.some((l) => l.includes("nearest rule") && l.includes("org=empire")));
});

test("A5/A6: P-A1 allows any HTTP method on 80 and leaves deathstar egress alone", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  assert.equal(trace(dp, landing("default/tiefighter", "PUT", "/v1/exhaust-port")).verdict, "FORWARDED");
  const r = trace(dp, { from: "default/deathstar", to: "default/xwing", port: 9999, protocol: "TCP" });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(r.egress?.enforced, false);
});

test("A7–A13: P-A2 L7 rules: redirect, 200 for the allowed call, 403 otherwise, 133 for xwing", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const ok = trace(dp, landing("default/tiefighter"));
  assert.equal(ok.verdict, "FORWARDED");
  assert.equal(verdictEvents(ok)[0].verdict, "REDIRECTED");
  assert.equal(verdictEvents(ok)[0].policy_match_type, 2);
  assert.equal(ok.response?.http_code, 200);
  const l7 = ok.flows.filter((f) => f.flow.Type === "L7");
  assert.ok(l7.length >= 1);
  assert.deepEqual(l7[0].flow.event_type, { type: 129 });
  for (const [m, p] of [["PUT", "/v1/exhaust-port"], ["PUT", "/v1/request-landing"], ["GET", "/v1/request-landing"], ["POST", "/v1/request-landing/extra"]]) {
    const r = trace(dp, landing("default/tiefighter", m, p));
    assert.equal(r.verdict, "DROPPED", `${m} ${p}`);
    assert.equal(r.l7_denied, true);
    assert.equal(r.response?.http_code, 403);
    assert.equal(r.drop_reason_desc, undefined);
    const req = r.flows.find((f) => f.flow.Type === "L7" && f.flow.l7?.type === "REQUEST")!;
    assert.equal(req.flow.verdict, "DROPPED");
    assert.equal(req.flow.drop_reason_desc, undefined);
    assert.equal((req.flow.extensions as { l7_decided_by?: { name?: string }[] }).l7_decided_by?.[0].name, "rule1");
  }
  const x = trace(dp, landing("default/xwing"));
  assert.equal(x.drop_reason_desc, "POLICY_DENIED");
  assert.equal(x.flows.filter((f) => f.flow.Type === "L7").length, 0);
  const dp2 = makeDatapath(STAR_WARS, { "p.yaml": pA2("/v1/.*") });
  assert.equal(trace(dp2, landing("default/tiefighter", "POST", "/v1/anything")).verdict, "FORWARDED");
});

test("A14: P-A2 tiefighter → deathstar:8080 is DROP133", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 8080, protocol: "TCP" });
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.ok(r.explanation.some((l) => l.includes("port not covered")));
});

test("A15–A20: audit mode and empire-default-deny", () => {
  const audit = makeDatapath(STAR_WARS, { "a3.yaml": P_A3 }, { audit: true });
  const r15 = trace(audit, landing("default/tiefighter"));
  assert.equal(r15.verdict, "AUDIT");
  assert.equal(verdictEvents(r15)[0].verdict, "AUDIT");
  assert.equal(verdictEvents(r15)[0].policy_match_type, undefined);
  assert.equal(dropEvents(r15).length, 0);
  assert.ok(r15.flows.some((f) => f.flow.trace_observation_point === "TO_ENDPOINT"));

  const audit2 = makeDatapath(STAR_WARS, { "a3.yaml": P_A3, "a1.yaml": P_A1 }, { audit: true });
  const r16 = trace(audit2, landing("default/tiefighter"));
  assert.equal(verdictEvents(r16)[0].verdict, "FORWARDED");
  assert.equal(verdictEvents(r16)[0].policy_match_type, 2);
  assert.equal(r16.verdict, "FORWARDED");
  assert.equal(trace(audit2, landing("default/xwing")).verdict, "AUDIT"); // A20

  const enf = makeDatapath(STAR_WARS, { "a3.yaml": P_A3, "a1.yaml": P_A1 });
  assert.equal(trace(enf, landing("default/tiefighter")).verdict, "FORWARDED"); // A17
  assert.equal(trace(enf, landing("default/xwing")).drop_reason_desc, "POLICY_DENIED"); // A18
  const only = makeDatapath(STAR_WARS, { "a3.yaml": P_A3 });
  const r19 = trace(only, landing("default/tiefighter"));
  assert.equal(r19.drop_reason_desc, "POLICY_DENIED"); // A19
  assert.equal((dropEvents(r19)[0].extensions as { default_deny_by?: { name?: string }[] }).default_deny_by?.[0].name, "empire-default-deny");
});

test("service traffic: the socket load balancer picks a backend, policy sees the backend's port, and no record names the service", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  const r = trace(dp, { from: "default/tiefighter", toService: "default/deathstar", port: 80, protocol: "TCP" });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal((r.request.destination as { service?: string }).service, "default/deathstar");
  assert.ok(verdictEvents(r)[0].destination?.pod_name?.startsWith("deathstar-"));
  // Hubble looks a service up by its frontend address, which no packet carries once the socket
  // load balancer has translated the connection (as the real records in flow-schema.md §3.6 show)
  for (const { flow } of r.flows) {
    assert.equal(flow.destination_service, undefined);
    assert.equal(flow.source_service, undefined);
  }
});

test("replies from a service's backend: the deprecated reply bool is set, and traces carry their CT reason", () => {
  const dp = makeDatapath(STAR_WARS, { "a2.yaml": pA2() });
  const r = trace(dp, { from: "default/tiefighter", toService: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  assert.equal(r.verdict, "FORWARDED");
  const allReplies = r.flows.map((e) => e.flow).filter((f) => f.is_reply === true);
  const replies = allReplies.filter((f) => f.destination?.pod_name?.startsWith("tiefighter"));
  // to the client: the proxy's SYN-ACK, its answer's first ACK+PSH and its FIN, and the HTTP response
  assert.deepEqual(replies.map((f) => f.Type).sort(), ["L3_L4", "L3_L4", "L3_L4", "L7"]);
  assert.deepEqual(replies.filter((f) => f.Type === "L3_L4").map((f) => f.Summary), ["TCP Flags: SYN, ACK", "TCP Flags: ACK, PSH", "TCP Flags: ACK, FIN"]);
  // the rest answer the ingress proxy's own connection to the backend, which ends at the host
  assert.deepEqual(allReplies.filter((f) => !replies.includes(f)).map((f) => `${f.trace_observation_point} ${f.destination?.identity} ${f.Summary}`), ["TO_STACK 1 TCP Flags: SYN, ACK", "TO_STACK 1 TCP Flags: ACK, PSH"]);
  for (const f of allReplies) assert.equal(f.reply, true, "the deprecated reply bool is filled from is_reply, as Hubble does");
  // traces carry the connection-tracking reason Hubble derives is_reply from
  const traces = r.flows.map((e) => e.flow).filter((f) => f.event_type?.type === 4);
  assert.ok(traces.length >= 2);
  // the SYN opens the connection; the client's later packets belong to it
  for (const t of traces) assert.equal(t.trace_reason, t.is_reply ? "REPLY" : t.l4?.TCP?.flags?.SYN ? "NEW" : "ESTABLISHED");
  const request = r.flows.map((e) => e.flow).find((f) => f.Type === "L7" && f.is_reply === false)!;
  assert.equal(request.reply, undefined);
});

test("policy_log: the log values of the rules behind the verdict's entry, de-duplicated, absent when none is set", () => {
  const withLog = (name: string, log: string, body: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: default }
spec:
  endpointSelector: { matchLabels: { org: empire, class: deathstar } }
  log: { value: "${log}" }
${body}`;
  const allow = "  ingress:\n  - fromEndpoints: [{ matchLabels: { org: empire } }]\n    toPorts: [{ ports: [{ port: \"80\", protocol: TCP }] }]";
  const dp = makeDatapath(STAR_WARS, {
    "a.yaml": withLog("empire-in", "empire-landing", allow),
    "b.yaml": withLog("empire-in-too", "empire-landing", allow),
    "c.yaml": withLog("no-xwing", "xwing-blocked", "  ingressDeny:\n  - fromEndpoints: [{ matchLabels: { org: alliance } }]"),
  });
  const ok = verdictEvents(trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" }))[0];
  assert.deepEqual(ok.ingress_allowed_by?.map((p) => p.name).sort(), ["empire-in", "empire-in-too"]);
  assert.deepEqual(ok.policy_log, ["empire-landing"]);
  const denied = verdictEvents(trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80, protocol: "TCP" }))[0];
  assert.equal(denied.drop_reason_desc, "POLICY_DENY");
  assert.deepEqual(denied.policy_log, ["xwing-blocked"]);
  const plain = verdictEvents(trace(makeDatapath(STAR_WARS, { "p.yaml": P_A1 }), { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" }))[0];
  assert.equal(plain.policy_log, undefined);
});

test("the Host header leaves out the default port, as curl sends it: a host rule on the service name matches, and the URL reads as in Hubble", () => {
  const withHost = pA2().replace('path: "/v1/request-landing" }', "path: \"/v1/request-landing\", host: 'deathstar\\.default\\.svc\\.cluster\\.local' }");
  assert.notEqual(withHost, pA2(), "the host rule was added");
  const dp = makeDatapath(STAR_WARS, { "p.yaml": withHost });
  const r = trace(dp, { from: "default/tiefighter", toService: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  assert.equal(r.verdict, "FORWARDED", r.explanation.join("\n"));
  const req = r.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow;
  assert.equal(req.l7?.http?.url, "http://deathstar.default.svc.cluster.local/v1/request-landing");
  // another port keeps it: Host is "name:port" then
  const other = makeDatapath(STAR_WARS.replace("port: 80, targetPort: 80", "port: 8080, targetPort: 80"), { "p.yaml": pA2() });
  const r2 = trace(other, { from: "default/tiefighter", toService: "default/deathstar", port: 8080, protocol: "TCP", http: { method: "POST", path: "/v1/request-landing" } });
  assert.equal(r2.flows.find((f) => f.flow.l7?.type === "REQUEST")!.flow.l7?.http?.url, "http://deathstar.default.svc.cluster.local:8080/v1/request-landing");
});
