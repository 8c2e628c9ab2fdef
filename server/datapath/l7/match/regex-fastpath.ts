// A backtracking-safe subset of RE2 syntax that V8's own RegExp engine may run instead of RE2.
// Crossing into the re2 addon costs about a microsecond per test (string conversion and the
// native call), several times what a whole HTTP/1.1 parse costs; V8 is ~10x cheaper, but it
// backtracks, so it only gets patterns whose running time is provably linear in the input:
//  * atoms are ASCII literals, escaped punctuation, \d, \w, `.` and bracket classes of those;
//  * quantifiers (* + ?, lazy or not) apply to single atoms only, never to groups, no {n,m};
//  * every quantifier but the last is "guarded": followed directly by a literal its atom cannot
//    match, so it has exactly one way to end and giving characters back fails at once; only the
//    textually last quantifier may backtrack, and after it come fixed-width atoms only, so each
//    of its give-backs costs O(1) (a later quantifier would be re-run per give-back: x+x+y is
//    quadratic and stays on RE2);
//  * the number of alternation paths (product of the branch counts) is small.
// Anything else (Unicode classes, \s, \b, flags, POSIX classes, counted repetition, nested or
// group quantifiers) returns undefined and stays with RE2. Semantics match RE2's full match: `.`
// is "anything but \n" and the `u` flag makes it (and negated classes) consume whole code points,
// as RE2 does on UTF-8.

const MAX_ALTERNATION_PATHS = 16;
const SYNTAX = new Set("^$\\.*+?()[]{}|/".split(""));

type CharSet = Uint8Array; // membership of ASCII 0..127 (non-ASCII membership is not needed: guards are ASCII)

function setOf(test: (c: number) => boolean): CharSet {
  const s = new Uint8Array(128);
  for (let c = 0; c < 128; c++) s[c] = test(c) ? 1 : 0;
  return s;
}
const DIGIT = setOf((c) => c >= 48 && c <= 57);
const WORD = setOf((c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95);
const DOT = setOf((c) => c !== 10);

function isPrintable(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function hex(c: number): string {
  return `\\x${c.toString(16).padStart(2, "0")}`;
}
function literalSource(ch: string): string {
  return SYNTAX.has(ch) ? `\\${ch}` : ch;
}

/** A bracket class at p (pattern[p] === "["): its ASCII set, JS source and end index, or undefined. */
function parseClass(pattern: string, p: number): { set: CharSet; src: string; end: number } | undefined {
  let i = p + 1;
  let negated = false;
  if (pattern[i] === "^") {
    negated = true;
    i++;
  }
  // RE2 reads a leading "]" as a literal, JS as the end of an empty class: leave it to RE2
  if (pattern[i] === "]") return undefined;
  const set = new Uint8Array(128);
  let prev = -1; // last single literal, for ranges
  for (;;) {
    if (i >= pattern.length) return undefined;
    const ch = pattern[i];
    const c = pattern.charCodeAt(i);
    if (ch === "]") break;
    if (ch === "[" || !isPrintable(c)) return undefined;
    let single = -1;
    if (ch === "\\") {
      const e = pattern.charCodeAt(i + 1);
      if (e === 100 /* d */ || e === 119 /* w */) {
        const cls = e === 100 ? DIGIT : WORD;
        for (let k = 0; k < 128; k++) set[k] |= cls[k];
        i += 2;
        prev = -1;
        continue;
      }
      if (!isPrintable(e) || isAlnum(e)) return undefined;
      single = e;
      i += 2;
    } else if (ch === "-" && prev >= 0 && pattern[i + 1] !== "]") {
      // range prev-next
      let hi = pattern.charCodeAt(i + 2);
      let step = 2;
      if (pattern[i + 1] === "\\") {
        hi = pattern.charCodeAt(i + 2);
        if (!isPrintable(hi) || isAlnum(hi)) return undefined;
        step = 3;
      } else {
        hi = pattern.charCodeAt(i + 1);
        if (!isPrintable(hi) || pattern[i + 1] === "[") return undefined;
      }
      if (hi < prev) return undefined;
      for (let k = prev; k <= hi; k++) set[k] = 1;
      i += step;
      prev = -1;
      continue;
    } else {
      single = c;
      i++;
    }
    set[single] = 1;
    prev = single;
  }
  let src = "";
  for (let k = 0; k < 128; k++) {
    if (!set[k]) continue;
    let e = k;
    while (e + 1 < 128 && set[e + 1]) e++;
    src += e === k ? hex(k) : `${hex(k)}-${hex(e)}`;
    k = e;
  }
  if (src === "" && !negated) return undefined;
  const member = negated ? setOf((k) => !set[k]) : set;
  return { set: member, src: negated ? `[^${src}]` : `[${src}]`, end: i + 1 };
}

/**
 * The JS RegExp equivalent of RE2 full-matching `pattern` when it lies in the safe subset,
 * otherwise undefined. The caller has already compiled the pattern with RE2 (so it is valid).
 */
export function safeJsRegex(pattern: string): RegExp | undefined {
  let src = "";
  let unguarded = 0;
  let paths = 1;
  const alts: number[] = [1]; // branch count per open group (index 0: top level)
  let atom: CharSet | undefined; // the last atom, while a quantifier may still follow it
  let pending: CharSet | undefined; // a quantified atom waiting to see what follows it

  // what comes next is `lit` (an ASCII literal code) or something else (-1)
  const settle = (lit: number): void => {
    if (pending && !(lit >= 0 && pending[lit] === 0)) unguarded++;
    pending = undefined;
  };

  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i];
    const c = pattern.charCodeAt(i);
    if (!isPrintable(c)) return undefined;
    switch (ch) {
      case "*":
      case "+":
      case "?": {
        if (!atom) return undefined;
        // nothing may be quantified after the unguarded quantifier: each of its give-backs would
        // re-run the later one from a new position (x+x+y is quadratic)
        if (unguarded > 0) return undefined;
        src += ch;
        i++;
        if (pattern[i] === "?") {
          src += "?";
          i++;
        }
        pending = atom;
        atom = undefined;
        continue;
      }
      case "{":
      case "}":
        return undefined;
      case "(": {
        settle(-1);
        if (pattern[i + 1] === "?") {
          if (pattern[i + 2] !== ":") return undefined;
          i += 3;
        } else i++;
        alts.push(1);
        src += "(?:";
        atom = undefined;
        continue;
      }
      case ")": {
        settle(-1);
        if (alts.length < 2) return undefined;
        paths *= alts.pop()!;
        src += ")";
        atom = undefined;
        i++;
        // a quantifier on a group is outside the subset: the next character decides
        continue;
      }
      case "|":
        settle(-1);
        alts[alts.length - 1]++;
        src += "|";
        atom = undefined;
        i++;
        continue;
      case "^":
      case "$":
        settle(-1);
        src += ch;
        atom = undefined;
        i++;
        continue;
      case ".":
        settle(-1);
        src += "[^\\n]";
        atom = DOT;
        i++;
        continue;
      case "[": {
        settle(-1);
        const cls = parseClass(pattern, i);
        if (!cls) return undefined;
        src += cls.src;
        atom = cls.set;
        i = cls.end;
        continue;
      }
      case "\\": {
        const e = pattern.charCodeAt(i + 1);
        if (e === 100 || e === 119) {
          settle(-1);
          src += e === 100 ? "[0-9]" : "[0-9A-Za-z_]";
          atom = e === 100 ? DIGIT : WORD;
          i += 2;
          continue;
        }
        if (!isPrintable(e) || isAlnum(e)) return undefined;
        settle(e);
        src += literalSource(pattern[i + 1]);
        atom = setOf((k) => k === e);
        i += 2;
        continue;
      }
      default:
        settle(c);
        src += literalSource(ch);
        atom = setOf((k) => k === c);
        i++;
    }
  }
  settle(-1);
  if (alts.length !== 1) return undefined;
  paths *= alts[0];
  if (unguarded > 1 || paths > MAX_ALTERNATION_PATHS) return undefined;
  try {
    return new RegExp(`^(?:${src})$`, "u");
  } catch {
    return undefined;
  }
}
