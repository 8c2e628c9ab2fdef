// The flattened lookup (precomputed answers per identity/port) must answer exactly as the table scan
// it replaces: random maps with denies, ranges, wildcards and ANY-identity entries, checked against
// the candidate list that explanations use (deny wins, then the most specific entry).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicyMapDir, ANY_IDENTITY, matchTypeOf, verdictMatchType, VERDICT_DENY, VERDICT_MATCHED, type RuleRef } from "../../server/datapath/policy-map";

function rng(seed: number) {
  let x = seed;
  return (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) % n);
}

const ref = (i: number) => ({ rule: { policy: { key: `p${i}` } }, peerRule: {}, path: `spec.ingress[${i}]` }) as unknown as RuleRef;

test("flattened lookup agrees with the table scan on random maps", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const m = new PolicyMapDir();
    const ids = [ANY_IDENTITY, 256, 257, 258, 300];
    for (let i = 0; i < 30; i++) {
      const id = ids[r(ids.length)];
      const kind = r(4);
      const deny = r(5) === 0;
      if (kind === 0) m.add(id, 0, 0, 65535, true, deny, ref(i), null);
      else if (kind === 1) m.add(id, 1 + r(2), 0, 65535, true, deny, ref(i), null);
      else if (kind === 2) { const p = 80 + r(6); m.add(id, 1 + r(2), p, p, false, deny, ref(i), null); }
      else { const lo = 78 + r(6); m.add(id, 1 + r(2), lo, lo + r(8), false, deny, ref(i), null); }
    }
    let hits = 0;
    for (const id of [256, 257, 258, 300, 999]) {
      for (const proto of [1, 2, 3]) {
        for (let port = 75; port < 95; port++) {
          const c = m.candidates(id, proto, port);
          const want = c.find((e) => e.deny) ?? c[0] ?? null;
          const got = m.lookup(id, proto, port);
          assert.equal(got.entry, want, `seed ${seed}: (${id}, ${proto}, ${port})`);
          assert.equal(got.matchType, want ? matchTypeOf(want) : 0);
          // the packed verdict a decision reads says the same as the entry
          const v = m.verdict(id, proto, port);
          assert.equal((v & VERDICT_MATCHED) !== 0, want !== null, `verdict matched (${id}, ${proto}, ${port})`);
          assert.equal((v & VERDICT_DENY) !== 0, want?.deny === true, `verdict deny (${id}, ${proto}, ${port})`);
          assert.equal(verdictMatchType(v), want ? matchTypeOf(want) : 0);
          if (want) hits++;
        }
      }
    }
    assert.ok(hits > 0, `seed ${seed} exercised some matches`);
  }
});

test("adding an entry after a lookup is seen by the next lookup", () => {
  const m = new PolicyMapDir();
  m.add(256, 1, 80, 80, false, false, ref(0), null);
  assert.equal(m.lookup(256, 1, 80).entry?.deny, false);
  m.add(ANY_IDENTITY, 1, 80, 80, false, true, ref(1), null);
  assert.equal(m.lookup(256, 1, 80).entry?.deny, true);
  assert.equal(m.lookup(257, 1, 80).entry?.deny, true);
  assert.equal(m.lookup(257, 1, 81).entry, null);
});

test("ports inside overlapping port ranges get the answer of the most specific prefix block", () => {
  // ranges of every width overlap here, so the winning entry changes at the aligned-block
  // boundaries inside a range (Cilium's port/mask expansion), which the lookup must reproduce
  let ranged = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed * 7919);
    const m = new PolicyMapDir();
    const ids = [ANY_IDENTITY, 256, 257];
    for (let i = 0; i < 12; i++) {
      const id = ids[r(ids.length)];
      const deny = r(6) === 0;
      const kind = r(5);
      if (kind === 0) m.add(id, 1, 0, 65535, true, deny, ref(i), null);
      else if (kind === 1) { const p = r(300); m.add(id, 1, p, p, false, deny, ref(i), null); }
      else { const lo = r(280); m.add(id, 1, lo, Math.min(65535, lo + 1 + r(kind === 4 ? 3000 : 120)), false, deny, ref(i), null); }
    }
    for (const id of [256, 257, 999]) {
      for (let port = 0; port < 3300; port += port < 320 ? 1 : 37) {
        const c = m.candidates(id, 1, port);
        const want = c.find((e) => e.deny) ?? c[0] ?? null;
        assert.equal(m.lookup(id, 1, port).entry, want, `seed ${seed}: (${id}, TCP, ${port})`);
        if (want && !want.wildcardPort && want.portLo !== want.portHi) ranged++;
      }
    }
  }
  assert.ok(ranged > 1000, `range entries won ${ranged} lookups`);
});

test("a hit returns the entry itself as the lookup result, with its match type", () => {
  const m = new PolicyMapDir();
  m.add(256, 1, 80, 80, false, false, ref(0), null);
  m.add(ANY_IDENTITY, 2, 0, 65535, true, false, ref(1), null);
  m.seal();
  const hit = m.lookup(256, 1, 80);
  assert.equal(hit.entry, hit);
  assert.equal(hit.matchType, 2); // L3-L4
  assert.equal(m.lookup(300, 2, 53).matchType, 6); // Proto-Only: the ANY identity, UDP on every port
  assert.equal(m.lookup(256, 1, 81).entry, null);
  assert.equal(m.lookup(256, 1, 81).matchType, 0);
});
