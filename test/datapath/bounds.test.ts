// The live simulator runs for days: connection tracking and the FQDN cache must stay bounded in
// size and expire by time, like Cilium's CT GC and DNS cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Conntrack } from "../../server/datapath/conntrack";
import { FqdnCache } from "../../server/datapath/fqdn-cache";
import { makeDatapath, STAR_WARS } from "./helpers";

const H = 3600_000;

test("conntrack: TCP entries live 6h after their last packet, UDP/ICMP 60s", () => {
  const ct = new Conntrack();
  ct.upsert("tcp-a", "TCP", 0);
  ct.upsert("udp-a", "UDP", 0);
  ct.upsert("icmp-a", "ICMP", 0);
  assert.ok(ct.get("udp-a", 59_000));
  ct.gc(60_000);
  assert.equal(ct.get("udp-a", 60_000), undefined);
  assert.equal(ct.get("icmp-a", 60_000), undefined);
  assert.ok(ct.get("tcp-a", 60_000));
  ct.upsert("tcp-a", "TCP", 5 * H); // another packet extends the lifetime
  ct.gc(6 * H + 1);
  assert.equal(ct.get("tcp-a", 6 * H + 1)?.packets, 4);
  ct.gc(11 * H + 1);
  assert.equal(ct.size, 0);
  assert.equal(ct.expired, 3);
});

test("conntrack: beyond the cap the least recently seen entry is evicted", () => {
  const ct = new Conntrack({ maxEntries: 3 });
  ct.upsert("a", "TCP", 1);
  ct.upsert("b", "UDP", 2);
  ct.upsert("c", "TCP", 3);
  ct.upsert("a", "TCP", 4); // touched: now the newest
  ct.upsert("d", "TCP", 5);
  assert.equal(ct.size, 3);
  assert.equal(ct.get("b", 5), undefined);
  assert.deepEqual(ct.list().map((e) => e.key).sort(), ["a", "c", "d"]);
  assert.equal(ct.evicted, 1);
  assert.throws(() => new Conntrack({ maxEntries: 0 }), /conntrack\.maxEntries/);
});

test("datapath: days of traffic keep the conntrack table within its bound", () => {
  const dp = makeDatapath(STAR_WARS, {}, { conntrack: { maxEntries: 50 } });
  const t0 = Date.parse("2024-05-01T00:00:00Z");
  for (let i = 0; i < 400; i++) dp.process({ from: "default/tiefighter", to: "default/deathstar", port: 80 }, new Date(t0 + i * 60_000));
  assert.equal(dp.connections().length, 50);
  // three days later every connection has expired
  dp.process({ from: "default/xwing", to: "default/deathstar", port: 80, protocol: "UDP" }, new Date(t0 + 3 * 24 * H));
  assert.deepEqual(dp.connections().map((c) => c.proto), ["UDP"]);
});

test("fqdn cache: bounded entries (oldest learned goes) and IPs per name", () => {
  const c = new FqdnCache(0, 3, 2);
  for (let i = 0; i < 5; i++) c.learn(1, "node-1", `h${i}.example.com`, [`1.1.1.${i}`, `2.2.2.${i}`, `3.3.3.${i}`], 3600, i);
  assert.equal(c.size, 3);
  assert.deepEqual(c.list().map((e) => e.name), ["h2.example.com", "h3.example.com", "h4.example.com"]);
  assert.deepEqual(c.list()[0]!.ips, ["1.1.1.2", "2.2.2.2"]);
  assert.equal(c.expire(3600_000 + 10), true);
  assert.equal(c.size, 0);
});
