// Request bodies over real sockets: one that stops before its Content-Length is answered 408 once it has
// sent nothing for the idle limit, naming how far it got, and the connection is closed; one larger than
// the limit is a 413; a client that hangs up mid-body is no server error.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { readBody, sendError, sendJson } from "../../server/api/http-util";

async function withServer(fn: (port: number, errors: unknown[]) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  const origError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  const server = http.createServer((req, res) => {
    readBody(req, 64, 300)
      .then((b) => sendJson(res, 200, { bytes: b.length }))
      .catch((err) => sendError(res, err));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn((server.address() as net.AddressInfo).port, errors);
  } finally {
    console.error = origError;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/** sends raw bytes; resolves with everything the server wrote once it closes the connection */
function raw(port: number, bytes: string, hangUpAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1", () => sock.write(bytes));
    let got = "";
    sock.on("data", (d) => (got += d.toString()));
    sock.on("close", () => resolve(got));
    sock.on("error", reject);
    if (hangUpAfterMs !== undefined) setTimeout(() => sock.destroy(), hangUpAfterMs);
    setTimeout(() => sock.destroy(), 10_000).unref();
  });
}

test("a stalled body is a 408 that says how far it got, and ends the connection; a whole one is read", async () => {
  await withServer(async (port, errors) => {
    const stalled = await raw(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n0123456789");
    assert.match(stalled, /^HTTP\/1\.1 408 /);
    assert.match(stalled, /connection: close/i);
    assert.match(stalled, /request body stalled: no bytes for 0\.3 s after 10 of the 50 declared/);

    const whole = await raw(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789");
    assert.match(whole, /^HTTP\/1\.1 200 /);
    assert.match(whole, /\{"bytes":10\}/);

    const large = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n${"x".repeat(80)}\r\n`);
    assert.match(large, /^HTTP\/1\.1 413 /);

    // hanging up mid-body: nothing to answer, and nothing logged as a failure
    await raw(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n01234", 50);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(errors, []);
  });
});
