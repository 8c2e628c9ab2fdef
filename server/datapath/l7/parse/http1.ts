// HTTP/1.1 message parser (RFC 9112): request/status line, header fields, Content-Length or
// chunked bodies, several messages back to back on one keep-alive connection. It refuses the
// ambiguous inputs a proxy must refuse (both Content-Length and chunked, conflicting lengths,
// whitespace before the colon, obsolete line folding).
import { asBuffer } from "../bytes";
import { fail } from "../errors";

export const HTTP1_MAX_HEADER_BYTES = 64 * 1024;
export const HTTP1_MAX_HEADERS = 100;

export interface Http1Message {
  /** request: method; response: undefined */
  method?: string;
  /** request target (path and query) */
  target?: string;
  status?: number;
  reason?: string;
  version: "HTTP/1.1" | "HTTP/1.0";
  headers: [string, string][];
  body: Buffer;
  chunked: boolean;
  /** byte offsets of this message in the input */
  start: number;
  end: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// tchar lookup (RFC 9110 §5.6.2) for the per-header scan, cheaper than a regex per line
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

function isToken(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

function parseHead(buf: Buffer, start: number, kind: "request" | "response"): { msg: Http1Message; bodyStart: number } {
  const headEnd = buf.indexOf("\r\n\r\n", start, "latin1");
  if (headEnd < 0) {
    if (buf.length - start > HTTP1_MAX_HEADER_BYTES) fail("http", start, `header block larger than ${HTTP1_MAX_HEADER_BYTES} bytes`);
    fail("http", buf.length, `truncated ${kind}: header block not terminated by CRLF CRLF`);
  }
  if (headEnd - start > HTTP1_MAX_HEADER_BYTES) fail("http", start, `header block larger than ${HTTP1_MAX_HEADER_BYTES} bytes`);
  const head = buf.toString("latin1", start, headEnd);
  let lineEnd = head.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = head.length;
  const first = head.slice(0, lineEnd);
  const msg: Http1Message = { version: "HTTP/1.1", headers: [], body: EMPTY, chunked: false, start, end: start };
  if (kind === "request") {
    const sp1 = first.indexOf(" ");
    const sp2 = first.lastIndexOf(" ");
    if (sp1 <= 0 || sp2 === sp1) fail("http", start, `malformed request line ${JSON.stringify(first.slice(0, 80))}`);
    const method = first.slice(0, sp1);
    const target = first.slice(sp1 + 1, sp2);
    const version = first.slice(sp2 + 1);
    if (!TOKEN.test(method)) fail("http", start, `invalid method ${JSON.stringify(method)}`);
    if (target.length === 0 || target.includes(" ")) fail("http", start + sp1 + 1, `invalid request target ${JSON.stringify(target)}`);
    if (version !== "HTTP/1.1" && version !== "HTTP/1.0") fail("http", start + sp2 + 1, `unsupported version ${JSON.stringify(version)}`);
    msg.method = method;
    msg.target = target;
    msg.version = version;
  } else {
    const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(first);
    if (!m) fail("http", start, `malformed status line ${JSON.stringify(first.slice(0, 80))}`);
    msg.version = m[1] as "HTTP/1.1" | "HTTP/1.0";
    msg.status = Number(m[2]);
    msg.reason = m[3] ?? "";
  }
  let pos = lineEnd + 2;
  while (pos < head.length) {
    let next = head.indexOf("\r\n", pos);
    if (next < 0) next = head.length;
    const at = start + pos;
    const c0 = head.charCodeAt(pos);
    if (c0 === 32 || c0 === 9) fail("http", at, "obsolete line folding in header block");
    const colon = head.indexOf(":", pos);
    if (colon <= pos || colon > next) fail("http", at, `header line without name and colon: ${JSON.stringify(head.slice(pos, Math.min(next, pos + 80)))}`);
    if (!isToken(head, pos, colon)) fail("http", at, `invalid header name ${JSON.stringify(head.slice(pos, colon))}`);
    const name = head.slice(pos, colon);
    let vs = colon + 1;
    let ve = next;
    while (vs < ve && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (head.charCodeAt(ve - 1) === 32 || head.charCodeAt(ve - 1) === 9)) ve--;
    const value = head.slice(vs, ve);
    if (value.indexOf("\n") >= 0 || value.indexOf("\0") >= 0 || value.indexOf("\r") >= 0) fail("http", start + vs, `invalid character in header ${name}`);
    msg.headers.push([name, value]);
    if (msg.headers.length > HTTP1_MAX_HEADERS) fail("http", at, `more than ${HTTP1_MAX_HEADERS} header fields`);
    pos = next + 2;
  }
  return { msg, bodyStart: headEnd + 4 };
}

const EMPTY = Buffer.alloc(0);

function bodyFraming(msg: Http1Message): { chunked: boolean; length: number | undefined } {
  let length: number | undefined;
  let chunked = false;
  for (const [k, v] of msg.headers) {
    const key = k.toLowerCase();
    if (key === "content-length") {
      if (!/^\d{1,15}$/.test(v)) fail("http", msg.start, `invalid Content-Length ${JSON.stringify(v)}`);
      const n = Number(v);
      if (length !== undefined && length !== n) fail("http", msg.start, "conflicting Content-Length headers");
      length = n;
    } else if (key === "transfer-encoding") {
      const codings = v.toLowerCase().split(",").map((s) => s.trim());
      if (codings[codings.length - 1] !== "chunked") fail("http", msg.start, `unsupported Transfer-Encoding ${JSON.stringify(v)}`);
      chunked = true;
    }
  }
  if (chunked && length !== undefined) fail("http", msg.start, "both Transfer-Encoding and Content-Length (request smuggling risk)");
  return { chunked, length };
}

function readChunked(buf: Buffer, pos: number): { body: Buffer; end: number } {
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", pos, "latin1");
    if (lineEnd < 0) fail("http", pos, "truncated chunked body: chunk size line not terminated");
    const line = buf.toString("latin1", pos, lineEnd);
    const semi = line.indexOf(";");
    const sizeText = (semi >= 0 ? line.slice(0, semi) : line).trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) fail("http", pos, `invalid chunk size ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) {
      // trailer section: header lines until an empty line
      for (;;) {
        const tEnd = buf.indexOf("\r\n", pos, "latin1");
        if (tEnd < 0) fail("http", pos, "truncated chunked body: missing final CRLF");
        const empty = tEnd === pos;
        pos = tEnd + 2;
        if (empty) return { body: parts.length === 1 ? parts[0] : Buffer.concat(parts), end: pos };
      }
    }
    if (pos + size + 2 > buf.length) fail("http", pos, `truncated chunk: declared ${size} byte(s), ${Math.max(0, buf.length - pos)} available`);
    parts.push(buf.subarray(pos, pos + size));
    if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) fail("http", pos + size, "chunk data not followed by CRLF");
    pos += size + 2;
  }
}

function parseOne(buf: Buffer, start: number, kind: "request" | "response", noBody: boolean): Http1Message {
  const { msg, bodyStart } = parseHead(buf, start, kind);
  const status = msg.status ?? 0;
  const bodyless = noBody || (kind === "response" && (status < 200 || status === 204 || status === 304));
  const { chunked, length } = bodyFraming(msg);
  if (bodyless) {
    msg.end = bodyStart;
  } else if (chunked) {
    const r = readChunked(buf, bodyStart);
    msg.body = r.body;
    msg.chunked = true;
    msg.end = r.end;
  } else if (length !== undefined) {
    if (bodyStart + length > buf.length) fail("http", bodyStart, `truncated body: Content-Length ${length}, ${buf.length - bodyStart} byte(s) available`);
    msg.body = buf.subarray(bodyStart, bodyStart + length);
    msg.end = bodyStart + length;
  } else if (kind === "response") {
    // no framing: the body runs to the end of the connection
    msg.body = buf.subarray(bodyStart);
    msg.end = buf.length;
  } else {
    msg.end = bodyStart;
  }
  return msg;
}

/** Every request in the buffer (a keep-alive connection may carry several). */
export function parseHttp1Requests(data: Uint8Array): Http1Message[] {
  const buf = asBuffer(data);
  if (buf.length === 0) fail("http", 0, "empty input: no request line");
  const out: Http1Message[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const msg = parseOne(buf, pos, "request", false);
    out.push(msg);
    pos = msg.end;
  }
  return out;
}

/** Every response in the buffer; `headRequests[i]` marks responses to HEAD, which carry no body. */
export function parseHttp1Responses(data: Uint8Array, headRequests: boolean[] = []): Http1Message[] {
  const buf = asBuffer(data);
  if (buf.length === 0) fail("http", 0, "empty input: no status line");
  const out: Http1Message[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const msg = parseOne(buf, pos, "response", headRequests[out.length] === true);
    out.push(msg);
    pos = msg.end;
  }
  return out;
}
