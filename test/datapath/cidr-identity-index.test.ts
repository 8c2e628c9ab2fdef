// The registry finds the CIDR identities inside a prefix by binary search over IPv4 prefixes sorted by
// network address (a policy with thousands of CIDR rules asks once per rule). Its answer must be exactly
// what a scan of every CIDR identity with cidrContains gives, in the same (identity) order, for nested,
// adjacent, host, /0 and IPv6 prefixes, and after identities come and go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdentityRegistry, type Identity } from "../../server/cluster/identities";
import { cidrContains, parseCidr, type Cidr } from "../../server/cluster/ip";
import { cnp, makeDatapath, trace, verdictEvents } from "./helpers";

function cidr(s: string): Cidr {
  const c = parseCidr(s);
  if ("error" in c) throw new Error(c.error);
  return c;
}

/** a deterministic pseudo-random sequence (xorshift32), so a failure replays */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomPrefix(r: () => number): string {
  if (r() < 0.08) return `2001:db8:${Math.floor(r() * 4).toString(16)}::/${48 + Math.floor(r() * 4) * 16}`;
  const len = [0, 8, 16, 20, 24, 24, 28, 31, 32, 32][Math.floor(r() * 10)]!;
  // addresses near each other, so prefixes nest and sit side by side
  const addr = ((10 << 24) | (Math.floor(r() * 4) << 16) | (Math.floor(r() * 8) << 8) | Math.floor(r() * 256)) >>> 0;
  const dotted = [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].join(".");
  return cidr(`${dotted}/${len}`).text;
}

const scan = (reg: IdentityRegistry, outer: Cidr): number[] =>
  reg
    .cidrIdentities()
    .filter((i) => i.cidr && cidrContains(outer, i.cidr))
    .map((i) => i.id)
    .sort((a, b) => a - b);

test("the CIDR identities inside a prefix are those a full scan finds, in identity order, as identities come and go", () => {
  const r = rng(0x5eed);
  const reg = new IdentityRegistry();
  let wanted = new Map<string, { cidr: Cidr; fqdn: boolean }>();
  for (let round = 0; round < 6; round++) {
    // keep about half, add new ones: the sorted index must follow both
    wanted = new Map([...wanted].filter(() => r() < 0.5));
    for (let k = 0; k < 400; k++) {
      const p = randomPrefix(r);
      wanted.set(p, { cidr: cidr(p), fqdn: false });
    }
    reg.syncCidrIdentities(wanted);
    let nonEmpty = 0;
    for (let q = 0; q < 300; q++) {
      const outer = cidr(randomPrefix(r));
      const got = reg.cidrIdentitiesWithin(outer).map((i: Identity) => i.id);
      assert.deepEqual(got, scan(reg, outer), `round ${round}: inside ${outer.text}`);
      if (got.length > 0) nonEmpty++;
    }
    assert.ok(nonEmpty > 50, `round ${round}: the queries found something (${nonEmpty})`);
  }
  // the edges of the address space
  wanted = new Map(["0.0.0.0/0", "0.0.0.0/32", "255.255.255.255/32", "255.255.255.0/24", "128.0.0.0/1"].map((p) => [p, { cidr: cidr(p), fqdn: false }]));
  reg.syncCidrIdentities(wanted);
  for (const p of ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "255.255.255.255/32", "255.255.255.0/24", "::/0"]) {
    assert.deepEqual(reg.cidrIdentitiesWithin(cidr(p)).map((i) => i.id), scan(reg, cidr(p)), p);
  }
});

test("a policy of many CIDR rules allows exactly the addresses its prefixes and excepts say", () => {
  const SCN = `apiVersion: flowscope/v1
kind: Scenario
workloads:
  - { name: client, namespace: default, labels: { app: client } }
`;
  const rules: string[] = [];
  for (let i = 0; i < 2000; i++) rules.push(`  - toCIDR: ["10.${Math.floor(i / 256)}.${i % 256}.0/24"]`);
  rules.push(`  - toCIDRSet: [{ cidr: "172.16.0.0/12", except: ["172.16.5.0/24"] }]`);
  const dp = makeDatapath(SCN, { "p.yaml": cnp("many", "{ app: client }", `  egress:\n${rules.join("\n")}`) });
  assert.deepEqual(dp.warnings, []);
  const verdict = (ip: string) => verdictEvents(trace(dp, { from: "default/client", toIP: ip, port: 443 }))[0]?.verdict;
  assert.equal(verdict("10.0.0.9"), "FORWARDED");
  assert.equal(verdict("10.7.207.1"), "FORWARDED", "the last /24 (rule 1999)");
  assert.equal(verdict("10.7.208.1"), "DROPPED", "the /24 after the last rule");
  assert.equal(verdict("172.20.1.1"), "FORWARDED");
  assert.equal(verdict("172.16.5.7"), "DROPPED", "inside the except");
  assert.equal(verdict("192.0.2.1"), "DROPPED");
});
