import { test } from "node:test";
import assert from "node:assert/strict";
import { isProxySentOnBehalf } from "../../lib/ui/proxy-upstream";
import type { Flow } from "../../lib/flow/types";

const server = { identity: 19341, namespace: "default", pod_name: "deathstar-0", labels: ["k8s:class=deathstar"] };
const upstream: Flow = {
  event_type: { type: 4 }, trace_observation_point: "TO_ENDPOINT", is_reply: false, verdict: "FORWARDED",
  IP: { source: "192.168.1.10", destination: "10.0.1.11" },
  source: { identity: 29266, labels: ["k8s:class=tiefighter", "k8s:io.kubernetes.pod.namespace=default"] },
  destination: server,
};

test("a pod's identity on a non-pod address, delivered to a pod: a proxy's packet sent on the client's behalf", () => {
  assert.equal(isProxySentOnBehalf(upstream), true);
});

test("not: a pod's own packet, the host's, a CIDR peer's, a reply, a policy verdict, or one delivered to no pod", () => {
  assert.equal(isProxySentOnBehalf({ ...upstream, source: { ...upstream.source, namespace: "default", pod_name: "tiefighter-0" } }), false);
  assert.equal(isProxySentOnBehalf({ ...upstream, source: { identity: 1, labels: ["reserved:host"] } }), false);
  assert.equal(isProxySentOnBehalf({ ...upstream, source: { identity: 16777217, labels: ["cidr:192.168.1.10/32"] } }), false);
  assert.equal(isProxySentOnBehalf({ ...upstream, is_reply: true }), false);
  assert.equal(isProxySentOnBehalf({ ...upstream, event_type: { type: 5 } }), false);
  assert.equal(isProxySentOnBehalf({ ...upstream, trace_observation_point: "TO_STACK" }), false);
  assert.equal(isProxySentOnBehalf({ ...upstream, destination: { identity: 2, labels: ["reserved:world"] } }), false);
});
