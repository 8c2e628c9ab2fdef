// Text that came from traffic is shown as what it is. React escapes markup, but some characters draw
// nothing or reorder what is drawn: a bidi override makes "ns\u202Eexe.txt" read "nstxt.exe", and a
// zero-width space makes "pay\u200Bments" look exactly like the namespace "payments" next to it.
// Kubernetes names never contain such characters, so one that does is forged, and the reader must see
// it. Every format (Cf) and control (Cc) character, and the blank letters used as filler, is shown as
// a visible escape instead, for display only: exports and copies keep the record's bytes.
const INVISIBLE = /[\p{Cf}\p{Cc}\u034F\u115F\u1160\u3164\uFFA0]/gu;

export function visible(s: string): string {
  return escaped(s, INVISIBLE);
}

/** `s` with every character `re` (global) matches written as `<U+XXXX>`; `s` itself when none does */
function escaped(s: string, re: RegExp): string {
  re.lastIndex = 0;
  if (!re.test(s)) return s;
  re.lastIndex = 0;
  return s.replace(re, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}>`);
}

// Kubernetes names (namespaces, pods, workloads, label keys and values) and DNS names on the wire are
// ASCII, so any other character in one is forged: a Cyrillic "а" makes "pаyments" look exactly like
// "payments". Names are shown with every character outside printable ASCII escaped as well.
const NOT_PRINTABLE_ASCII = /[^\x20-\x7E]/gu;

export function visibleName(s: string): string {
  return escaped(s, NOT_PRINTABLE_ASCII);
}

/** `v` with every string (keys included) passed through visible(); the same object when nothing changes. */
export function visibleDeep<T>(v: T): T {
  if (typeof v === "string") return visible(v) as T;
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => {
      const y = visibleDeep(x);
      if (y !== x) changed = true;
      return y;
    });
    return (changed ? out : v) as T;
  }
  if (v && typeof v === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const key = visible(k);
      const y = visibleDeep(x);
      if (y !== x || key !== k) changed = true;
      out[key] = y;
    }
    return (changed ? out : v) as T;
  }
  return v;
}
