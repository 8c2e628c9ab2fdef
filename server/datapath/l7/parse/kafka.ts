// Kafka request/response parser: the size-prefixed frame, request header v1/v2 (api_key,
// api_version, correlation_id, client_id, tagged fields), and for the APIs in kafka-schema.ts the
// body, from which the topic names are taken. Bodies of other APIs are not interpreted.
import { ByteReader, asBuffer } from "../bytes";
import { fail, L7ParseError } from "../errors";
import { TOPIC_API_KEYS } from "../kafka-api";
import { decodeBody, type KafkaValue } from "../kafka-codec";
import { SCHEMAS, firstFlexible, inVersions } from "../kafka-schema";

export const KAFKA_MAX_MESSAGE = 100 * 1024 * 1024;

export interface KafkaTopicParts {
  name: string;
  partitions: number[];
}

export interface KafkaRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  flexible: boolean;
  /** topics named in the request, in order; undefined when the body was not interpreted */
  topics: KafkaTopicParts[] | undefined;
  /** Metadata / OffsetFetch asking for every topic */
  allTopics: boolean;
  body?: KafkaValue;
  start: number;
  end: number;
}

type Rows = KafkaValue[] | null | undefined;

function topicList(rows: Rows, nameKey: string, partsKey: string, partKey?: string): KafkaTopicParts[] {
  const out: KafkaTopicParts[] = [];
  for (const row of rows ?? []) {
    const name = row[nameKey];
    if (typeof name !== "string") continue;
    const parts = row[partsKey];
    const partitions = Array.isArray(parts) ? parts.map((p) => Number(partKey ? (p as KafkaValue)[partKey] : p)) : [];
    out.push({ name, partitions });
  }
  return out;
}

function extractTopics(apiKey: number, version: number, body: KafkaValue): { topics: KafkaTopicParts[]; all: boolean } {
  switch (apiKey) {
    case 0:
      return { topics: topicList(body.topic_data as Rows, "name", "partition_data", "index"), all: false };
    case 1:
      return { topics: topicList(body.topics as Rows, "topic", "partitions", "partition"), all: false };
    case 2:
      return { topics: topicList(body.topics as Rows, "name", "partitions", "partition_index"), all: false };
    case 3: {
      const rows = body.topics as Rows;
      const all = rows === null || (version === 0 && (rows ?? []).length === 0);
      return { topics: topicList(rows, "name", "topic_id"), all };
    }
    case 8:
      return { topics: topicList(body.topics as Rows, "name", "partitions", "partition_index"), all: false };
    case 9: {
      if (version >= 8) {
        const topics: KafkaTopicParts[] = [];
        let all = false;
        for (const g of (body.groups as Rows) ?? []) {
          if (g.topics === null) all = true;
          topics.push(...topicList(g.topics as Rows, "name", "partition_indexes"));
        }
        return { topics, all };
      }
      return { topics: topicList(body.topics as Rows, "name", "partition_indexes"), all: body.topics === null };
    }
    default:
      return { topics: [], all: false };
  }
}

/** Parse one request frame starting at `start`. */
export function parseKafkaRequestAt(buf: Buffer, start: number): KafkaRequest {
  if (buf.length - start < 4) fail("kafka", start, `truncated size prefix: ${buf.length - start} of 4 bytes`);
  const size = buf.readInt32BE(start);
  if (size < 8) fail("kafka", start, `message size ${size} smaller than a request header`);
  if (size > KAFKA_MAX_MESSAGE) fail("kafka", start, `message size ${size} exceeds the ${KAFKA_MAX_MESSAGE}-byte limit`);
  const end = start + 4 + size;
  if (end > buf.length) fail("kafka", start, `truncated message: size ${size}, ${buf.length - start - 4} byte(s) available`);
  const r = new ByteReader("kafka", buf, start + 4, end);
  const apiKey = r.i16("api_key");
  const apiVersion = r.i16("api_version");
  if (apiKey < 0) fail("kafka", start + 4, `invalid api_key ${apiKey}`);
  if (apiVersion < 0) fail("kafka", start + 6, `invalid api_version ${apiVersion}`);
  const correlationId = r.i32("correlation_id");
  // ControlledShutdown v0 is the one request with header v0 (no client_id)
  let clientId: string | null = null;
  if (!(apiKey === 7 && apiVersion === 0)) {
    const at = r.pos;
    const len = r.i16("client_id length");
    if (len < -1) fail("kafka", at, `invalid client_id length ${len}`);
    if (len >= 0) clientId = r.utf8(len, "client_id");
  }
  const flexible = apiVersion >= firstFlexible(apiKey);
  if (flexible) {
    const n = r.uvarint("header tagged field count");
    for (let i = 0; i < n; i++) {
      r.uvarint("tag");
      r.skip(r.uvarint("tagged field size"), "header tagged field");
    }
  }
  const req: KafkaRequest = { apiKey, apiVersion, correlationId, clientId, flexible, topics: undefined, allTopics: false, start, end };
  const schema = SCHEMAS.get(apiKey);
  if (schema) {
    if (!inVersions(apiVersion, schema.versions)) {
      fail("kafka", start + 6, `${schema.name} version ${apiVersion} not supported (supported ${schema.versions[0]}-${schema.versions[1]})`);
    }
    let body: KafkaValue;
    try {
      body = decodeBody(r, schema.request, apiVersion, flexible);
    } catch (e) {
      if (e instanceof L7ParseError) throw new L7ParseError("kafka", e.offset, `${schema.name} v${apiVersion} request: ${e.problem}`);
      throw e;
    }
    if (r.pos !== end) fail("kafka", r.pos, `${schema.name} v${apiVersion} request: ${end - r.pos} unexpected byte(s) after the body`);
    const t = extractTopics(apiKey, apiVersion, body);
    req.body = body;
    req.topics = t.topics;
    req.allTopics = t.all;
  } else if (!TOPIC_API_KEYS.has(apiKey)) {
    req.topics = [];
  }
  return req;
}

export function parseKafkaRequests(data: Uint8Array): KafkaRequest[] {
  const buf = asBuffer(data);
  if (buf.length === 0) fail("kafka", 0, "empty input: no request");
  const out: KafkaRequest[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const req = parseKafkaRequestAt(buf, pos);
    out.push(req);
    pos = req.end;
  }
  return out;
}

export interface KafkaResponse {
  correlationId: number;
  body?: KafkaValue;
  /** error codes per topic (first partition error, or the topic-level code) */
  topicErrors: Map<string, number>;
  /** the first non-zero error code in the response, else 0 */
  errorCode: number;
  end: number;
}

function collectErrors(v: unknown, topic: string | undefined, out: Map<string, number>, first: { code: number }): void {
  if (Array.isArray(v)) {
    for (const item of v) collectErrors(item, topic, out, first);
    return;
  }
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return;
  const row = v as KafkaValue;
  const name = typeof row.name === "string" ? row.name : typeof row.topic === "string" ? row.topic : topic;
  if (typeof row.error_code === "number") {
    if (row.error_code !== 0 && first.code === 0) first.code = row.error_code;
    if (name !== undefined && (!out.has(name) || out.get(name) === 0)) out.set(name, row.error_code);
  }
  for (const [k, child] of Object.entries(row)) if (typeof child === "object" && k !== "records") collectErrors(child, name, out, first);
}

/** Parse the response to a request of `apiKey`/`apiVersion` (responses do not name their API). */
export function parseKafkaResponse(data: Uint8Array, apiKey: number, apiVersion: number, start = 0): KafkaResponse {
  const buf = asBuffer(data);
  if (buf.length - start < 4) fail("kafka", start, `truncated response size prefix: ${buf.length - start} of 4 bytes`);
  const size = buf.readInt32BE(start);
  if (size < 4) fail("kafka", start, `response size ${size} smaller than a response header`);
  const end = start + 4 + size;
  if (end > buf.length) fail("kafka", start, `truncated response: size ${size}, ${buf.length - start - 4} byte(s) available`);
  const r = new ByteReader("kafka", buf, start + 4, end);
  const correlationId = r.i32("correlation_id");
  const flexible = apiVersion >= firstFlexible(apiKey);
  // ApiVersions responses keep header v0 so old clients can read them
  if (flexible && apiKey !== 18) {
    const n = r.uvarint("header tagged field count");
    for (let i = 0; i < n; i++) {
      r.uvarint("tag");
      r.skip(r.uvarint("tagged field size"), "header tagged field");
    }
  }
  const res: KafkaResponse = { correlationId, topicErrors: new Map(), errorCode: 0, end };
  const schema = SCHEMAS.get(apiKey);
  if (schema && inVersions(apiVersion, schema.versions)) {
    let body: KafkaValue;
    try {
      body = decodeBody(r, schema.response, apiVersion, flexible);
    } catch (e) {
      if (e instanceof L7ParseError) throw new L7ParseError("kafka", e.offset, `${schema.name} v${apiVersion} response: ${e.problem}`);
      throw e;
    }
    if (r.pos !== end) fail("kafka", r.pos, `${schema.name} v${apiVersion} response: ${end - r.pos} unexpected byte(s) after the body`);
    res.body = body;
    const first = { code: 0 };
    collectErrors(body, undefined, res.topicErrors, first);
    res.errorCode = first.code;
  } else if (r.remaining >= 2) {
    // most responses without a schema here start with error_code or throttle_time_ms; keep it opaque
  }
  return res;
}
