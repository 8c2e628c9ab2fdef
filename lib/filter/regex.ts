// Regular expressions from users (http_path, http_url, dns_query) run in the browser as well as on the
// server, where RE2 is not available. JS RegExp backtracks, so instead of RE2 we accept only patterns that
// cannot backtrack catastrophically and that RE2 would also accept:
//   - no backreferences (\1, \k<name>) and no lookaround ((?=, (?!, (?<=, (?<!): RE2 rejects them;
//   - no quantified group that itself contains a quantifier (`(a+)+`, `(a*b?)*`): nested quantifiers are
//     the classic exponential case;
//   - a quantified group containing alternation only when every alternative is a plain literal and no two
//     alternatives start with the same character (`(get|post)+` is fine, `(a|aa)+` is not), which keeps the
//     choice at each step deterministic.
// RE2 spellings `(?P<name>…)` and a leading `(?i)` are translated. Hubble's regex filters are unanchored
// (Go MatchString), and so are these.
import { FilterError } from "./types";

const MAX_PATTERN_LENGTH = 1024;

interface GroupInfo {
  hasQuantifier: boolean;
  alternatives: string[];
  current: string;
  literalOnly: boolean;
}

function isQuantifierAt(p: string, i: number): number {
  const c = p[i];
  if (c === "*" || c === "+" || c === "?") return 1;
  if (c === "{") {
    const m = /^\{\d+(,\d*)?\}/.exec(p.slice(i));
    if (m) return m[0].length;
  }
  return 0;
}

/** Compiles a user regex for `field`, or throws FilterError naming the field and the problem. */
export function compileSafeRegExp(pattern: string, field: string): RegexMatcher {
  if (typeof pattern !== "string") throw new FilterError(field, "expected a regular expression string");
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new FilterError(field, `regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let src = pattern;
  let flags = "";
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]) {
      if (f === "i" || f === "s" || f === "m") flags += flags.includes(f) ? "" : f;
      else throw new FilterError(field, `unsupported regex flag '${f}' in ${JSON.stringify(pattern)}`);
    }
    src = src.slice(lead[0].length);
  }
  src = src.replace(/\(\?P</g, "(?<");

  const stack: GroupInfo[] = [{ hasQuantifier: false, alternatives: [], current: "", literalOnly: true }];
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const top = stack[stack.length - 1];
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) throw new FilterError(field, `regular expression ends with a lone backslash`);
      if (!inClass && (/[1-9]/.test(n) || n === "k")) {
        throw new FilterError(field, `backreferences are not supported (${JSON.stringify(pattern)})`);
      }
      if (!inClass) {
        if (/[A-Za-z0-9]/.test(n)) top.literalOnly = false;
        else top.current += n;
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      top.literalOnly = false;
      if (src[i + 1] === "^") i++;
      if (src[i + 1] === "]") i++;
      continue;
    }
    if (c === "(") {
      if (src[i + 1] === "?") {
        const rest = src.slice(i + 2);
        if (/^(=|!|<=|<!)/.test(rest)) {
          throw new FilterError(field, `lookahead/lookbehind is not supported (${JSON.stringify(pattern)})`);
        }
        if (rest.startsWith(":")) i += 2;
        else if (rest.startsWith("<")) {
          const end = rest.indexOf(">");
          if (end < 0) throw new FilterError(field, `unterminated group name in ${JSON.stringify(pattern)}`);
          i += 2 + end;
        } else throw new FilterError(field, `unsupported group syntax in ${JSON.stringify(pattern)}`);
      }
      top.literalOnly = false;
      stack.push({ hasQuantifier: false, alternatives: [], current: "", literalOnly: true });
      continue;
    }
    if (c === ")") {
      if (stack.length === 1) throw new FilterError(field, `unbalanced ')' in ${JSON.stringify(pattern)}`);
      const g = stack.pop()!;
      g.alternatives.push(g.current);
      const q = isQuantifierAt(src, i + 1);
      const parent = stack[stack.length - 1];
      if (q) {
        const qText = src.slice(i + 1, i + 1 + q);
        // `(x*){20}` repeats a quantified group as surely as `(x*)+` does: only ? and {0}/{1} are harmless
        const bounded = qText === "?" || /^\{[01](,[01]?)?\}$/.test(qText);
        if (g.hasQuantifier && !bounded) {
          throw new FilterError(field, `nested quantifiers can take exponential time (${JSON.stringify(pattern)})`);
        }
        if (g.alternatives.length > 1 && !bounded) {
          const firsts = new Set<string>();
          const ok =
            g.literalOnly &&
            g.alternatives.every((a) => {
              if (a === "" || firsts.has(a[0])) return false;
              firsts.add(a[0]);
              return true;
            });
          if (!ok) {
            throw new FilterError(
              field,
              `a repeated group may only alternate between literals with distinct first characters (${JSON.stringify(pattern)})`,
            );
          }
        }
        parent.hasQuantifier = true;
        i += q;
        if (src[i + 1] === "?") i++; // lazy marker
      }
      if (g.hasQuantifier) parent.hasQuantifier = true;
      continue;
    }
    if (c === "|") {
      top.alternatives.push(top.current);
      top.current = "";
      continue;
    }
    const q = isQuantifierAt(src, i);
    if (q) {
      top.hasQuantifier = true;
      top.literalOnly = false;
      i += q - 1;
      if (src[i + 1] === "?") i++;
      continue;
    }
    if (c === "." || c === "^" || c === "$") top.literalOnly = false;
    else top.current += c;
  }
  if (stack.length !== 1) throw new FilterError(field, `unbalanced '(' in ${JSON.stringify(pattern)}`);
  if (inClass) throw new FilterError(field, `unterminated character class in ${JSON.stringify(pattern)}`);
  try {
    return engine(src, flags);
  } catch (e) {
    throw new FilterError(field, `invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** What compiled filter patterns are used for. */
export interface RegexMatcher {
  test(s: string): boolean;
}

/**
 * Builds a matcher from a validated pattern. The browser keeps JS RegExp (only its own tab can be slowed);
 * the server and CLI install RE2 (server/filter-regex-engine.ts), whose linear time means no pattern a
 * client sends can stall the process for everyone, whatever adjacent quantifiers (`.*.*.*.*x`) it holds.
 */
export type RegexEngine = (source: string, flags: string) => RegexMatcher;

let engine: RegexEngine = (source, flags) => new RegExp(source, flags);

export function useRegexEngine(e: RegexEngine): void {
  engine = e;
}
