// HTTP/2 connection parser (RFC 9113): preface, frame headers, padding, HEADERS+CONTINUATION
// sequences decoded through one HPACK context per direction, DATA per stream, SETTINGS/PING/
// WINDOW_UPDATE/RST_STREAM/GOAWAY validated. Produces per-stream header lists, trailers and data.
import { asBuffer } from "../bytes";
import { fail } from "../errors";
import { DEFAULT_MAX_FRAME_SIZE, Flag, FrameType, H2_PREFACE } from "../http2-constants";

// local copies: property reads through the imported objects showed up in profiles
const { DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION } = FrameType;
const { END_STREAM, ACK, END_HEADERS, PADDED } = Flag;
const PRIORITY_FLAG = Flag.PRIORITY;
import { HpackDecoder } from "./hpack";

export interface Http2Stream {
  id: number;
  headers?: [string, string][];
  trailers?: [string, string][];
  data: Buffer[];
  dataLength: number;
  endStream: boolean;
  resetCode?: number;
}

export interface Http2Connection {
  streams: Map<number, Http2Stream>;
  settings: [number, number][];
  goaway?: { lastStreamId: number; errorCode: number };
  frames: number;
}

export interface Http2ParseOptions {
  /** the client side of a connection starts with the preface */
  client: boolean;
  maxFrameSize?: number;
  decoder?: HpackDecoder;
}

export function parseHttp2(data: Uint8Array, opts: Http2ParseOptions): Http2Connection {
  const buf = asBuffer(data);
  const maxFrame = opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const decoder = opts.decoder ?? new HpackDecoder();
  const conn: Http2Connection = { streams: new Map(), settings: [], frames: 0 };
  let pos = 0;
  if (opts.client) {
    if (buf.length < H2_PREFACE.length) {
      if (H2_PREFACE.subarray(0, buf.length).equals(buf)) fail("http2", buf.length, "truncated connection preface");
      fail("http2", 0, "missing HTTP/2 connection preface");
    }
    if (buf.compare(H2_PREFACE, 0, H2_PREFACE.length, 0, H2_PREFACE.length) !== 0) fail("http2", 0, "missing HTTP/2 connection preface");
    pos = H2_PREFACE.length;
  }
  let sawSettings = false;
  // an open header block: HEADERS without END_HEADERS waiting for CONTINUATION
  let pending: { stream: number; parts: Buffer[]; endStream: boolean; at: number } | undefined;

  while (pos < buf.length) {
    const at = pos;
    if (buf.length - pos < 9) fail("http2", at, `truncated frame header: ${buf.length - pos} of 9 bytes`);
    const length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2];
    const type = buf[pos + 3];
    const flags = buf[pos + 4];
    const id = buf.readUInt32BE(pos + 5) & 0x7fffffff;
    pos += 9;
    if (length > maxFrame) fail("http2", at, `frame length ${length} exceeds SETTINGS_MAX_FRAME_SIZE ${maxFrame}`);
    if (pos + length > buf.length) fail("http2", at, `truncated frame: type ${type} declares ${length} byte(s), ${buf.length - pos} available`);
    // payload views are made only for the frames that keep bytes (HEADERS, CONTINUATION, DATA);
    // the control frames are read in place
    const payloadAt = pos;
    pos += length;
    conn.frames++;
    if (!sawSettings && type !== SETTINGS) fail("http2", at, "first frame is not SETTINGS");
    if (pending && type !== CONTINUATION) fail("http2", at, `expected CONTINUATION for stream ${pending.stream}, got frame type ${type}`);

    switch (type) {
      case SETTINGS: {
        if (id !== 0) fail("http2", at, "SETTINGS on a non-zero stream");
        if (flags & ACK) {
          if (length !== 0) fail("http2", at, "SETTINGS ACK with a payload");
        } else {
          if (length % 6 !== 0) fail("http2", at, `SETTINGS length ${length} not a multiple of 6`);
          for (let i = payloadAt; i < pos; i += 6) conn.settings.push([buf.readUInt16BE(i), buf.readUInt32BE(i + 2)]);
        }
        sawSettings = true;
        break;
      }
      case HEADERS: {
        if (id === 0) fail("http2", at, "HEADERS on stream 0");
        if (opts.client && id % 2 === 0) fail("http2", at, `client-initiated stream ${id} must be odd`);
        let blockAt = payloadAt;
        let blockEnd = pos;
        if (flags & PADDED) {
          if (length < 1) fail("http2", payloadAt, "PADDED frame without pad length");
          const padLen = buf[payloadAt];
          if (padLen >= length) fail("http2", payloadAt, `pad length ${padLen} exceeds frame payload ${length}`);
          blockAt++;
          blockEnd -= padLen;
        }
        if (flags & PRIORITY_FLAG) {
          if (blockEnd - blockAt < 5) fail("http2", payloadAt, "HEADERS PRIORITY fields truncated");
          blockAt += 5;
        }
        const endStream = (flags & END_STREAM) !== 0;
        if (flags & END_HEADERS) {
          // the common case: the whole block in one frame, decoded in place
          storeBlock(conn, id, decoder.decode(buf, blockAt, blockAt, blockEnd), endStream, blockAt);
        } else {
          pending = { stream: id, parts: [buf.subarray(blockAt, blockEnd)], endStream, at: blockAt };
        }
        break;
      }
      case CONTINUATION: {
        if (!pending || pending.stream !== id) fail("http2", at, `CONTINUATION on stream ${id} without an open header block`);
        pending.parts.push(buf.subarray(payloadAt, pos));
        if (flags & END_HEADERS) {
          const p = pending;
          pending = undefined;
          finishBlock(conn, decoder, p.stream, p.parts, p.endStream, p.at);
        }
        break;
      }
      case DATA: {
        if (id === 0) fail("http2", at, "DATA on stream 0");
        const s = conn.streams.get(id);
        if (!s || !s.headers) fail("http2", at, `DATA on stream ${id} before its HEADERS`);
        if (s.endStream) fail("http2", at, `DATA on stream ${id} after END_STREAM`);
        const body = unpad(buf.subarray(payloadAt, pos), flags, payloadAt);
        s.data.push(body);
        s.dataLength += body.length;
        if (flags & END_STREAM) s.endStream = true;
        break;
      }
      case PRIORITY:
        if (length !== 5) fail("http2", at, `PRIORITY length ${length}, expected 5`);
        break;
      case RST_STREAM:
        if (length !== 4) fail("http2", at, `RST_STREAM length ${length}, expected 4`);
        if (id === 0) fail("http2", at, "RST_STREAM on stream 0");
        getStream(conn, id).resetCode = buf.readUInt32BE(payloadAt);
        break;
      case PING:
        if (length !== 8) fail("http2", at, `PING length ${length}, expected 8`);
        if (id !== 0) fail("http2", at, "PING on a non-zero stream");
        break;
      case GOAWAY:
        if (length < 8) fail("http2", at, `GOAWAY length ${length}, need at least 8`);
        conn.goaway = { lastStreamId: buf.readUInt32BE(payloadAt) & 0x7fffffff, errorCode: buf.readUInt32BE(payloadAt + 4) };
        break;
      case WINDOW_UPDATE:
        if (length !== 4) fail("http2", at, `WINDOW_UPDATE length ${length}, expected 4`);
        if ((buf.readUInt32BE(payloadAt) & 0x7fffffff) === 0) fail("http2", at, "WINDOW_UPDATE with zero increment");
        break;
      case PUSH_PROMISE:
        if (opts.client) fail("http2", at, "PUSH_PROMISE sent by a client");
        break;
      default:
        // unknown frame types must be ignored (RFC 9113 §4.1)
        break;
    }
  }
  if (pending) fail("http2", buf.length, `truncated header block on stream ${pending.stream}: no END_HEADERS`);
  return conn;
}

function unpad(payload: Buffer, flags: number, payloadAt: number): Buffer {
  if (!(flags & PADDED)) return payload;
  if (payload.length < 1) fail("http2", payloadAt, "PADDED frame without pad length");
  const padLen = payload[0];
  if (padLen >= payload.length) fail("http2", payloadAt, `pad length ${padLen} exceeds frame payload ${payload.length}`);
  return payload.subarray(1, payload.length - padLen);
}

function getStream(conn: Http2Connection, id: number): Http2Stream {
  let s = conn.streams.get(id);
  if (!s) {
    s = { id, data: [], dataLength: 0, endStream: false };
    conn.streams.set(id, s);
  }
  return s;
}

function finishBlock(conn: Http2Connection, decoder: HpackDecoder, id: number, parts: Buffer[], endStream: boolean, at: number): void {
  const block = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  storeBlock(conn, id, decoder.decode(block, at), endStream, at);
}

function storeBlock(conn: Http2Connection, id: number, fields: [string, string][], endStream: boolean, at: number): void {
  const s = getStream(conn, id);
  if (s.headers === undefined) {
    checkFieldOrder(fields, at);
    s.headers = fields;
  } else {
    if (!endStream) fail("http2", at, `stream ${id}: second header block (trailers) without END_STREAM`);
    for (const [n] of fields) if (n.charCodeAt(0) === 58) fail("http2", at, `stream ${id}: pseudo-header ${n} in trailers`);
    s.trailers = fields;
  }
  if (endStream) s.endStream = true;
}

function checkFieldOrder(fields: [string, string][], at: number): void {
  let regular = false;
  for (let f = 0; f < fields.length; f++) {
    const n = fields[f][0];
    if (n.charCodeAt(0) === 58 /* ":" */) {
      if (regular) fail("http2", at, `pseudo-header ${n} after a regular header`);
    } else regular = true;
    for (let i = 0; i < n.length; i++) {
      const c = n.charCodeAt(i);
      if (c >= 65 && c <= 90) fail("http2", at, `upper-case header name ${JSON.stringify(n)}`);
    }
  }
}

export function streamBody(s: Http2Stream): Buffer {
  return s.data.length === 1 ? s.data[0] : Buffer.concat(s.data);
}

/** Validate the 5-byte gRPC message prefix at `pos`; returns the message length. */
function grpcMessageLength(buf: Buffer, pos: number): number {
  if (buf.length - pos < 5) fail("grpc", pos, `truncated message prefix: ${buf.length - pos} of 5 bytes`);
  const flag = buf[pos];
  if (flag > 1) fail("grpc", pos, `invalid compressed flag ${flag}`);
  const len = buf.readUInt32BE(pos + 1);
  if (pos + 5 + len > buf.length) fail("grpc", pos, `message length ${len} exceeds the ${buf.length - pos - 5} byte(s) received`);
  return len;
}

/** Split a gRPC stream body into its length-prefixed messages. */
export function parseGrpcMessages(body: Uint8Array): { compressed: boolean; message: Buffer }[] {
  const buf = asBuffer(body);
  const out: { compressed: boolean; message: Buffer }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const len = grpcMessageLength(buf, pos);
    out.push({ compressed: buf[pos] === 1, message: buf.subarray(pos + 5, pos + 5 + len) });
    pos += 5 + len;
  }
  return out;
}

/** Number of messages in a gRPC stream body (the proxy only counts them), same checks as above. */
export function countGrpcMessages(body: Uint8Array): number {
  const buf = asBuffer(body);
  let n = 0;
  for (let pos = 0; pos < buf.length; n++) pos += 5 + grpcMessageLength(buf, pos);
  return n;
}
