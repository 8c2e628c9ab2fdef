// HTTP/2 framing for a gRPC call as a client (grpc-go / grpc-node style) sends it, and the server's
// answer: SETTINGS, HEADERS (+CONTINUATION when the block exceeds the frame size), DATA with the
// 5-byte gRPC length prefix, and trailers carrying grpc-status.
import { ByteWriter } from "../bytes";
import { DEFAULT_MAX_FRAME_SIZE, Flag, FrameType, H2_PREFACE, Setting } from "../http2-constants";
import type { GrpcRequestSpec } from "../proxy-types";
import { HpackEncoder } from "./hpack";

export function writeFrame(w: ByteWriter, type: number, flags: number, streamId: number, payload: Uint8Array): void {
  w.u24(payload.length).u8(type).u8(flags).u32(streamId & 0x7fffffff).bytes(payload);
}

function settingsPayload(settings: [number, number][]): Buffer {
  const w = new ByteWriter(settings.length * 6);
  for (const [id, v] of settings) w.u16(id).u32(v);
  return w.finish();
}

export function writeHeaderBlock(
  w: ByteWriter,
  streamId: number,
  block: Uint8Array,
  endStream: boolean,
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
): void {
  if (block.length <= maxFrameSize) {
    writeFrame(w, FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), streamId, block);
    return;
  }
  writeFrame(w, FrameType.HEADERS, endStream ? Flag.END_STREAM : 0, streamId, block.subarray(0, maxFrameSize));
  for (let off = maxFrameSize; off < block.length; off += maxFrameSize) {
    const last = off + maxFrameSize >= block.length;
    writeFrame(w, FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, streamId, block.subarray(off, off + maxFrameSize));
  }
}

/** gRPC length-prefixed message: compressed flag, uint32 length, bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const w = new ByteWriter(message.length + 5);
  w.u8(0).u32(message.length).bytes(message);
  return w.finish();
}

/** A small protobuf message: field 1 (string). Enough to be a real, decodable request body. */
export function protobufString(field: number, s: string): Buffer {
  const body = Buffer.from(s, "utf8");
  const w = new ByteWriter(body.length + 4);
  w.uvarint((field << 3) | 2).uvarint(body.length).bytes(body);
  return w.finish();
}

export interface GrpcRequestOptions {
  authority: string;
  /** protobuf-encoded request message; default: a one-field message */
  message?: Uint8Array;
  /** reuse an encoder to send a second call on the same connection (dynamic table hits) */
  encoder?: HpackEncoder;
  streamId?: number;
  /** connection start: preface and SETTINGS; off for a later stream on the same connection */
  preface?: boolean;
  extraHeaders?: [string, string][];
  huffman?: boolean;
}

export function grpcPath(spec: GrpcRequestSpec): string {
  const service = spec.service.replace(/^\/+/, "");
  return `/${service}/${spec.method}`;
}

export function encodeGrpcRequest(spec: GrpcRequestSpec, opts: GrpcRequestOptions): Buffer {
  const w = new ByteWriter(256);
  const streamId = opts.streamId ?? 1;
  if (opts.preface ?? true) {
    w.bytes(H2_PREFACE);
    writeFrame(
      w,
      FrameType.SETTINGS,
      0,
      0,
      settingsPayload([
        [Setting.ENABLE_PUSH, 0],
        [Setting.INITIAL_WINDOW_SIZE, 4194304],
        [Setting.MAX_HEADER_LIST_SIZE, 8192],
      ]),
    );
    const wu = new ByteWriter(4);
    wu.u32(4128769);
    writeFrame(w, FrameType.WINDOW_UPDATE, 0, 0, wu.finish());
  }
  const enc = opts.encoder ?? new HpackEncoder({ huffman: opts.huffman ?? true });
  const headers: [string, string][] = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", grpcPath(spec)],
    [":authority", opts.authority],
    ["content-type", "application/grpc"],
    ["user-agent", "grpc-go/1.62.1"],
    ["te", "trailers"],
    ["grpc-timeout", "5S"],
    ...(opts.extraHeaders ?? []),
  ];
  writeHeaderBlock(w, streamId, enc.encode(headers), false);
  writeFrame(w, FrameType.DATA, Flag.END_STREAM, streamId, grpcFrame(opts.message ?? protobufString(1, "flowscope")));
  return w.finish();
}

/**
 * grpc-message percent-encoding as Envoy writes it (Http::Utility::PercentEncoding::encode):
 * octets below 0x20, from 0x7e up, and "%" become %XX; everything else, spaces included, stays.
 */
export function grpcMessageEncode(text: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) {
    out += b < 0x20 || b >= 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  }
  return out;
}

export interface GrpcResponseOptions {
  /** HTTP status of the response headers: 200 for every gRPC answer, refusals included */
  httpStatus: number;
  grpcStatus: number;
  grpcMessage?: string;
  message?: Uint8Array;
  streamId?: number;
  extraHeaders?: [string, string][];
  date?: Date;
}

/**
 * Server side: SETTINGS, SETTINGS ACK, response HEADERS, DATA, trailers. Without a message it is
 * a trailers-only response (one HEADERS frame with END_STREAM carrying grpc-status), the shape
 * of Envoy's local replies to gRPC requests.
 */
export function encodeGrpcResponse(opts: GrpcResponseOptions): Buffer {
  const w = new ByteWriter(256);
  const streamId = opts.streamId ?? 1;
  writeFrame(w, FrameType.SETTINGS, 0, 0, settingsPayload([[Setting.MAX_CONCURRENT_STREAMS, 100]]));
  writeFrame(w, FrameType.SETTINGS, Flag.ACK, 0, new Uint8Array(0));
  const enc = new HpackEncoder();
  const base: [string, string][] = [
    [":status", String(opts.httpStatus)],
    ["content-type", "application/grpc"],
  ];
  if (opts.date) base.push(["date", opts.date.toUTCString()]);
  base.push(...(opts.extraHeaders ?? []));
  const trailers: [string, string][] = [["grpc-status", String(opts.grpcStatus)]];
  if (opts.grpcMessage) trailers.push(["grpc-message", grpcMessageEncode(opts.grpcMessage)]);
  if (opts.message === undefined) {
    writeHeaderBlock(w, streamId, enc.encode([...base, ...trailers]), true);
    return w.finish();
  }
  writeHeaderBlock(w, streamId, enc.encode(base), false);
  writeFrame(w, FrameType.DATA, 0, streamId, grpcFrame(opts.message));
  writeHeaderBlock(w, streamId, enc.encode(trailers), true);
  return w.finish();
}
