// Small helpers for answering HTTP requests: JSON bodies, errors that name the problem, bounded request
// bodies, and the token check used when Flowscope listens beyond loopback.
import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

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
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: err.message, ...(err.field ? { field: err.field } : {}) });
  } else {
    console.error("request failed:", err);
    sendJson(res, 500, { error: `internal error: ${(err as Error)?.message ?? String(err)}` });
  }
}

/** Reads a request body up to `maxBytes`; a larger body is refused with 413 before it is buffered. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new HttpError(413, `request body of ${declared} bytes is larger than the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new HttpError(413, `request body is larger than the ${maxBytes}-byte limit`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return safeEqual(auth.slice(7).trim(), token);
  const url = new URL(req.url ?? "/", "http://x");
  const q = url.searchParams.get("token");
  return q !== null && safeEqual(q, token);
}

export function intParam(params: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`, name);
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
