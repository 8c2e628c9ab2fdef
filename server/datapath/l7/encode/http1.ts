// The bytes an HTTP/1.1 client sends for a request, and the bytes a server (or Envoy refusing it)
// sends back. Header order follows what curl-like clients send: Host first.
import type { HttpRequestSpec } from "../proxy-types";

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export function statusText(code: number): string {
  return STATUS_TEXT[code] ?? "Unknown";
}

export interface Http1RequestOptions {
  /** used for the Host header when the spec names no host */
  authority: string;
  body?: string;
  userAgent?: string;
}

function assertNoCrlf(what: string, s: string): void {
  if (/[\r\n]/.test(s)) throw new Error(`http request ${what} contains CR or LF: ${JSON.stringify(s)}`);
  // HTTP/1.1 is bytes: a character beyond one octet has no single encoding on the wire (clients
  // percent-encode it in a path), and writing its low byte would send, and judge, another request.
  const wide = /[^\u0000-\u00ff]/u.exec(s);
  if (wide) {
    const cp = wide[0].codePointAt(0)!;
    const hint = what === "path" ? `; percent-encode it (${[...Buffer.from(wide[0], "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("")})` : "";
    throw new Error(`http request ${what} contains ${JSON.stringify(wide[0])} (U+${cp.toString(16).toUpperCase().padStart(4, "0")}), which is not a single octet${hint}: ${JSON.stringify(s)}`);
  }
}

export function encodeHttp1Request(spec: HttpRequestSpec, opts: Http1RequestOptions): Buffer {
  const method = spec.method || "GET";
  const path = spec.path || "/";
  assertNoCrlf("method", method);
  assertNoCrlf("path", path);
  const host = spec.host ?? opts.authority;
  assertNoCrlf("host", host);
  const given = spec.headers ?? {};
  const has = (name: string) => Object.keys(given).some((k) => k.toLowerCase() === name);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (!has("host")) head += `Host: ${host}\r\n`;
  if (!has("user-agent")) head += `User-Agent: ${opts.userAgent ?? "curl/8.5.0"}\r\n`;
  if (!has("accept")) head += "Accept: */*\r\n";
  for (const [k, v] of Object.entries(given)) {
    assertNoCrlf(`header ${k}`, k);
    assertNoCrlf(`header ${k}`, String(v));
    head += `${k}: ${v}\r\n`;
  }
  const body = opts.body !== undefined ? Buffer.from(opts.body, "utf8") : undefined;
  const needsLength = body !== undefined || method === "POST" || method === "PUT" || method === "PATCH";
  if (needsLength && !has("content-length")) head += `Content-Length: ${body?.length ?? 0}\r\n`;
  head += "\r\n";
  const headBytes = Buffer.from(head, "latin1");
  return body ? Buffer.concat([headBytes, body]) : headBytes;
}

export interface Http1ResponseOptions {
  code: number;
  headers?: [string, string][];
  body?: string;
  /** send the body with Transfer-Encoding: chunked instead of Content-Length */
  chunked?: boolean;
  /**
   * the answer to a HEAD request: the header fields a GET would get (its Content-Length or
   * Transfer-Encoding included) and no content, as RFC 9110 §9.3.2 has it
   */
  head?: boolean;
}

export function encodeHttp1Response(opts: Http1ResponseOptions): Buffer {
  const body = Buffer.from(opts.body ?? "", "utf8");
  let head = `HTTP/1.1 ${opts.code} ${statusText(opts.code)}\r\n`;
  for (const [k, v] of opts.headers ?? []) head += `${k}: ${v}\r\n`;
  if (opts.chunked) {
    head += "transfer-encoding: chunked\r\n\r\n";
    const parts: Buffer[] = [Buffer.from(head, "latin1")];
    if (opts.head) return parts[0]!;
    if (body.length > 0) parts.push(Buffer.from(`${body.length.toString(16)}\r\n`, "latin1"), body, Buffer.from("\r\n"));
    parts.push(Buffer.from("0\r\n\r\n", "latin1"));
    return Buffer.concat(parts);
  }
  head += `content-length: ${body.length}\r\n\r\n`;
  if (opts.head) return Buffer.from(head, "latin1");
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** Envoy's local reply when Cilium's L7 policy refuses an HTTP request. */
/**
 * cilium.l7policy's 403 as its access log sees it. Envoy adds Date and Server to a response only after
 * the encoder filters ran (conn_manager_impl.cc encodeHeaders), and the access log is written from
 * cilium.l7policy's encodeHeaders, so the logged reply has neither.
 */
export function encodeHttp1AccessDenied(head = false): Buffer {
  return encodeHttp1Response({ code: 403, headers: [["content-type", "text/plain"]], body: "Access denied\r\n", head });
}
