// The speed paths must not change answers: V8 on the "safe" regex subset agrees with RE2 on every
// pattern/input pair, risky patterns stay on RE2, and the table-driven Huffman decoder round-trips
// every octet and still names malformed input precisely.
import assert from "node:assert/strict";
import { test } from "node:test";
import RE2 from "re2";
import { HpackEncoder } from "../../server/datapath/l7/encode/hpack";
import { L7ParseError } from "../../server/datapath/l7/errors";
import { huffmanDecode, huffmanEncode } from "../../server/datapath/l7/huffman";
import { compileFullRegex } from "../../server/datapath/l7/match/regex";
import { safeJsRegex } from "../../server/datapath/l7/match/regex-fastpath";
import { HpackDecoder } from "../../server/datapath/l7/parse/hpack";

const SAFE = [
  "/v1/payments/[0-9]+",
  "/payments.v1.Payments/(Charge|Get)",
  "GET|POST|HEAD",
  "/v1/users/[0-9]+/orders/[0-9]+",
  "/api/v[12]/items/\\d+",
  "/static/.*\\.css",
  "[a-z0-9-]+\\.example\\.com",
  "/public/[^/]+",
  "/x[-a]?y",
  "/a\\.b\\-c/\\w+",
  "(?:/v1|/v2)/health",
  "/[A-Z][a-z]*",
];
const RISKY = ["/(x+x+)+y", "(a+)+b", "/(a|aa)*c", ".*.*=.*", "/a{2,5}", "/\\s+", "(?i)/admin", "/x+x+y", "[a-z]*[0-9]*", "[[:alpha:]]+", "\\bword", "[a-z]+\\.example\\.com(:8080)?"];
const INPUTS = [
  "", "/", "/v1/payments/", "/v1/payments/42", "/v1/payments/42x", "/payments.v1.Payments/Charge", "/payments.v1.Payments/Refund",
  "/paymentsXv1.Payments/Get", "GET", "POST", "get", "/v1/users/7/orders/99", "/v1/users/x/orders/9", "/api/v2/items/3",
  "/static/a/b.css", "/static/a.cssx", "shop-1.example.com", "shop.example.com:8080", "shop.example.com:80", "/public/a",
  "/public/a/b", "/xy", "/x-y", "/xay", "/xaay", "/a.b-c/w_9", "/v2/health", "/Abc", "/abc", "/static/\n.css", "/static/é.css",
  "/public/é", "/public/😀", "/xx", "/xxy",
];

test("V8 on the safe subset agrees with RE2 on every input", () => {
  for (const p of SAFE) {
    const js = safeJsRegex(p);
    assert.ok(js, `expected ${p} in the safe subset`);
    assert.equal(compileFullRegex(p).engine, "v8-safe");
    const re = new RE2(`^(?:${p})$`);
    for (const s of INPUTS) assert.equal(js.test(s), re.test(s), `pattern ${p} on ${JSON.stringify(s)}`);
  }
});

test("patterns outside the subset (could backtrack, or JS reads them differently) stay on RE2", () => {
  for (const p of RISKY) {
    assert.equal(safeJsRegex(p), undefined, p);
    assert.equal(compileFullRegex(p).engine, "re2", p);
  }
  assert.equal(compileFullRegex("/exact").engine, "literal");
  assert.equal(compileFullRegex("/prefix/.*").engine, "prefix");
});

test("Huffman: every octet round-trips through the byte-at-a-time decoder", () => {
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  for (const s of [all, "a", "www.example.com", "application/grpc", "grpc-go/1.62.1", all.split("").reverse().join("")]) {
    const enc = huffmanEncode(s);
    assert.equal(huffmanDecode(enc, 0, enc.length, 0), s);
  }
  // long strings grow the scratch buffer
  const long = "x/".repeat(5000);
  const enc = huffmanEncode(long);
  assert.equal(huffmanDecode(enc, 0, enc.length, 0), long);
});

test("Huffman errors name the offset: EOS inside, padding too long or not ones", () => {
  const eos = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => huffmanDecode(eos, 0, 4, 100), (e: L7ParseError) => e.protocol === "hpack" && /EOS/.test(e.problem) && e.offset === 103);
  // 'a' = 00011 then 8 one-bits of padding (more than 7)
  const longPad = Uint8Array.from([0b00011111, 0b11111111]);
  assert.throws(() => huffmanDecode(longPad, 0, 2, 0), /invalid Huffman padding/);
  const zeroPad = Uint8Array.from([0b00011000]);
  assert.throws(() => huffmanDecode(zeroPad, 0, 1, 7), (e: L7ParseError) => /invalid Huffman padding/.test(e.problem) && e.offset === 8);
});

test("HPACK decoder: dynamic table eviction and compaction over a long connection", () => {
  const enc = new HpackEncoder();
  enc.setMaxTableSize(256); // announced to the decoder in the first block
  const dec = new HpackDecoder(4096);
  for (let i = 0; i < 500; i++) {
    const headers: [string, string][] = [[":path", `/item/${i}`], ["x-seq", String(i)], ["x-same", "v"]];
    assert.deepEqual(dec.decode(enc.encode(headers)), headers);
    assert.ok(dec.dynamicEntries <= 256 / 32);
  }
  // index 62 + entries is past the table: the error names the index and the table size
  assert.throws(() => dec.decode(Uint8Array.from([0x80 | 0x7f, 0x40])), /header index 191 beyond the dynamic table \(\d+ entries\)/);
});
