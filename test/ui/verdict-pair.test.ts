import { test } from "node:test";
import assert from "node:assert/strict";
import { findTwin, isPolicyVerdictTwin, twinQuery } from "../../lib/ui/verdict-pair";
import { compileQuery } from "../../lib/filter/match";
import { fromSearchParams } from "../../lib/filter/parse-params";
import { stored } from "./fixtures";

const base = {
  time: "2026-01-01T00:00:00.000001Z",
  verdict: "DROPPED" as const,
  IP: { source: "10.0.0.1", destination: "10.0.0.2", ipVersion: "IPv4" as const },
  l4: { TCP: { source_port: 40000, destination_port: 5432 } },
};

test("a 181 drop borrows the policies of the policy-verdict event of the same packet", () => {
  const drop = stored(10, { ...base, drop_reason: 181, event_type: { type: 1, sub_type: 181 } });
  const verdict = stored(9, { ...base, event_type: { type: 5 }, ingress_denied_by: [{ name: "ledger-db", namespace: "payments", kind: "CiliumNetworkPolicy", revision: "2" }] });
  const otherPort = stored(8, { ...base, event_type: { type: 5 }, l4: { TCP: { source_port: 40001, destination_port: 5432 } } });
  const later = stored(7, { ...base, event_type: { type: 5 }, time: "2026-01-01T00:00:05Z" });
  assert.equal(isPolicyVerdictTwin(drop.flow, verdict.flow), true);
  assert.equal(isPolicyVerdictTwin(drop.flow, otherPort.flow), false, "another connection");
  assert.equal(isPolicyVerdictTwin(drop.flow, later.flow), false, "another packet, seconds apart");
  assert.equal(isPolicyVerdictTwin(drop.flow, drop.flow), false);
  assert.equal(findTwin(drop, [otherPort, later, drop, verdict])?.id, verdict.id);
  assert.equal(findTwin(drop, [otherPort, later]), undefined);
  // a retried packet: the twin nearest in time
  const retried = stored(3, { ...verdict.flow, time: "2026-01-01T00:00:00.900Z" });
  assert.equal(findTwin(drop, [retried, verdict])?.id, verdict.id);
});

test("the twin is asked for by addresses, ports, verdict, event type and a time window, not by nearby ids", () => {
  const drop = stored(5000, { ...base, drop_reason: 181, event_type: { type: 1, sub_type: 181 } });
  const q = twinQuery(drop.flow)!;
  const match = compileQuery(fromSearchParams(q));
  const twin = { ...base, event_type: { type: 5 }, time: "2026-01-01T00:00:00.300Z" };
  assert.equal(match(twin), true);
  assert.equal(match({ ...twin, event_type: { type: 1 } }), false, "not a policy verdict");
  assert.equal(match({ ...twin, verdict: "FORWARDED" }), false);
  assert.equal(match({ ...twin, IP: { ...twin.IP, destination: "10.0.0.3" } }), false);
  assert.equal(match({ ...twin, l4: { TCP: { source_port: 40001, destination_port: 5432 } } }), false);
  assert.equal(match({ ...twin, time: "2026-01-01T00:00:03Z" }), false, "outside the window");
  assert.equal(twinQuery({ ...base, time: undefined }), undefined);
});

test("a traced packet of an open connection is paired with the policy verdicts that opened it, both sides, as the datapath emits them", async () => {
  const { makeDatapath, trace, STAR_WARS } = await import("../datapath/helpers");
  const { connectionQuery, findConnectionVerdicts } = await import("../../lib/ui/verdict-pair");
  const policies = {
    "in.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: deathstar-in, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: deathstar } }
  ingress: [{ fromEndpoints: [{ matchLabels: { org: empire } }], toPorts: [{ ports: [{ port: "80", protocol: TCP }] }] }]
`,
    "out.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: tiefighter-out, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: tiefighter } }
  egress: [{ toEndpoints: [{ matchLabels: { class: deathstar } }] }]
`,
  };
  const dp = makeDatapath(STAR_WARS, policies);
  // an earlier connection on other ports, and the one under test
  const all = [...trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" }).flows, ...trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80, protocol: "TCP" }).flows].map((e, i) => stored(i + 1, e.flow));
  const mine = all.slice(all.length / 2);
  const verdicts = mine.filter((s) => s.flow.event_type?.type === 5);
  assert.deepEqual(verdicts.map((v) => v.flow.traffic_direction), ["EGRESS", "INGRESS"]);
  const later = mine.filter((s) => s.flow.event_type?.type === 4 && !s.flow.l4?.TCP?.flags?.SYN);
  assert.equal(later.length, 5);
  for (const p of [...later, ...mine.filter((s) => s.flow.event_type?.type === 4)]) {
    assert.deepEqual(findConnectionVerdicts(p, all).map((v) => v.id), verdicts.map((v) => v.id), p.flow.Summary);
    const match = compileQuery(fromSearchParams(connectionQuery(p.flow)!));
    assert.deepEqual(all.filter((s) => match(s.flow)).map((s) => s.id), verdicts.map((v) => v.id), `query for ${p.flow.Summary}`);
  }
  // a policy verdict, a drop, an L7 record: nothing to pair
  assert.equal(connectionQuery(verdicts[0]!.flow), undefined);
});

test("a reused port pair: a packet goes with the latest opening not after it", async () => {
  const { findConnectionVerdicts } = await import("../../lib/ui/verdict-pair");
  const open = (id: number, time: string, dir: "EGRESS" | "INGRESS") => stored(id, { ...base, verdict: "FORWARDED", time, event_type: { type: 5 }, traffic_direction: dir });
  const earlier = open(1, "2026-01-01T00:00:00Z", "EGRESS");
  const again = open(2, "2026-01-01T00:02:00Z", "EGRESS");
  const afterIt = open(3, "2026-01-01T00:04:00Z", "EGRESS");
  const fin = stored(4, { ...base, verdict: "FORWARDED", time: "2026-01-01T00:03:00Z", event_type: { type: 4 }, is_reply: false, l4: { TCP: { source_port: 40000, destination_port: 5432, flags: { FIN: true, ACK: true } } } });
  for (const order of [[earlier, afterIt, again], [again, afterIt, earlier], [afterIt, again, earlier]]) assert.deepEqual(findConnectionVerdicts(fin, order).map((v) => v.id), ["2"]);
  // the reply direction pairs with the same opening
  const replyFin = stored(5, { ...fin.flow, is_reply: true, IP: { ...base.IP, source: base.IP.destination, destination: base.IP.source }, l4: { TCP: { source_port: 5432, destination_port: 40000, flags: { FIN: true, ACK: true } } } });
  assert.deepEqual(findConnectionVerdicts(replyFin, [earlier, afterIt, again]).map((v) => v.id), ["2"]);
  // an opening handed to an L7 proxy, or let through in audit mode, let the connection through too
  for (const verdict of ["REDIRECTED", "AUDIT"] as const) assert.deepEqual(findConnectionVerdicts(fin, [{ ...again, flow: { ...again.flow, verdict } }]).map((v) => v.id), ["2"]);
  // a dropped opening never let the connection through
  assert.deepEqual(findConnectionVerdicts(fin, [{ ...again, flow: { ...again.flow, verdict: "DROPPED" } }]), []);
});

test("the two sides of an opening belong together: an older connection's verdict on a reused port pair is never borrowed", async () => {
  const { findConnectionVerdicts } = await import("../../lib/ui/verdict-pair");
  const open = (id: number, time: string, dir: "EGRESS" | "INGRESS") => stored(id, { ...base, verdict: "FORWARDED", time, event_type: { type: 5 }, traffic_direction: dir });
  const packet = (id: number, time: string, extra: Record<string, unknown> = {}) =>
    stored(id, { ...base, verdict: "FORWARDED", time, event_type: { type: 4 }, l4: { TCP: { source_port: 40000, destination_port: 5432, flags: { FIN: true, ACK: true } } }, ...extra });
  const oldOut = open(1, "2026-01-01T00:00:00.000Z", "EGRESS");
  const oldIn = open(2, "2026-01-01T00:00:00.002Z", "INGRESS");
  // the newer connection on the same ports was checked at the client only
  const newOut = open(3, "2026-01-01T00:04:00.000Z", "EGRESS");
  assert.deepEqual(findConnectionVerdicts(packet(4, "2026-01-01T00:04:00.010Z"), [oldOut, oldIn, newOut]).map((v) => v.id), ["3"]);
  // the server's node runs 300 ms ahead: its verdict of the same SYN is stamped after the client's FIN
  const newIn = open(5, "2026-01-01T00:04:00.300Z", "INGRESS");
  assert.deepEqual(findConnectionVerdicts(packet(6, "2026-01-01T00:04:00.010Z"), [oldOut, oldIn, newIn, newOut]).map((v) => v.id), ["3", "5"]);
  // only the server side was checked, and its clock is ahead: the verdict just after the packet is the one
  assert.deepEqual(findConnectionVerdicts(packet(7, "2026-01-01T00:04:00.010Z"), [oldOut, oldIn, newIn]).map((v) => v.id), ["5"]);
  // an older export's reply carries only the deprecated `reply`
  const reply = packet(8, "2026-01-01T00:04:00.020Z", { reply: true, IP: { ...base.IP, source: base.IP.destination, destination: base.IP.source }, l4: { TCP: { source_port: 5432, destination_port: 40000, flags: { FIN: true, ACK: true } } } });
  assert.deepEqual(findConnectionVerdicts(reply, [oldOut, oldIn, newIn, newOut]).map((v) => v.id), ["3", "5"]);
});
