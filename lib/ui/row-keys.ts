// Per-row cached values (sort keys, filter facets), kept on the row itself. A sorted live table
// re-sorts up to 100k rows once a second; recomputing every cell's text each time (and reading it
// back through a WeakMap) cost more than the sort. The cache sits under a Symbol, so it never shows
// up in JSON, Object.keys or the details panel's field list, and it is freed with the row when the
// store evicts it. Each slot has a generation: bumping it invalidates that slot on every row at once
// (the sort-key tables do this when they compact), without visiting the rows.
import type { StoredFlow } from "../api-types";

const CACHE = Symbol("flowscope.rowKeys");

/** [gen0, value0, gen1, value1, …]: two entries per slot. */
type Cached = StoredFlow & { [CACHE]?: unknown[] };

let slots = 0;

export class RowSlot<T> {
  private readonly at = 2 * slots++;
  private gen = 0;

  get(row: StoredFlow): T | undefined {
    const c = (row as Cached)[CACHE];
    return c !== undefined && c[this.at] === this.gen ? (c[this.at + 1] as T) : undefined;
  }

  set(row: StoredFlow, v: T): void {
    const r = row as Cached;
    let c = r[CACHE];
    if (c === undefined) c = r[CACHE] = [];
    c[this.at] = this.gen;
    c[this.at + 1] = v;
  }

  /** Forget this slot's value on every row (they are recomputed on next use). */
  invalidate(): void {
    this.gen++;
  }
}

/** A key function that computes `compute(row)` once per row and remembers it on the row. */
export function cachedKey<T extends string | number>(compute: (row: StoredFlow) => T): (row: StoredFlow) => T {
  const slot = new RowSlot<T>();
  return (row) => {
    let k = slot.get(row);
    if (k === undefined) {
      k = compute(row);
      slot.set(row, k);
    }
    return k;
  };
}
