// Kafka: requests produced by kafkajs's own protocol encoders (an independent implementation)
// parse to the right header and topics; kafkajs's response decoders accept our responses,
// including the TOPIC_AUTHORIZATION_FAILED refusal; flexible versions from a hand-built frame.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { encodeKafkaRequest, encodeKafkaResponse } from "../../server/datapath/l7/encode/kafka";
import { L7ParseError } from "../../server/datapath/l7/errors";
import { SCHEMAS } from "../../server/datapath/l7/kafka-schema";
import { parseKafkaRequests, parseKafkaResponse } from "../../server/datapath/l7/parse/kafka";

const require = createRequire(import.meta.url);
const frame = require("kafkajs/src/protocol/request");
const K = "kafkajs/src/protocol/requests";

async function kafkajsBytes(api: string, version: number, args: unknown): Promise<{ bytes: Buffer; response: { decode: (b: Buffer) => Promise<unknown>; parse: (d: unknown) => Promise<unknown> } }> {
  const built = require(`${K}/${api}`).protocol({ version })(args);
  const encoded = await frame({ correlationId: 4242, clientId: "kafkajs-client", request: built.request });
  return { bytes: encoded.buffer as Buffer, response: built.response };
}

const topics = ["orders", "payments"];
const cases: { api: string; key: number; versions: number[]; args: unknown }[] = [
  {
    api: "produce",
    key: 0,
    versions: [0, 1, 2, 3, 4, 5, 6, 7],
    args: { acks: -1, timeout: 1000, topicData: topics.map((topic) => ({ topic, partitions: [{ partition: 0, messages: [{ key: "k", value: "v" }] }, { partition: 1, messages: [{ value: "w" }] }] })) },
  },
  {
    api: "fetch",
    key: 1,
    versions: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    args: { maxWaitTime: 100, minBytes: 1, maxBytes: 1024, topics: topics.map((topic) => ({ topic, partitions: [{ partition: 0, fetchOffset: "0", maxBytes: 1024 }] })), rackId: "r1" },
  },
  {
    api: "listOffsets",
    key: 2,
    versions: [0, 1, 2, 3],
    args: { replicaId: -1, isolationLevel: 1, topics: topics.map((topic) => ({ topic, partitions: [{ partition: 0, timestamp: -1 }] })) },
  },
  { api: "metadata", key: 3, versions: [0, 1, 2, 3, 4, 5, 6], args: { topics, allowAutoTopicCreation: false } },
  {
    api: "offsetCommit",
    key: 8,
    versions: [0, 1, 2, 3, 4, 5],
    args: { groupId: "g1", groupGenerationId: 1, memberId: "m1", retentionTime: -1, topics: topics.map((topic) => ({ topic, partitions: [{ partition: 0, offset: "5" }] })) },
  },
  { api: "offsetFetch", key: 9, versions: [1, 2, 3, 4], args: { groupId: "g1", topics: topics.map((topic) => ({ topic, partitions: [{ partition: 0 }] })) } },
];

for (const c of cases) {
  for (const v of c.versions) {
    test(`kafkajs ${c.api} v${v}: header, topics, and kafkajs accepts our refusal`, async () => {
      const { bytes, response } = await kafkajsBytes(c.api, v, c.args);
      const [req] = parseKafkaRequests(bytes);
      assert.equal(req.apiKey, c.key);
      assert.equal(req.apiVersion, v);
      assert.equal(req.correlationId, 4242);
      assert.equal(req.clientId, "kafkajs-client");
      assert.equal(req.flexible, false);
      assert.deepEqual(req.topics?.map((t) => t.name), topics);

      const refused = encodeKafkaResponse(req, 29);
      const mine = parseKafkaResponse(refused, req.apiKey, req.apiVersion);
      assert.equal(mine.correlationId, 4242);
      assert.equal(mine.errorCode, 29);
      // kafkajs reads the body after the 4-byte size and correlation id
      const decoded = await response.decode(refused.subarray(8));
      await assert.rejects(async () => response.parse(decoded), (e: Error & { type?: string }) => {
        assert.equal(e.type, "TOPIC_AUTHORIZATION_FAILED");
        return true;
      });
      const ok = encodeKafkaResponse(req, 0);
      const decodedOk = await response.decode(ok.subarray(8));
      await response.parse(decodedOk);
    });
  }
}

test("several requests back to back on one connection", async () => {
  const a = await kafkajsBytes("metadata", 4, { topics: ["a"] });
  const b = await kafkajsBytes("produce", 3, { acks: 1, timeout: 10, topicData: [{ topic: "b", partitions: [{ partition: 0, messages: [{ value: "x" }] }] }] });
  const reqs = parseKafkaRequests(Buffer.concat([a.bytes, b.bytes]));
  assert.deepEqual(reqs.map((r) => [r.apiKey, r.topics?.[0]?.name]), [[3, "a"], [0, "b"]]);
});

test("flexible Metadata v9 request from a hand-built frame (compact strings, tagged fields)", () => {
  const body = [
    0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07, // api_key 3, version 9, correlation 7
    0x00, 0x02, 0x63, 0x31, // client_id "c1" (header keeps an int16 length)
    0x00, // header tagged fields
    0x03, // topics: compact array of 2
    0x07, ...Buffer.from("orders"), 0x00, // name, tags
    0x09, ...Buffer.from("payments"), 0x00,
    0x01, 0x00, 0x00, // allow_auto_topic_creation, include_cluster_ (v8-10) and include_topic_authorized_operations
    0x00, // body tags
  ];
  const buf = Buffer.from([0, 0, 0, body.length, ...body]);
  const [req] = parseKafkaRequests(buf);
  assert.equal(req.flexible, true);
  assert.equal(req.clientId, "c1");
  assert.deepEqual(req.topics?.map((t) => t.name), ["orders", "payments"]);
});

test("our flexible encoders round-trip for every supported version", () => {
  for (const s of SCHEMAS.values()) {
    for (let v = s.versions[0]; v <= s.versions[1]; v++) {
      const bytes = encodeKafkaRequest({ apiKey: s.key, apiVersion: v, clientId: "me", topics: ["t1", "t2"] }, { correlationId: 9 });
      const [req] = parseKafkaRequests(bytes);
      assert.equal(req.apiVersion, v);
      const topicless = s.key === 18 || s.key === 10; // ApiVersions, FindCoordinator
      if (!topicless) assert.deepEqual(req.topics?.map((t) => t.name), ["t1", "t2"], `${s.name} v${v}`);
      const res = parseKafkaResponse(encodeKafkaResponse(req, 29), s.key, v);
      assert.equal(res.errorCode, 29, `${s.name} v${v}`);
      if (!topicless) assert.equal(res.topicErrors.get("t1"), 29);
    }
  }
});

test("Metadata with a null topic list asks for every topic", () => {
  const [req] = parseKafkaRequests(encodeKafkaRequest({ apiKey: "metadata", apiVersion: 12 }, { correlationId: 1 }));
  assert.equal(req.allTopics, true);
  assert.deepEqual(req.topics, []);
});

function parseError(bytes: Uint8Array): L7ParseError {
  try {
    parseKafkaRequests(bytes);
  } catch (e) {
    assert.ok(e instanceof L7ParseError, `expected L7ParseError, got ${e}`);
    return e;
  }
  assert.fail("expected a parse error");
}

test("malformed Kafka frames give protocol, offset and problem", async () => {
  const { bytes } = await kafkajsBytes("produce", 3, { acks: 1, timeout: 10, topicData: [{ topic: "b", partitions: [{ partition: 0, messages: [{ value: "x" }] }] }] });
  let e = parseError(bytes.subarray(0, bytes.length - 3));
  assert.equal(e.protocol, "kafka");
  assert.match(e.message, /truncated message/);
  e = parseError(Buffer.from([0, 0]));
  assert.match(e.message, /truncated size prefix/);
  const neg = Buffer.from(bytes);
  neg.writeInt32BE(-5, 0);
  assert.match(parseError(neg).message, /message size -5/);
  // array count larger than the bytes left
  const big = encodeKafkaRequest({ apiKey: "metadata", apiVersion: 1, topics: ["a"] }, { correlationId: 1 });
  const at = 4 + 2 + 2 + 4 + 2 + "flowscope".length;
  big.writeInt32BE(100000, at);
  e = parseError(big);
  assert.match(e.message, /Metadata v1 request: topics.*array count 100000/);
  assert.equal(e.offset, at);
  // unsupported version of a known API
  const v99 = Buffer.from(big);
  v99.writeInt16BE(99, 6);
  assert.match(parseError(v99).message, /Metadata version 99 not supported/);
});
