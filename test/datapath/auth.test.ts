// Mutual authentication (policy `authentication.mode`): an allow entry that demands it passes only
// once the auth map holds an entry for (local identity, remote identity, remote node, auth type);
// the first packet is dropped with AUTH_REQUIRED (189) and the auth manager then authenticates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cnp, makeDatapath, NOW, TWO_NODES, dropEvents, verdictEvents } from "./helpers";
import type { Datapath, TraceResult } from "../../server/datapath";
import { toHubbleJson } from "../../lib/flow/json";
import { AUTH_TTL_MS } from "../../server/datapath/auth-map";

const SCN = `${TWO_NODES}namespaces: [{ name: default }]
workloads:
  - { name: client, namespace: default, labels: { app: client }, node: node-1 }
  - { name: server, namespace: default, labels: { app: server }, node: node-2, ports: [{ port: 80, app: http }, { port: 81, app: tcp }] }
`;

const serverIngress = (name: string, rules: string) => cnp(name, "{ app: server }", `  ingress:\n${rules}`);

const fromClient80 = (mode?: string) => `  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]
${mode ? `    authentication: { mode: ${mode} }\n` : ""}`;

const REQ = { from: "default/client", to: "default/server", port: 80, protocol: "TCP" as const };
const at = (ms: number) => new Date(NOW.getTime() + ms);
const send = (dp: Datapath, ms = 0, req: Parameters<Datapath["process"]>[0] = REQ): TraceResult => dp.process(req, at(ms));

function ingressVerdict(r: TraceResult) {
  const v = verdictEvents(r).filter((f) => f.traffic_direction === "INGRESS");
  assert.equal(v.length, 1, "one ingress policy-verdict event");
  return v[0]!;
}

function assertAuthDrop(r: TraceResult, authType: string) {
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.drop_reason_desc, "AUTH_REQUIRED");
  const v = ingressVerdict(r);
  assert.equal(v.verdict, "DROPPED");
  assert.equal(v.drop_reason, 189);
  assert.equal(v.drop_reason_desc, "AUTH_REQUIRED");
  assert.equal(v.auth_type, authType);
  // correlation names policies only for forwarded flows and denylist drops
  assert.equal(v.ingress_allowed_by, undefined);
  const drops = dropEvents(r);
  assert.equal(drops.length, 1);
  assert.deepEqual(drops[0]!.event_type, { type: 1, sub_type: 189 });
  assert.equal(drops[0]!.auth_type, undefined, "auth_type is set only on policy-verdict events");
}

test("required: the first packet is dropped with 189 AUTH_REQUIRED, the next ones pass with auth_type SPIRE", () => {
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("needs-auth", fromClient80("required")) });
  const first = send(dp);
  assertAuthDrop(first, "SPIRE");
  assert.ok(first.explanation.some((l) => l.includes("auth handshake is missing")), first.explanation.join("\n"));
  assert.ok(first.explanation.some((l) => l.includes("handshake") && l.includes("succeeded")));

  const second = send(dp, 10);
  assert.equal(second.verdict, "FORWARDED");
  const v = ingressVerdict(second);
  assert.equal(v.verdict, "FORWARDED");
  assert.equal(v.auth_type, "SPIRE");
  assert.deepEqual(v.ingress_allowed_by?.map((p) => p.name), ["needs-auth"]);
  // Hubble's JSON: auth_type right after verdict / drop_reason, before IP (flow.proto order)
  const keys = Object.keys(JSON.parse(toHubbleJson({ flow: v, node_name: "node-2", time: v.time! })).flow);
  assert.ok(keys.indexOf("verdict") < keys.indexOf("auth_type") && keys.indexOf("auth_type") < keys.indexOf("IP"), keys.join(","));
  assert.equal(JSON.parse(toHubbleJson({ flow: v, node_name: "node-2", time: v.time! })).flow.auth_type, "SPIRE");

  // the key is per identity pair, not per connection: later connections pass too
  assert.equal(send(dp, 20).verdict, "FORWARDED");
  const entries = dp.authMap.list();
  assert.equal(entries.length, 1);
  const server = dp.cluster.workloadPods("default/server")![0]!;
  const client = dp.cluster.workloadPods("default/client")![0]!;
  // the client runs on node-1, the first node: remote node id 1 as seen from node-2
  assert.deepEqual({ ...entries[0]!, expires: 0 }, { local: server.identity.id, remote: client.identity.id, remoteNode: 1, authType: 1, expires: 0 });
});

test("the auth map entry expires with the SVID lifetime: the next packet needs a new handshake", () => {
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("needs-auth", fromClient80("required")) });
  assertAuthDrop(send(dp), "SPIRE");
  assert.equal(send(dp, AUTH_TTL_MS - 1).verdict, "FORWARDED");
  assertAuthDrop(send(dp, AUTH_TTL_MS + 1), "SPIRE");
  assert.equal(send(dp, AUTH_TTL_MS + 2).verdict, "FORWARDED");
});

test("test-always-fail: the handshake never succeeds, every packet is dropped", () => {
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("always-fail", fromClient80("test-always-fail")) });
  for (let i = 0; i < 4; i++) {
    const r = send(dp, i * 1000);
    assertAuthDrop(r, "TEST_ALWAYS_FAIL");
    assert.ok(r.explanation.some((l) => l.includes("failed")), r.explanation.join("\n"));
  }
  assert.equal(dp.authMap.list().length, 0);
});

test("a deny still beats an allow that requires authentication", () => {
  const deny = cnp("deny-80", "{ app: server }", `  ingressDeny:\n  - toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]\n`);
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("needs-auth", fromClient80("required")), "d.yaml": deny });
  for (let i = 0; i < 2; i++) {
    const r = send(dp, i);
    assert.equal(r.verdict, "DROPPED");
    assert.equal(r.drop_reason_desc, "POLICY_DENY");
    assert.equal(ingressVerdict(r).auth_type, undefined);
  }
  assert.equal(dp.authMap.list().length, 0, "a denied flow never asks the auth manager");
});

test("mode disabled, and no authentication block at all, behave as before: forwarded at once, no auth_type", () => {
  for (const mode of ["disabled", undefined]) {
    const dp = makeDatapath(SCN, { "p.yaml": serverIngress("plain", fromClient80(mode)) });
    const r = send(dp);
    assert.equal(r.verdict, "FORWARDED", String(mode));
    assert.equal(ingressVerdict(r).auth_type, undefined);
    assert.equal("auth_type" in ingressVerdict(r), false);
    assert.equal(send(dp, 0, { ...REQ, port: 81 }).verdict, "DROPPED");
  }
});

test("an L3 rule's requirement is inherited by the peer's port entries; an explicit disabled overrides it", () => {
  const l3 = `  - fromEndpoints: [{ matchLabels: { app: client } }]
    authentication: { mode: required }
`;
  const inherited = makeDatapath(SCN, { "p.yaml": serverIngress("l3-auth", l3 + fromClient80()) });
  assertAuthDrop(send(inherited), "SPIRE");
  assert.ok(send(inherited, 1).explanation.some((l) => l.includes("inherited from a broader entry")));

  const overridden = makeDatapath(SCN, { "p.yaml": serverIngress("l3-auth", l3 + fromClient80("disabled")) });
  const r = send(overridden);
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(ingressVerdict(r).auth_type, undefined);
  // the L3 entry itself still demands it for the other ports
  assertAuthDrop(send(overridden, 0, { ...REQ, port: 81 }), "SPIRE");
});

test("egress and ingress entries that both demand auth each check their own key", () => {
  const egress = cnp("client-out", "{ app: client }", `  egress:
  - toEndpoints: [{ matchLabels: { app: server } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]
    authentication: { mode: required }
`);
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("needs-auth", fromClient80("required")), "e.yaml": egress });
  const first = send(dp);
  assert.equal(first.drop_reason_desc, "AUTH_REQUIRED");
  assert.equal(first.egress?.verdict, "DROPPED");
  assert.equal(first.ingress, undefined, "dropped at the source, never reached the destination");
  const second = send(dp, 1);
  assert.equal(second.drop_reason_desc, "AUTH_REQUIRED");
  assert.equal(second.egress?.verdict, "FORWARDED");
  assert.equal(second.ingress?.verdict, "DROPPED");
  const third = send(dp, 2);
  assert.equal(third.verdict, "FORWARDED");
  assert.deepEqual(verdictEvents(third).map((f) => f.auth_type), ["SPIRE", "SPIRE"]);
  assert.equal(dp.authMap.list().length, 2);
});

test("replies of an established connection pass without a policy lookup, so without an auth check", () => {
  // the client itself only accepts authenticated traffic from the server, a pair never authenticated
  const clientIngress = cnp("client-in", "{ app: client }", `  ingress:
  - fromEndpoints: [{ matchLabels: { app: server } }]
    authentication: { mode: test-always-fail }
`);
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("needs-auth", fromClient80("required")), "c.yaml": clientIngress });
  assertAuthDrop(send(dp), "SPIRE");
  const r = send(dp, 5);
  assert.equal(r.verdict, "FORWARDED");
  const replies = r.flows.map((f) => f.flow).filter((f) => f.is_reply === true);
  // delivered to the client (and, between nodes, encapsulated at the server's first): the SYN-ACK,
  // the first ACK+PSH and the FIN, none of them checked
  assert.deepEqual(replies.filter((f) => f.trace_observation_point === "TO_ENDPOINT").map((f) => f.Summary), ["TCP Flags: SYN, ACK", "TCP Flags: ACK, PSH", "TCP Flags: ACK, FIN"]);
  for (const reply of replies) {
    assert.equal(reply.verdict, "FORWARDED");
    assert.equal(reply.source?.pod_name?.startsWith("server"), true);
  }
  assert.ok(r.explanation.some((l) => l.includes("connection-tracking entry")));
  // a new connection from the server to the client is policy-checked, and always fails
  assertAuthDropAt(send(dp, 6, { from: "default/server", to: "default/client", port: 80, protocol: "TCP" }));
});

function assertAuthDropAt(r: TraceResult) {
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.drop_reason_desc, "AUTH_REQUIRED");
}

test("audit mode lets an auth-requiring flow pass as AUDIT without asking the auth manager", () => {
  const dp = makeDatapath(`${SCN}\nsettings: { policyAuditMode: true }\n`, { "p.yaml": serverIngress("needs-auth", fromClient80("required")) });
  const r = send(dp);
  assert.equal(r.verdict, "AUDIT");
  const v = ingressVerdict(r);
  assert.equal(v.verdict, "AUDIT");
  assert.equal(v.auth_type, "SPIRE");
  assert.equal(dropEvents(r).length, 0);
  assert.equal(dp.authMap.list().length, 0);
});

test("counters: an AUTH_REQUIRED drop hits the entry but is not counted as allowed by the policy", () => {
  const dp = makeDatapath(SCN, { "p.yaml": serverIngress("needs-auth", fromClient80("required")) });
  send(dp);
  send(dp, 1);
  const server = dp.cluster.workloadPods("default/server")![0]!;
  const entry = dp.engine.compiled.get(server.endpointId)!.ingress.all().find((e) => e.portLo === 80)!;
  assert.equal(dp.engine.statsOf(server.endpointId, "ingress")!.packets(entry), 2);
  assert.deepEqual(dp.engine.policies.get("CiliumNetworkPolicy/default/needs-auth")!.counters!.ingress, { allowed: 1, denied: 0, defaultDenied: 0 });
});
