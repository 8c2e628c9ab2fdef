// Exports for Hubble's tools leave out the `extensions` Any: inline, as a stored fragment reference,
// and whatever its strings contain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withoutExtensions } from "../../lib/flow/strip-extensions";
import { toHubbleJson } from "../../lib/flow/json";
import type { FlowEnvelope } from "../../lib/flow/types";

const env = (extensions?: Record<string, unknown>): FlowEnvelope => ({
  flow: {
    time: "2024-05-01T10:00:00Z",
    verdict: "DROPPED",
    Summary: 'a "quoted" }, {"extensions": no',
    ...(extensions ? { extensions } : {}),
    ingress_denied_by: [{ name: "p", namespace: "default", kind: "CiliumNetworkPolicy" }],
  },
  node_name: "node-1",
  time: "2024-05-01T10:00:00Z",
});

test("the extensions member is removed and nothing else changes", () => {
  const ext = { "@type": "type.googleapis.com/flowscope.v1.FlowDecision", rule: 'spec.x {"}\\\\', explanation: ["a } b", "[c]", '"d"'], nested: { a: [{ b: "}" }] } };
  const withExt = toHubbleJson(env(ext));
  const plain = toHubbleJson(env());
  assert.notEqual(withExt, plain);
  assert.equal(withoutExtensions(withExt), plain);
  assert.deepEqual(JSON.parse(withoutExtensions(withExt)), JSON.parse(plain));
  assert.equal(withoutExtensions(plain), plain, "a record without extensions is returned as it is");
});

test("a stored body whose extension is a fragment reference loses the reference", () => {
  const body = '{"flow":{"verdict":"DROPPED","Summary":"x","extensions":\u0000z3\u0000,"ingress_denied_by":\u0000a\u0000},"node_name":"n"}';
  assert.equal(withoutExtensions(body), '{"flow":{"verdict":"DROPPED","Summary":"x","ingress_denied_by":\u0000a\u0000},"node_name":"n"}');
});
