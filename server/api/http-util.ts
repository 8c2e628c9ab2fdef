// Small helpers for answering HTTP requests: JSON bodies, errors that name the problem, bounded request
// bodies, and the token check used when Flowscope listens beyond loopback.
import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { FilterError } from "../../lib/filter/types";

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  // the client left mid-request: there is no one to answer, and nothing went wrong here
  if (err instanceof ClientGone) return;
  if (res.destroyed) {
    // no one to answer, but a failure of our own is still worth a line in the log
    if (!(err instanceof HttpError) && !(err instanceof FilterError)) console.error("request failed (client gone):", err);
    return;
  }
  if (err instanceof HttpError) {
    // the body was not read to its end (too large, or stalled): the connection cannot carry another request
    if ((err.status === 408 || err.status === 413) && !res.headersSent) res.setHeader("Connection", "close");
    sendJson(res, err.status, { error: err.message, ...(err.field ? { field: err.field } : {}) });
  } else if (err instanceof FilterError) {
    // a filter is the client's input wherever it is found wrong (parsed, compiled or translated to SQL)
    sendJson(res, 400, { error: err.message, field: err.field });
  } else {
    console.error("request failed:", err);
    sendJson(res, 500, { error: `internal error: ${(err as Error)?.message ?? String(err)}` });
  }
}

/**
 * A request body sent compressed (Content-Encoding: gzip, …) is refused with 415: the server reads bodies
 * as they are sent, and would otherwise report the compressed bytes as invalid text.
 */
export function refuseEncodedBody(req: IncomingMessage): void {
  const enc = req.headers["content-encoding"];
  if (enc === undefined) return;
  const codings = enc.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "" && c !== "identity");
  if (codings.length) {
    throw new HttpError(415, `compressed bodies are not supported (Content-Encoding: ${JSON.stringify(enc.slice(0, 40))}): send the body uncompressed`, "Content-Encoding");
  }
}

/** 1-based position of the first byte that is not part of a well-formed UTF-8 sequence (length + 1 when there is none). */
export function firstBadUtf8Byte(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i + 1;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i + 1;
    }
    // overlong three-byte forms, surrogates, and code points past U+10FFFF
    if (n === 2 && ((c === 0xe0 && b[i + 1]! < 0xa0) || (c === 0xed && b[i + 1]! >= 0xa0))) return i + 1;
    if (n === 3 && ((c === 0xf0 && b[i + 1]! < 0x90) || (c === 0xf4 && b[i + 1]! >= 0x90))) return i + 1;
    i += n + 1;
  }
  return b.length + 1;
}

/** The client closed the connection before its request was read. */
export class ClientGone extends Error {
  constructor() {
    super("the client closed the connection before sending its whole request");
  }
}

/** a body that sends nothing for this long is answered 408 (Node's own limit is 300 s for the request) */
export const BODY_IDLE_MS = 30_000;

/** Reads a request body up to `maxBytes`; a larger body is refused with 413 before it is buffered, a compressed one with 415,
 * one that stalls for `idleMs` with 408. */
export async function readBody(req: IncomingMessage, maxBytes: number, idleMs = BODY_IDLE_MS): Promise<Buffer> {
  refuseEncodedBody(req);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new HttpError(413, `request body of ${declared} bytes is larger than the ${maxBytes}-byte limit`);
  }
  // A body shorter than its Content-Length would otherwise hold the request (and its buffers) until
  // Node's requestTimeout: a stalled body is a 408 that says how far it got, and the connection closes.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      if (err) {
        // whatever else the client sends is not read: the answer ends the connection
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => finish(new HttpError(408, `request body stalled: no bytes for ${idleMs / 1000} s after ${total}${Number.isFinite(declared) ? ` of the ${declared} declared` : ""}`)),
        idleMs,
      );
      timer.unref();
    };
    const onData = (chunk: Buffer) => {
      arm();
      total += chunk.length;
      if (total > maxBytes) return finish(new HttpError(413, `request body is larger than the ${maxBytes}-byte limit`));
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onAborted = () => finish(new ClientGone());
    const onError = (err: NodeJS.ErrnoException) => finish(err.code === "ECONNRESET" || err.message === "aborted" ? new ClientGone() : err);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
    arm();
  });
}

function safeEqual(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = crypto.createHash("sha256").update(a).digest();
  const hb = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** Accepts `Authorization: Bearer <token>` or, for browser downloads and WebSocket upgrades, `?token=`. */
export function hasValidToken(req: IncomingMessage, token: string): boolean {
  const auth = req.headers.authorization;
  // the scheme is case-insensitive (RFC 9110 §11.1)
  if (typeof auth === "string" && /^bearer /i.test(auth)) return safeEqual(auth.slice(7).trim(), token);
  const url = new URL(req.url ?? "/", "http://x");
  const q = url.searchParams.get("token");
  return q !== null && safeEqual(q, token);
}

export function intParam(params: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return def;
  // digits only: Number() would also take 1e3, 0x10 or " 5"
  const n = /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw.slice(0, 40))}`, name);
  return Math.min(n, max);
}

/** a path segment decoded, or a 400 naming `field` when it is not valid percent-encoding */
export function decoded(s: string | undefined, field: string): string {
  try {
    return decodeURIComponent(s ?? "");
  } catch {
    throw new HttpError(400, `${field}: not a valid URL-encoded value`, field);
  }
}
