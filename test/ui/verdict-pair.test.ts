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
