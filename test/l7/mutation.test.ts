// Corrupt packets: valid request bytes of every protocol the proxy parses, mutated thousands of ways
// (bytes flipped, cut short, spliced, lengths inflated), must each give an outcome (an error that
// names the protocol, or a decision on what still parses) and never an exception. Seeded, so a
// failure names a mutation that can be replayed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createL7Proxy } from "../../server/datapath/l7/proxy";
import type { L7Context, L7Grant } from "../../server/datapath/l7/proxy-types";
import { encodeHttp1Request } from "../../server/datapath/l7/encode/http1";
import { encodeGrpcRequest } from "../../server/datapath/l7/encode/http2";
import { encodeKafkaRequest } from "../../server/datapath/l7/encode/kafka";
import { encodeDnsQuery } from "../../server/datapath/l7/encode/dns";

const grants: L7Grant[] = [
  {
    policy: { name: "l7", namespace: "shop", kind: "CiliumNetworkPolicy", revision: "1" },
    rulePath: "spec.ingress[0].toPorts[0].rules",
    rules: { http: [{ method: "GET", path: "/v1/.*" }, { method: "POST", path: "/pay.v1.Pay/.*" }], kafka: [{ role: "produce", topic: "orders" }], dns: [{ matchPattern: "*.example.com" }] },
  },
];
const proxy = createL7Proxy({ requestId: () => "req", latencyNs: () => 1000n });
const ctx = (protocol: L7Context["protocol"]): L7Context => ({
  protocol,
  request: {},
  direction: "INGRESS",
  grants,
  authority: "svc:8080",
  port: 8080,
  dnsServer: { resolve: () => ({ ips: ["10.0.0.1"], ttl: 30 }) },
  now: new Date("2024-01-01T00:00:00Z"),
});

const SAMPLES: [L7Context["protocol"], Buffer][] = [
  ["http", encodeHttp1Request({ method: "GET", path: "/v1/items?id=7", headers: { "X-Request-Id": "abc" } }, { authority: "svc:8080", body: "hello" })],
  ["grpc", encodeGrpcRequest({ service: "pay.v1.Pay", method: "Charge" }, { authority: "pay:50051" })],
  ["kafka", encodeKafkaRequest({ apiKey: "produce", apiVersion: 9, clientId: "c", topics: ["orders", "audit"] }, { correlationId: 5 })],
  ["kafka", encodeKafkaRequest({ apiKey: "fetch", apiVersion: 11, topics: ["orders"] }, { correlationId: 6 })],
  ["dns", encodeDnsQuery(42, { name: "api.example.com", type: "A" })],
];
const PREFIX: Record<string, RegExp> = { http: /^http/, grpc: /^(http2|hpack|grpc)/, kafka: /^kafka/, dns: /^dns/ };

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  switch (Math.floor(rnd() * 5)) {
    case 0: // flip a few bytes
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      return b;
    case 1: // cut short
      return b.subarray(0, Math.floor(rnd() * b.length));
    case 2: // a length or count field blown up: 0xff over a run of bytes
    {
      const at = Math.floor(rnd() * b.length);
      b.fill(0xff, at, Math.min(b.length, at + 1 + Math.floor(rnd() * 4)));
      return b;
    }
    case 3: // a slice repeated in place
    {
      const at = Math.floor(rnd() * b.length);
      const len = Math.floor(rnd() * 16);
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    }
    default: // random tail
      return Buffer.concat([b.subarray(0, Math.floor(rnd() * b.length)), Buffer.from(Array.from({ length: Math.floor(rnd() * 32) }, () => Math.floor(rnd() * 256)))]);
  }
}

test("mutated request bytes of every L7 protocol give an outcome, never an exception", () => {
  let seed = 20261126;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const errors: Record<string, number> = {};
  for (const [protocol, bytes] of SAMPLES) {
    // the unmutated bytes parse
    assert.equal(proxy.handleBytes(ctx(protocol), bytes).error, undefined, `${protocol} sample`);
    for (let i = 0; i < 1500; i++) {
      const at = seed;
      const m = mutate(bytes, rnd);
      let out;
      try {
        out = proxy.handleBytes(ctx(protocol), m);
      } catch (err) {
        assert.fail(`${protocol} mutation ${i} (seed ${at}) threw: ${(err as Error).stack}\nbytes ${m.toString("hex")}`);
      }
      assert.equal(typeof out.allowed, "boolean");
      if (out.error !== undefined) {
        assert.match(out.error, PREFIX[protocol]!, `${protocol} error names its protocol: ${out.error}`);
        assert.equal(out.allowed, false, "what cannot be parsed is not allowed");
        errors[protocol] = (errors[protocol] ?? 0) + 1;
      }
    }
  }
  // the mutations do reach the parsers' error paths for every protocol
  for (const p of ["http", "grpc", "kafka", "dns"]) assert.ok((errors[p] ?? 0) > 100, `${p}: ${errors[p] ?? 0} refused`);
});
