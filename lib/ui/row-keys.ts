// Per-row sort keys, computed once per row and column and kept on the row itself. A sorted live
// table re-sorts up to 100k rows once a second; recomputing every cell's text each time (and reading
// it back through a WeakMap) cost more than the sort. The cache sits under a Symbol, so it never shows
// up in JSON, Object.keys or the details panel's field list.
import type { StoredFlow } from "../api-types";

const CACHE = Symbol("flowscope.rowKeys");

type Cached = StoredFlow & { [CACHE]?: (string | number | undefined)[] };

let slots = 0;

/** A key function that computes `compute(row)` once per row and remembers it on the row. */
export function cachedKey(compute: (row: StoredFlow) => string | number): (row: StoredFlow) => string | number {
  const slot = slots++;
  return (row) => {
    const r = row as Cached;
    let c = r[CACHE];
    if (!c) c = r[CACHE] = [];
    let k = c[slot];
    if (k === undefined) k = c[slot] = compute(row);
    return k;
  };
}
