// HTTP/1.1: bytes from Node's own http client (captured over loopback) and Node's http server
// parse correctly; Node's server accepts our encoder's requests; malformed input gives clear errors.
import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";
import { encodeHttp1AccessDenied, encodeHttp1Request } from "../../server/datapath/l7/encode/http1";
import { L7ParseError } from "../../server/datapath/l7/errors";
import { parseHttp1Requests, parseHttp1Responses } from "../../server/datapath/l7/parse/http1";
import { closeServer, listen, rawExchange, relay } from "./capture";

function httpServer(): http.Server {
  return http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.url === "/chunked") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("part1-");
        res.end("part2");
      } else {
        res.setHeader("x-echo-method", req.method ?? "");
        res.end(`${req.method} ${req.url} ${body.length}`);
      }
    });
  });
}

function request(port: number, opts: http.RequestOptions, body?: string, agent?: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, agent, ...opts }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve(data));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

test("requests and responses of Node's http client and server, keep-alive and chunked", async () => {
  const server = httpServer();
  const port = await listen(server);
  const cap = await relay(port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await request(cap.port, { method: "GET", path: "/v1/items?limit=5", headers: { Host: "payments:8080", "X-Trace": "abc" } }, undefined, agent);
    // a streamed body without a length: Node sends it chunked
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: cap.port, agent, method: "POST", path: "/v1/pay", headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.write('{"amount":');
      req.end("12}");
    });
    await request(cap.port, { method: "GET", path: "/chunked" }, undefined, agent);
  } finally {
    agent.destroy();
  }
  await new Promise((r) => setTimeout(r, 50));
  const reqs = parseHttp1Requests(cap.client());
  assert.equal(reqs.length, 3, "three requests on one keep-alive connection");
  assert.equal(reqs[0].method, "GET");
  assert.equal(reqs[0].target, "/v1/items?limit=5");
  assert.deepEqual(reqs[0].headers.find(([k]) => k.toLowerCase() === "host"), ["Host", "payments:8080"]);
  assert.deepEqual(reqs[0].headers.find(([k]) => k === "X-Trace"), ["X-Trace", "abc"]);
  assert.equal(reqs[1].method, "POST");
  assert.equal(reqs[1].chunked, true);
  assert.equal(reqs[1].body.toString(), '{"amount":12}');
  assert.equal(reqs[2].target, "/chunked");

  const resps = parseHttp1Responses(cap.server());
  assert.deepEqual(resps.map((r) => r.status), [200, 200, 200]);
  assert.equal(resps[0].body.toString(), "GET /v1/items?limit=5 0");
  assert.equal(resps[2].chunked, true);
  assert.equal(resps[2].body.toString(), "part1-part2");
  await cap.close();
  await closeServer(server);
});

test("Node's http server accepts the bytes our encoder sends", async () => {
  const seen: { method?: string; url?: string; host?: string; custom?: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host, custom: req.headers["x-user"] as string });
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  const port = await listen(server);
  const bytes = encodeHttp1Request({ method: "PUT", path: "/v1/x?y=1", headers: { "X-User": "alice" } }, { authority: "svc.ns:80" });
  const answer = await rawExchange(port, bytes);
  await closeServer(server);
  assert.deepEqual(seen, [{ method: "PUT", url: "/v1/x?y=1", host: "svc.ns:80", custom: "alice" }]);
  assert.equal(parseHttp1Responses(answer)[0].status, 200);
});

test("Envoy-style 403 Access denied", () => {
  const [r] = parseHttp1Responses(encodeHttp1AccessDenied());
  assert.equal(r.status, 403);
  assert.equal(r.reason, "Forbidden");
  assert.equal(r.body.toString(), "Access denied\r\n");
});

function err(input: string): L7ParseError {
  try {
    parseHttp1Requests(Buffer.from(input, "latin1"));
  } catch (e) {
    assert.ok(e instanceof L7ParseError, String(e));
    assert.equal(e.protocol, "http");
    return e;
  }
  assert.fail(`no error for ${JSON.stringify(input)}`);
}

test("malformed HTTP/1.1 is refused with a reason and offset", () => {
  assert.match(err("GET / HTTP/1.1\r\nHost: a\r\n").message, /header block not terminated/);
  assert.match(err("GET /\r\n\r\n").message, /malformed request line/);
  assert.match(err("GET / HTTP/9.9\r\n\r\n").message, /unsupported version/);
  assert.match(err("GET / HTTP/1.1\r\nHost : a\r\n\r\n").message, /invalid header name/);
  assert.match(err("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n").message, /obsolete line folding/);
  assert.match(err("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc").message, /truncated body: Content-Length 10/);
  assert.match(err("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").message, /invalid Content-Length/);
  assert.match(err("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").message, /conflicting Content-Length/);
  assert.match(err("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n").message, /both Transfer-Encoding and Content-Length/);
  assert.match(err("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").message, /invalid chunk size/);
  assert.match(err("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").message, /truncated chunk/);
  const huge = `GET / HTTP/1.1\r\nX: ${"a".repeat(70000)}\r\n\r\n`;
  assert.match(err(huge).message, /header block larger than/);
  const e = err("GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n");
  assert.match(e.message, /malformed request line/);
  assert.equal(e.offset, 27, "offset points at the second message");
});

test("a character beyond one octet is refused by name, not sent as its low byte (another request)", () => {
  assert.throws(() => encodeHttp1Request({ method: "GET", path: "/api/\u0170roducts" }, { authority: "api" }), /path contains "Ű" \(U\+0170\), which is not a single octet; percent-encode it \(%C5%B0\)/);
  assert.throws(() => encodeHttp1Request({ method: "G\u0145T", path: "/" }, { authority: "api" }), /method contains "Ņ" \(U\+0145\)/);
  assert.throws(() => encodeHttp1Request({ method: "GET", path: "/", headers: { "X-Name": "\u{1F600}" } }, { authority: "api" }), /header X-Name contains "😀" \(U\+1F600\)/);
  assert.throws(() => encodeHttp1Request({ method: "GET", path: "/" }, { authority: "h\u0131st" }), /host contains/);
  // Latin-1 text is one octet each (obs-text), and percent-encoded paths pass as they are
  const ok = encodeHttp1Request({ method: "GET", path: "/api/%C5%B0roducts", headers: { "X-Name": "caf\u00e9" } }, { authority: "api" });
  assert.match(ok.toString("latin1"), /^GET \/api\/%C5%B0roducts HTTP\/1\.1\r\n/);
  assert.ok(ok.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9])));
});
