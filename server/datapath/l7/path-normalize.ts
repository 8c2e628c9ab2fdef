// What Envoy's HTTP connection manager does to :path before any filter, and so before Cilium's L7
// policy, sees it. Cilium's http-normalize-path option (on by default) turns on three HCM settings
// (pkg/envoy xds_server.go): normalize_path, merge_slashes and path_with_escaped_slashes_action =
// UNESCAPE_AND_REDIRECT. Path rules are written against clean paths, so without this
// "/public/../admin" or "/public/%2e%2e/admin" would pass a "/public/.*" rule.
//
// The order is Envoy's ConnectionManagerUtility::maybeNormalizePath: escaped slashes first, then
// RFC 3986 canonicalization (Chromium's path canonicalizer, which Envoy embeds), then merging of
// repeated slashes. The query string is left alone throughout.
//   - a path whose escaped slashes (%2F, %5C) were unescaped is not forwarded: Envoy answers with a
//     307 redirect to the rewritten path (a gRPC call gets grpc-status 13 instead);
//   - a path the canonicalizer refuses (an escaped or raw NUL) gets a 400.
// Chromium's extra care for nested escapes ("%%30%30") is not reproduced: it changes how such a path
// is spelled, not which segments it has.

export type PathAction = "continue" | "redirect" | "reject";

export interface NormalizedPath {
  /** the request target as the rules and the access log see it (query string unchanged) */
  path: string;
  action: PathAction;
}

// Chromium's kPathCharLookup, reduced to what the canonicalizer does with each byte.
const PASS = 0;
const UNESCAPE = 1;
const ESCAPE = 2;
const INVALID = 3;

const LOOKUP = new Uint8Array(256).fill(ESCAPE);
LOOKUP[0] = INVALID;
for (const ch of "!$&'()*+,/:;=@[]") LOOKUP[ch.charCodeAt(0)] = PASS;
for (let c = 0x30; c <= 0x39; c++) LOOKUP[c] = UNESCAPE;
for (let c = 0x41; c <= 0x5a; c++) LOOKUP[c] = UNESCAPE;
for (let c = 0x61; c <= 0x7a; c++) LOOKUP[c] = UNESCAPE;
for (const ch of "-_~") LOOKUP[ch.charCodeAt(0)] = UNESCAPE;
// '.' is handled as a possible dot segment before the table is consulted
LOOKUP[0x2e] = PASS;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** the byte an escape at `i` stands for, or -1 when `i` does not start a valid %XX */
function escapedAt(b: Uint8Array, i: number): number {
  if (b[i] !== 0x25 || i + 2 >= b.length) return -1;
  const hi = hexValue(b[i + 1]!);
  const lo = hexValue(b[i + 2]!);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/** length of a dot at `i` ("." or "%2e"), or 0 */
function dotAt(b: Uint8Array, i: number): number {
  if (b[i] === 0x2e) return 1;
  return escapedAt(b, i) === 0x2e ? 3 : 0;
}

const isSlash = (c: number | undefined) => c === 0x2f || c === 0x5c;

/** The path bytes canonicalized as Chromium's DoPath does; null when it reports failure. */
function canonicalize(b: Uint8Array): string | null {
  let out = "/";
  let ok = true;
  let i = 0;
  if (b.length > 0 && isSlash(b[0])) i = 1;
  for (; i < b.length; i++) {
    const c = b[i]!;
    const dot = dotAt(b, i);
    if (dot > 0) {
      if (!out.endsWith("/")) {
        out += ".";
        i += dot - 1;
        continue;
      }
      const after = i + dot;
      if (after === b.length) {
        i = after - 1; // "." at the end: the current directory
        continue;
      }
      if (isSlash(b[after])) {
        i = after; // "./": skip it and its slash
        continue;
      }
      const second = dotAt(b, after);
      const afterSecond = after + second;
      if (second > 0 && (afterSecond === b.length || isSlash(b[afterSecond]))) {
        // "..": back up to the previous slash, never above the root
        const cut = out.lastIndexOf("/", out.length - 2);
        out = cut < 0 ? "/" : out.slice(0, cut + 1);
        i = afterSecond === b.length ? afterSecond - 1 : afterSecond;
        continue;
      }
      out += ".";
      i += dot - 1;
      continue;
    }
    if (c === 0x5c) {
      out += "/";
      continue;
    }
    if (c === 0x25) {
      const v = escapedAt(b, i);
      if (v < 0) {
        out += "%"; // an invalid escape passes through unchanged
        continue;
      }
      const flag = LOOKUP[v]!;
      if (flag === UNESCAPE) out += String.fromCharCode(v);
      else {
        out += String.fromCharCode(0x25, b[i + 1]!, b[i + 2]!); // kept as sent, hex case included
        if (flag === INVALID) ok = false;
      }
      i += 2;
      continue;
    }
    const flag = LOOKUP[c]!;
    if (flag === INVALID) {
      out += "%00";
      ok = false;
    } else if (flag === ESCAPE) out += "%" + c.toString(16).toUpperCase().padStart(2, "0");
    else out += String.fromCharCode(c);
  }
  return ok ? out : null;
}

/** %2F and %5C (either case) unescaped; `found` tells whether there were any */
function unescapeSlashes(path: string): { path: string; found: boolean } {
  if (!path.includes("%")) return { path, found: false };
  const out = path.replace(/%2f|%5c/gi, (m) => (m[2] === "f" || m[2] === "F" ? "/" : "\\"));
  return { path: out, found: out !== path };
}

/** The request target as Envoy hands it on under Cilium's default http-normalize-path. */
export function normalizeRequestPath(target: string): NormalizedPath {
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q);
  const slashes = unescapeSlashes(rawPath);
  // the canonicalizer works on bytes: characters beyond Latin-1 are their UTF-8 bytes
  const bytes = /^[\x00-\xff]*$/.test(slashes.path) ? Buffer.from(slashes.path, "latin1") : Buffer.from(slashes.path, "utf8");
  const canonical = canonicalize(bytes);
  if (canonical === null) return { path: target, action: "reject" };
  const merged = canonical.replace(/\/{2,}/g, "/");
  return { path: merged + query, action: slashes.found ? "redirect" : "continue" };
}
