// DNS: dns-packet (an independent encoder/decoder) and our codec agree on queries and answers;
// compression pointers are followed; pointer loops and truncation give clear errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import dnsPacket from "dns-packet";
import { encodeDnsQuery, encodeDnsRefused, encodeDnsResponse } from "../../server/datapath/l7/encode/dns";
import { L7ParseError } from "../../server/datapath/l7/errors";
import { parseDnsMessage, unwrapDnsTcp } from "../../server/datapath/l7/parse/dns";

test("dns-packet queries parse (name, type, flags)", () => {
  for (const type of ["A", "AAAA", "CNAME"] as const) {
    const bytes = dnsPacket.encode({ type: "query", id: 4711, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name: "API.GitHub.com" }] });
    const m = parseDnsMessage(bytes);
    assert.equal(m.id, 4711);
    assert.equal(m.qr, false);
    assert.equal(m.rd, true);
    assert.deepEqual(m.questions, [{ name: "api.github.com.", type: { A: 1, AAAA: 28, CNAME: 5 }[type], class: 1 }]);
  }
});

test("dns-packet answers with CNAME, A, AAAA, TTLs and rcodes", () => {
  const bytes = dnsPacket.encode({
    type: "response",
    id: 9,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: "A", name: "www.example.com" }],
    answers: [
      { type: "CNAME", name: "www.example.com", ttl: 60, data: "edge.example.net" },
      { type: "A", name: "edge.example.net", ttl: 30, data: "93.184.216.34" },
      { type: "AAAA", name: "edge.example.net", ttl: 45, data: "2606:2800:220:1:248:1893:25c8:1946" },
    ],
  });
  const m = parseDnsMessage(bytes);
  assert.equal(m.qr, true);
  assert.equal(m.rcode, 0);
  assert.deepEqual(
    m.answers.map((a) => [a.name, a.type, a.ttl, a.data]),
    [
      ["www.example.com.", 5, 60, "edge.example.net."],
      ["edge.example.net.", 1, 30, "93.184.216.34"],
      ["edge.example.net.", 28, 45, "2606:2800:220:1:248:1893:25c8:1946"],
    ],
  );
  const nx = parseDnsMessage(dnsPacket.encode({ type: "response", id: 1, flags: 3, questions: [{ type: "A", name: "nope.example" }] }));
  assert.equal(nx.rcode, 3);
});

test("our answers use name compression and dns-packet decodes them", () => {
  const bytes = encodeDnsResponse({
    id: 77,
    question: { name: "api.github.com", type: "A" },
    rcode: 0,
    answers: [
      { name: "api.github.com", type: "CNAME", ttl: 120, data: "lb.github.com" },
      { name: "lb.github.com", type: "A", ttl: 60, data: "140.82.112.5" },
      { name: "lb.github.com", type: "AAAA", ttl: 60, data: "2001:db8::1" },
    ],
  });
  // the question name appears once in full; later names are pointers (0xc0..)
  assert.equal(bytes.indexOf(Buffer.from("\x06github\x03com", "latin1")), bytes.lastIndexOf(Buffer.from("\x06github\x03com", "latin1")));
  const p = dnsPacket.decode(bytes);
  assert.equal(p.id, 77);
  assert.deepEqual(
    p.answers?.map((a) => [a.type, a.name, (a as { ttl?: number }).ttl, (a as { data: unknown }).data]),
    [
      ["CNAME", "api.github.com", 120, "lb.github.com"],
      ["A", "lb.github.com", 60, "140.82.112.5"],
      ["AAAA", "lb.github.com", 60, "2001:db8::1"],
    ],
  );
  const refused = dnsPacket.decode(encodeDnsRefused(5, { name: "evil.com", type: "A" }));
  assert.equal((refused.flags ?? 0) & 0xf, 5, "rcode REFUSED");
  assert.equal(parseDnsMessage(encodeDnsQuery(3, { name: "a.b", type: "AAAA" })).questions[0].type, 28);
});

function dnsErr(bytes: number[] | Buffer): L7ParseError {
  try {
    parseDnsMessage(Buffer.from(bytes));
  } catch (e) {
    assert.ok(e instanceof L7ParseError, String(e));
    assert.equal(e.protocol, "dns");
    return e;
  }
  assert.fail("expected an error");
}

test("pointer loops, truncation and bad lengths are refused", () => {
  const header = [0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  // question name is a pointer to itself (offset 12)
  let e = dnsErr([...header, 0xc0, 12, 0, 1, 0, 1]);
  assert.match(e.message, /compression pointer loop/);
  assert.equal(e.offset, 12);
  // two pointers pointing at each other
  e = dnsErr([...header, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
  assert.match(e.message, /compression pointer loop/);
  e = dnsErr([...header, 0xc0, 200, 0, 1, 0, 1]);
  assert.match(e.message, /beyond the message/);
  assert.match(dnsErr([0, 1, 2]).message, /truncated header/);
  assert.match(dnsErr([...header, 10, 0x61, 0x62, 0x63, 0x64]).message, /label length 10 runs past the message end/);
  assert.match(dnsErr([0, 1, 0x81, 0, 0, 1, 0, 50, 0, 0, 0, 0, 0, 0, 1, 0, 1]).message, /section counts/);
  const good = encodeDnsResponse({ id: 1, question: { name: "a.com", type: "A" }, rcode: 0, answers: [{ name: "a.com", type: "A", ttl: 5, data: "1.2.3.4" }] });
  const badLen = Buffer.from(good);
  badLen.writeUInt16BE(5, good.length - 6);
  assert.match(dnsErr(badLen).message, /A record RDLENGTH 5, expected 4|truncated/);
  assert.match(dnsErr(good.subarray(0, good.length - 2)).message, /truncated answer record RDATA/);
  const long = Buffer.from([...header, ...Array.from({ length: 5 }, () => [63, ...Buffer.alloc(63, 0x61)]).flat(), 0, 0, 1, 0, 1]);
  assert.match(dnsErr(long).message, /longer than 255 bytes/);
  assert.throws(() => unwrapDnsTcp(Buffer.from([0, 20, 1])), /TCP length prefix 20/);
});
