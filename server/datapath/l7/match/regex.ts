// Full-string regular expressions with RE2 semantics, as Envoy's safe_regex matches :path,
// :method and :authority. RE2 runs in linear time, so no pattern can stall the proxy; patterns
// RE2 rejects (backreferences, lookaround) are configuration errors. Compiled matchers are cached
// by pattern text because the same policy regexes are matched on every request.
import RE2 from "re2";
import { safeJsRegex } from "./regex-fastpath";

export interface FullMatcher {
  readonly pattern: string;
  /** compileFullRegex's choice of engine: string compare, V8 on the linear-time subset, or RE2 */
  readonly engine?: "literal" | "prefix" | "v8-safe" | "re2";
  test(s: string): boolean;
}

const META = /[\\^$.|?*+()[\]{}]/;
const ASCII = /^[\x00-\x7f]*$/;
const cache = new Map<string, FullMatcher | Error>();
const CACHE_LIMIT = 10000;

function build(pattern: string): FullMatcher {
  // Literal patterns and "literal.*" need no regex engine; the inputs (methods, paths, hosts)
  // never contain a newline, which is the only character "." would refuse.
  if (!META.test(pattern)) return { pattern, engine: "literal", test: (s) => s === pattern };
  if (pattern.endsWith(".*") && !META.test(pattern.slice(0, -2))) {
    const prefix = pattern.slice(0, -2);
    return { pattern, engine: "prefix", test: (s) => s.startsWith(prefix) && !s.includes("\n") };
  }
  // RE2 first in every case: it is the judge of what is a valid pattern
  const re = new RE2(`^(?:${pattern})$`);
  const fast = safeJsRegex(pattern);
  if (fast) return { pattern, engine: "v8-safe", test: (s) => fast.test(s) };
  // RE2 converts each new JS string to UTF-8; handing it bytes is several times faster, and for
  // ASCII text (request lines, header names, DNS names) latin1 bytes are the UTF-8 bytes.
  return { pattern, engine: "re2", test: (s) => (ASCII.test(s) ? re.test(Buffer.from(s, "latin1")) : re.test(s)) };
}

/** Compile (or fetch from cache); throws an Error naming the pattern when RE2 rejects it. */
export function compileFullRegex(pattern: string): FullMatcher {
  let m = cache.get(pattern);
  if (m === undefined) {
    try {
      m = build(pattern);
    } catch (e) {
      m = new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, m);
  }
  if (m instanceof Error) throw m;
  return m;
}

/** The problem with a pattern, or undefined when RE2 accepts it. */
export function regexProblem(pattern: string): string | undefined {
  try {
    compileFullRegex(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
