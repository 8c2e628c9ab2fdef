// Cilium's own policy-map entries (allow-localhost-ingress, allow-any-*) reach *_allowed_by as a Policy
// with only a derived-from label: shown for what they are, never counted or filtered as a policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { derivedFrom, derivedPolicy } from "../../lib/flow/derived-policy";
import { decidingPolicies, policyRef } from "../../lib/filter/policy";
import { getVerdict } from "../../lib/flow/print";
import { policyShort } from "../../lib/ui/flow-view";
import type { Flow } from "../../lib/flow/types";

test("a derived entry is named by its rule, and left out of the deciding policies", () => {
  const p = derivedPolicy("allow-localhost-ingress", 7);
  assert.deepEqual(p, { labels: ["reserved:io.cilium.policy.derived-from=allow-localhost-ingress"], revision: "7" });
  assert.equal(derivedFrom(p), "allow-localhost-ingress");
  assert.equal(derivedFrom({ name: "web", kind: "CiliumNetworkPolicy", labels: ["reserved:io.cilium.policy.derived-from=x"] }), undefined, "a named policy is a policy");
  const real = { name: "web", namespace: "shop", kind: "CiliumNetworkPolicy", revision: "7" };
  const f: Flow = { verdict: "FORWARDED", event_type: { type: 5 }, traffic_direction: "INGRESS", ingress_allowed_by: [p, real] };
  assert.deepEqual(decidingPolicies(f), ["CiliumNetworkPolicy/shop/web"]);
  assert.equal(policyRef(p), "reserved:allow-localhost-ingress");
  assert.equal(policyShort(p), "implicit allow-localhost-ingress");
  // hubble's printer names a policy only when it has a name and a kind: Cilium's own entries are not named
  assert.equal(getVerdict({ ...f, ingress_allowed_by: [p] }, { policyNames: true }), "ALLOWED");
  assert.equal(getVerdict(f, { policyNames: true }), "ALLOWED BY web (CiliumNetworkPolicy)");
});
