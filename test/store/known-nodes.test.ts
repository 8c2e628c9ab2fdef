// The node list behind per-node queries: names kept once each, sorted, and a list that outgrew its bound
// says so instead of growing (imported node names are untrusted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KnownNodes, MAX_KNOWN_NODES } from "../../server/store/known-nodes";

test("known nodes: each name once, sorted; past the bound the list is marked incomplete and stops growing", () => {
  const k = new KnownNodes();
  for (const n of ["node-2", "node-1", "node-2", ""]) k.add(n);
  assert.deepEqual(k.list(), { nodes: ["", "node-1", "node-2"], complete: true });
  for (let i = 0; i < MAX_KNOWN_NODES + 10; i++) k.add(`n-${i}`);
  const { nodes, complete } = k.list();
  assert.equal(nodes.length, MAX_KNOWN_NODES);
  assert.equal(complete, false);
  // a name already known is no overflow
  const fresh = new KnownNodes();
  for (let i = 0; i < MAX_KNOWN_NODES; i++) fresh.add(`n-${i}`);
  fresh.add("n-0");
  assert.equal(fresh.list().complete, true);
});
