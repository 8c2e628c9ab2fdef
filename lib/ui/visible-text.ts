// Text that came from traffic is shown as what it is. React escapes markup, but Unicode bidirectional
// controls (RIGHT-TO-LEFT OVERRIDE and friends) still reorder what is drawn: a namespace
// "ns\u202Eexe.txt" would read "nstxt.exe". They are shown as visible escapes instead, for display
// only: exports and copies keep the record's bytes.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function visible(s: string): string {
  BIDI_CONTROLS.lastIndex = 0;
  if (!BIDI_CONTROLS.test(s)) return s;
  return s.replace(BIDI_CONTROLS, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
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
