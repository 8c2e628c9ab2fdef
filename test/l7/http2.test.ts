// gRPC over HTTP/2: connections of Node's http2 client and of @grpc/grpc-js, captured over
// loopback against a real http2 server, parse into :method/:path/content-type and trailers with
// grpc-status; Node's http2 server accepts our encoder's bytes; malformed frames and HPACK fail
// with clear errors.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { ByteWriter } from "../../server/datapath/l7/bytes";
import { HpackEncoder } from "../../server/datapath/l7/encode/hpack";
import { encodeGrpcRequest, grpcFrame, writeFrame } from "../../server/datapath/l7/encode/http2";
import { L7ParseError } from "../../server/datapath/l7/errors";
import { H2_PREFACE } from "../../server/datapath/l7/http2-constants";
import { HpackDecoder } from "../../server/datapath/l7/parse/hpack";
import { parseGrpcMessages, parseHttp2, streamBody } from "../../server/datapath/l7/parse/http2";
import { closeServer, listen, rawExchange, relay } from "./capture";

function grpcServer(seen: http2.IncomingHttpHeaders[] = []): http2.Http2Server {
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    seen.push(headers);
    stream.on("data", () => {});
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "OK" }));
      stream.end(grpcFrame(Buffer.from([0x0a, 0x02, 0x6f, 0x6b])));
    });
  });
  return server;
}

const header = (h: [string, string][] | undefined, k: string) => h?.find(([n]) => n === k)?.[1];

test("Node http2 client: two calls on one connection (HPACK dynamic table, Huffman)", async () => {
  const server = grpcServer();
  const port = await listen(server);
  const cap = await relay(port);
  const session = http2.connect(`http://127.0.0.1:${cap.port}`);
  for (const method of ["Charge", "Refund"]) {
    await new Promise<void>((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": `/payments.v1.Payments/${method}`,
        ":authority": "payments.default.svc:50051",
        "content-type": "application/grpc",
        te: "trailers",
        "x-tenant": "acme",
      });
      req.on("response", () => {});
      req.on("data", () => {});
      req.on("end", () => resolve());
      req.on("error", reject);
      req.end(grpcFrame(Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63])));
    });
  }
  session.close();
  await new Promise((r) => setTimeout(r, 50));
  const client = parseHttp2(cap.client(), { client: true });
  const streams = [...client.streams.values()].filter((s) => s.headers);
  assert.equal(streams.length, 2);
  assert.deepEqual(streams.map((s) => header(s.headers, ":path")), ["/payments.v1.Payments/Charge", "/payments.v1.Payments/Refund"]);
  for (const s of streams) {
    assert.equal(header(s.headers, ":method"), "POST");
    assert.equal(header(s.headers, ":authority"), "payments.default.svc:50051");
    assert.equal(header(s.headers, "content-type"), "application/grpc");
    assert.equal(header(s.headers, "x-tenant"), "acme");
    const msgs = parseGrpcMessages(streamBody(s));
    assert.equal(msgs.length, 1);
    assert.deepEqual([...msgs[0].message], [0x0a, 0x03, 0x61, 0x62, 0x63]);
  }
  const srv = parseHttp2(cap.server(), { client: false });
  const answers = [...srv.streams.values()].filter((s) => s.headers);
  assert.equal(answers.length, 2);
  for (const a of answers) {
    assert.equal(header(a.headers, ":status"), "200");
    assert.equal(header(a.trailers, "grpc-status"), "0");
    assert.equal(header(a.trailers, "grpc-message"), "OK");
  }
  await cap.close();
  await closeServer(server);
});

test("@grpc/grpc-js unary call parses to the gRPC path and content-type", async () => {
  const server = grpcServer();
  const port = await listen(server);
  const cap = await relay(port);
  const client = new grpc.Client(`127.0.0.1:${cap.port}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(
      "/payments.v1.Payments/Charge",
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from([0x08, 0x01]),
      (err) => (err ? reject(err) : resolve()),
    );
  });
  client.close();
  await new Promise((r) => setTimeout(r, 50));
  const conn = parseHttp2(cap.client(), { client: true });
  const s = [...conn.streams.values()].find((x) => x.headers)!;
  assert.equal(header(s.headers, ":method"), "POST");
  assert.equal(header(s.headers, ":path"), "/payments.v1.Payments/Charge");
  assert.equal(header(s.headers, "content-type"), "application/grpc");
  assert.equal(header(s.headers, "te"), "trailers");
  assert.match(header(s.headers, "user-agent") ?? "", /grpc-node-js/);
  assert.deepEqual([...parseGrpcMessages(streamBody(s))[0].message], [0x08, 0x01]);
  await cap.close();
  await closeServer(server);
});

test("Node's http2 server accepts our gRPC request bytes, and we parse its answer", async () => {
  const seen: http2.IncomingHttpHeaders[] = [];
  const server = grpcServer(seen);
  const port = await listen(server);
  const answer = await rawExchange(port, encodeGrpcRequest({ service: "payments.v1.Payments", method: "Charge" }, { authority: "payments:50051" }));
  await closeServer(server);
  assert.equal(seen.length, 1);
  assert.equal(seen[0][":path"], "/payments.v1.Payments/Charge");
  assert.equal(seen[0][":authority"], "payments:50051");
  assert.equal(seen[0]["content-type"], "application/grpc");
  const conn = parseHttp2(answer, { client: false });
  const s = conn.streams.get(1)!;
  assert.equal(header(s.trailers, "grpc-status"), "0");
});

test("large header blocks are split into CONTINUATION frames and reassembled", () => {
  const big = "x".repeat(20000);
  const bytes = encodeGrpcRequest({ service: "a.B", method: "C" }, { authority: "a", extraHeaders: [["x-big", big]], huffman: false });
  const s = parseHttp2(bytes, { client: true }).streams.get(1)!;
  assert.equal(header(s.headers, "x-big"), big);
});

function h2err(bytes: Uint8Array, client = true): L7ParseError {
  try {
    parseHttp2(bytes, { client });
  } catch (e) {
    assert.ok(e instanceof L7ParseError, String(e));
    return e;
  }
  assert.fail("expected an error");
}

test("malformed HTTP/2 and HPACK input", () => {
  const good = encodeGrpcRequest({ service: "a.B", method: "C" }, { authority: "a" });
  assert.match(h2err(Buffer.from("GET / HTTP/1.1\r\n\r\n")).message, /missing HTTP\/2 connection preface/);
  assert.match(h2err(good.subarray(0, good.length - 4)).message, /truncated frame: type 0 declares/);
  assert.match(h2err(good.subarray(0, H2_PREFACE.length + 5)).message, /truncated frame header/);

  const frames = (build: (w: ByteWriter) => void) => {
    const w = new ByteWriter();
    w.bytes(H2_PREFACE);
    writeFrame(w, 4, 0, 0, new Uint8Array(0));
    build(w);
    return w.finish();
  };
  // declared length beyond SETTINGS_MAX_FRAME_SIZE
  const tooBig = frames((w) => w.u24(20000).u8(0).u8(0).u32(1));
  assert.match(h2err(tooBig).message, /exceeds SETTINGS_MAX_FRAME_SIZE/);
  // header index past the dynamic table
  const badIndex = frames((w) => writeFrame(w, 1, 0x4, 1, Uint8Array.from([0x80 | 70])));
  const e = h2err(badIndex);
  assert.equal(e.protocol, "hpack");
  assert.match(e.message, /index 70 beyond the dynamic table/);
  // Huffman string containing EOS: literal name "x", Huffman value of four 0xff bytes
  const eos = frames((w) => writeFrame(w, 1, 0x4, 1, Uint8Array.from([0x00, 0x01, 0x78, 0x84, 0xff, 0xff, 0xff, 0xff])));
  assert.match(h2err(eos).message, /EOS/);
  // Huffman padding that is not all ones: 'a' is 00011 (5 bits), padded with zeros
  const pad = frames((w) => writeFrame(w, 1, 0x4, 1, Uint8Array.from([0x00, 0x01, 0x78, 0x81, 0x18])));
  assert.match(h2err(pad).message, /invalid Huffman padding/);
  // HEADERS without END_HEADERS followed by DATA
  const noCont = frames((w) => {
    writeFrame(w, 1, 0, 1, new HpackEncoder().encode([[":method", "POST"]]));
    writeFrame(w, 0, 1, 1, new Uint8Array(1));
  });
  assert.match(h2err(noCont).message, /expected CONTINUATION/);
  // string length running past the block
  const longStr = frames((w) => writeFrame(w, 1, 0x4, 1, Uint8Array.from([0x00, 0x0a, 0x78])));
  assert.match(h2err(longStr).message, /string length 10 exceeds header block/);
  // table size update above the limit
  assert.throws(() => new HpackDecoder(4096).decode(Uint8Array.from([0x3f, 0xe1, 0x7f])), /exceeds the limit/);
  // gRPC message prefix claiming more bytes than sent
  assert.throws(() => parseGrpcMessages(Uint8Array.from([0, 0, 0, 0, 9, 1, 2])), (err: L7ParseError) => err.protocol === "grpc" && /message length 9/.test(err.message));
});
