// Hubble's own readers (`hubble observe --input-file`, protojson) refuse a record whose `extensions` Any
// names a message type they do not know, and Flowscope's decision details (default_deny_by, the
// deciding rule, L7 decisions) travel in such an Any. Exports meant for Hubble tools leave it out.
//
// Works on record text as Flowscope writes it, including stored bodies whose extension is a fragment
// reference (NUL id NUL, server/store/fragments.ts): `,"extensions":` can only be the key itself, since a
// quote inside a JSON string is always escaped.

const KEY = ',"extensions":';

/** `json` without the flow's `extensions` member (unchanged when it has none). */
export function withoutExtensions(json: string): string {
  const at = json.indexOf(KEY);
  if (at < 0) return json;
  const start = at + KEY.length;
  const end = valueEnd(json, start);
  return end < 0 ? json : json.slice(0, at) + json.slice(end);
}

/** the index just past the JSON value (or fragment reference) starting at `i`; -1 if malformed */
function valueEnd(s: string, i: number): number {
  const c = s[i];
  if (c === "\u0000") {
    const close = s.indexOf("\u0000", i + 1);
    return close < 0 ? -1 : close + 1;
  }
  if (c !== "{") return -1;
  let depth = 0;
  for (let k = i; k < s.length; k++) {
    const ch = s.charCodeAt(k);
    if (ch === 34 /* " */) {
      for (k++; k < s.length && s.charCodeAt(k) !== 34; k++) if (s.charCodeAt(k) === 92 /* \ */) k++;
    } else if (ch === 123 /* { */ || ch === 91 /* [ */) depth++;
    else if (ch === 125 /* } */ || ch === 93 /* ] */) {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return -1;
}
