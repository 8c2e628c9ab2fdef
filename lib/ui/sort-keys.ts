// One table column's sort keys, interned: every distinct key gets a small integer id (cached on the
// row), and the table keeps all its keys in order, so sorting rows is a counting sort over ranks with
// no string comparisons except for keys never seen before. Rows arrive live and leave the bounded
// store, and some columns have a new key for nearly every flow, so the table is compacted to the keys
// of the rows still held whenever it grows past a multiple of them: memory stays proportional to the
// rows held, however long the page runs.
import type { StoredFlow } from "../api-types";
import { RowSlot } from "./row-keys";

/** Rows a table may be compacted against: the store (newest first) or any list of rows. */
export interface RowSource {
  readonly size: number;
  at(i: number): StoredFlow | undefined;
}

export function rowsOf(list: readonly StoredFlow[]): RowSource {
  return { size: list.length, at: (i) => list[i] };
}

/** A table holds at most this many keys, or TABLE_FACTOR × the rows it serves if that is more. */
export const MIN_TABLE_KEYS = 4096;
export const TABLE_FACTOR = 2;

export function keyLimit(rowsHeld: number): number {
  return Math.max(MIN_TABLE_KEYS, TABLE_FACTOR * rowsHeld);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * For printable ASCII, the collator's numeric, case-insensitive order as a plain string: lower case,
 * and each digit run (leading zeros dropped) prefixed by its length, so "svc-9" < "svc-10" and keys
 * stay short (their comparisons are most of a first sort). The length prefix is itself a digit
 * ("1"–"8", or "9" and three more digits for longer runs), so a number still orders against every
 * other character as its digits did. (Punctuation keeps code-point order, where the collator has its
 * own; cells differ in names and numbers, not in punctuation.)
 */
export function asciiSortKey(s: string): string {
  return s.toLowerCase().replace(/\d+/g, (d) => {
    let i = 0;
    while (i < d.length - 1 && d.charCodeAt(i) === 48) i++;
    const t = i ? d.slice(i) : d;
    return (t.length <= 8 ? String(t.length) : "9" + String(Math.min(t.length, 999)).padStart(3, "0")) + t;
  });
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  // Empty cells sort last in ascending order: they carry no information.
  const as = String(a);
  const bs = String(b);
  if (as === "" && bs !== "") return 1;
  if (bs === "" && as !== "") return -1;
  return collator.compare(as, bs);
}

export class SortKeyTable {
  private readonly slot = new RowSlot<number>();
  private ids = new Map<string | number, number>();
  private values: (string | number)[] = [];
  /** asciiSortKey of each printable-ASCII string key; undefined for numbers and other text */
  private norm: (string | undefined)[] = [];
  private plain = 0;
  /** ids in key order (the first `order.length` ids), and each id's dense rank (equal keys share one) */
  private order: number[] = [];
  private rank = new Int32Array(0);
  private rankCount = 0;
  private orderedWithNorm = true;
  /** times the table was cut back to the keys of the rows held */
  compactions = 0;

  constructor(private readonly key: (row: StoredFlow) => string | number) {}

  get size(): number {
    return this.values.length;
  }

  idOf(row: StoredFlow): number {
    let id = this.slot.get(row);
    if (id === undefined) {
      id = this.intern(this.key(row));
      this.slot.set(row, id);
    }
    return id;
  }

  private intern(k: string | number): number {
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(k, id);
      this.values.push(k);
      // Computed once per distinct key, as it arrives, so the first sort only orders.
      const n = typeof k === "string" && PRINTABLE_ASCII.test(k) ? asciiSortKey(k) : undefined;
      this.norm.push(n);
      if (n !== undefined) this.plain++;
    }
    return id;
  }

  /** Over the limit for `rowsHeld` rows: cut back to the keys `rows` use. */
  compactIfOver(rows: RowSource, rowsHeld = rows.size): boolean {
    if (this.size <= keyLimit(rowsHeld)) return false;
    this.compact(rows);
    return true;
  }

  /**
   * Keep only the keys of `rows`, renumbered; those rows get their new ids, every other row's cached
   * id goes stale (a row evicted meanwhile never needs it; one still held recomputes it on next use).
   */
  compact(rows: RowSource): void {
    const n = rows.size;
    const remap = new Int32Array(this.size).fill(-1);
    const fresh = new Int32Array(n).fill(-1);
    const values: (string | number)[] = [];
    const norm: (string | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      const row = rows.at(i);
      if (!row) continue;
      const id = this.slot.get(row);
      if (id === undefined) continue;
      let nid = remap[id]!;
      if (nid === -1) {
        nid = remap[id] = values.length;
        values.push(this.values[id]!);
        norm.push(this.norm[id]);
      }
      fresh[i] = nid;
    }
    this.slot.invalidate();
    for (let i = 0; i < n; i++) if (fresh[i]! >= 0) this.slot.set(rows.at(i)!, fresh[i]!);
    const ordered = this.order.length === this.size;
    this.values = values;
    this.norm = norm;
    this.plain = norm.reduce((s, x) => s + (x === undefined ? 0 : 1), 0);
    this.ids = new Map(values.map((v, i) => [v, i]));
    // The kept keys keep their relative order, so nothing is compared again.
    this.order = ordered ? this.order.map((id) => remap[id]!).filter((id) => id >= 0) : [];
    this.rank = new Int32Array(0);
    this.rankCount = 0;
    if (ordered) this.assignRanks();
    this.compactions++;
  }

  private comparator(withNorm: boolean): (a: number, b: number) => number {
    const v = this.values;
    if (!withNorm) return (a, b) => compareKeys(v[a]!, v[b]!);
    const norm = this.norm;
    return (a, b) => {
      const x = norm[a]!;
      const y = norm[b]!;
      if (x === y) return 0;
      // Empty cells sort last in ascending order: they carry no information.
      if (x === "") return 1;
      if (y === "") return -1;
      return x < y ? -1 : 1;
    };
  }

  /** Order keys added since the last call (merged into the existing order), then rank them all. */
  private ensureOrder(): void {
    const size = this.size;
    if (this.order.length === size && this.rank.length === size) return;
    // Only printable-ASCII text orders by the plain keys; anything else by the collator, for all keys.
    const withNorm = this.plain === size;
    const cmp = this.comparator(withNorm);
    if (withNorm !== this.orderedWithNorm || this.order.length === 0) {
      this.order = Array.from({ length: size }, (_, i) => i).sort(cmp);
    } else if (this.order.length < size) {
      const added: number[] = [];
      for (let id = this.order.length; id < size; id++) added.push(id);
      added.sort(cmp);
      this.order = merge(this.order, added, cmp);
    }
    this.orderedWithNorm = withNorm;
    this.assignRanks();
  }

  private assignRanks(): void {
    const cmp = this.comparator(this.orderedWithNorm);
    const order = this.order;
    const rank = new Int32Array(this.size);
    let r = 0;
    for (let i = 0; i < order.length; i++) {
      if (i > 0 && cmp(order[i - 1]!, order[i]!) !== 0) r++;
      rank[order[i]!] = r;
    }
    this.rank = rank;
    this.rankCount = order.length ? r + 1 : 0;
  }

  /**
   * Rows newest first → sorted by key; stable, so equal keys keep newest first in either direction
   * and live rows don't shuffle. A counting sort over the keys' ranks: linear in rows + keys.
   */
  sort(rowsNewestFirst: readonly StoredFlow[], dir: "asc" | "desc", rowsHeld = rowsNewestFirst.length): StoredFlow[] {
    const n = rowsNewestFirst.length;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.idOf(rowsNewestFirst[i]!);
    if (this.size > keyLimit(Math.max(n, rowsHeld))) {
      this.compact(rowsOf(rowsNewestFirst));
      for (let i = 0; i < n; i++) ids[i] = this.idOf(rowsNewestFirst[i]!);
    }
    this.ensureOrder();
    const rank = this.rank;
    const ranks = this.rankCount;
    const desc = dir === "desc";
    const starts = new Uint32Array(ranks + 1);
    for (let i = 0; i < n; i++) {
      const r = rank[ids[i]!]!;
      ids[i] = desc ? ranks - 1 - r : r;
      starts[ids[i]! + 1]!++;
    }
    for (let r = 1; r <= ranks; r++) starts[r]! += starts[r - 1]!;
    const out = new Array<StoredFlow>(n);
    for (let i = 0; i < n; i++) out[starts[ids[i]!]!++] = rowsNewestFirst[i]!;
    return out;
  }
}

function merge(a: readonly number[], b: readonly number[], cmp: (x: number, y: number) => number): number[] {
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  // Ties: the older key first, which keeps equal keys' relative order stable across merges.
  while (i < a.length && j < b.length) out[k++] = cmp(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
