// The table's rows: a bounded, append-only buffer of stored flows, newest first when read. Appending
// is O(batch) and reading row i is O(1), so thousands of flows a second never copy 100k rows.
import type { StoredFlow } from "../api-types";
import { rowTimeKey } from "./time-key";

/** Row ids are decimal strings of a growing integer: compare by length, then text. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FlowStore {
  readonly capacity: number;
  /** oldest → newest; `start` is the first live slot (trimmed rows are dropped lazily) */
  private buf: StoredFlow[] = [];
  private start = 0;
  private byId = new Map<string, StoredFlow>();
  /** bumps on every change so React can memoise on it */
  version = 0;
  /** flows dropped from the oldest end to stay within capacity */
  evicted = 0;
  /**
   * neighbouring rows (in stored order) whose record times run backwards: 0 while stored order is
   * time order (live flows), more once older flows were imported after newer ones
   */
  private inversions = 0;

  constructor(capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`FlowStore capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.buf.length - this.start;
  }

  newestId(): string | undefined {
    return this.size ? this.buf[this.buf.length - 1]!.id : undefined;
  }

  oldestId(): string | undefined {
    return this.size ? this.buf[this.start]!.id : undefined;
  }

  /** true while the stored order (newest stored first) is also newest record time first */
  inTimeOrder(): boolean {
    return this.inversions === 0;
  }

  /** Before the oldest row leaves: the pair it formed with the next one goes with it. */
  private leaving(): void {
    if (this.inversions > 0 && this.start + 1 < this.buf.length && inverted(this.buf[this.start]!, this.buf[this.start + 1]!)) this.inversions--;
  }

  /** Row i counted from the newest (0 = newest). */
  at(i: number): StoredFlow | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.buf[this.buf.length - 1 - i];
  }

  get(id: string): StoredFlow | undefined {
    return this.byId.get(id);
  }

  /**
   * Add flows in any order. Newer than the newest are appended; older ones (a history page arriving
   * after live flows) are merged in order. Duplicates are ignored. Returns how many were added.
   */
  add(flows: readonly StoredFlow[]): number {
    if (flows.length === 0) return 0;
    const fresh: StoredFlow[] = [];
    for (const f of flows) {
      if (!f || typeof f.id !== "string" || this.byId.has(f.id)) continue;
      this.byId.set(f.id, f);
      fresh.push(f);
    }
    if (fresh.length === 0) return 0;
    fresh.sort((a, b) => compareIds(a.id, b.id));
    const newest = this.newestId();
    if (newest === undefined || compareIds(fresh[0]!.id, newest) > 0) {
      for (const f of fresh) {
        if (this.size > 0 && inverted(this.buf[this.buf.length - 1]!, f)) this.inversions++;
        this.buf.push(f);
      }
    } else {
      this.replaceRows(mergeSorted(this.buf.slice(this.start), fresh));
    }
    this.trim();
    this.version++;
    return fresh.length;
  }

  /**
   * Drops the rows stamped before `cutoffMs` (a sliding window's start). In time order (live flows) they
   * are the oldest stored, dropped from that end up to the first inside the window; after an import
   * stored older flows after newer ones, every row is checked. Returns how many were dropped; unlike
   * the capacity bound, these are not counted as evicted.
   */
  dropOlderThan(cutoffMs: number): number {
    if (this.inversions > 0) return this.dropEveryOlderThan(cutoffMs);
    let n = 0;
    while (this.start < this.buf.length) {
      const f = this.buf[this.start]!;
      const t = Date.parse(f.flow.time ?? "");
      if (!(t < cutoffMs)) break;
      this.leaving();
      this.byId.delete(f.id);
      this.buf[this.start] = undefined as unknown as StoredFlow;
      this.start++;
      n++;
    }
    if (this.start >= this.capacity || this.start === this.buf.length) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
    if (n) this.version++;
    return n;
  }

  /** dropOlderThan for rows out of time order: one pass over them all, then the inversions afresh */
  private dropEveryOlderThan(cutoffMs: number): number {
    const kept: StoredFlow[] = [];
    let n = 0;
    for (let i = this.start; i < this.buf.length; i++) {
      const f = this.buf[i]!;
      if (Date.parse(f.flow.time ?? "") < cutoffMs) {
        this.byId.delete(f.id);
        n++;
      } else kept.push(f);
    }
    if (n === 0) return 0;
    this.replaceRows(kept);
    this.version++;
    return n;
  }

  /** Stores `rows` (oldest first) in place of every row, and counts their inversions afresh. */
  private replaceRows(rows: StoredFlow[]): void {
    this.buf = rows;
    this.start = 0;
    this.inversions = 0;
    for (let i = 1; i < rows.length; i++) if (inverted(rows[i - 1]!, rows[i]!)) this.inversions++;
  }

  clear(): void {
    this.inversions = 0;
    this.buf = [];
    this.start = 0;
    this.byId.clear();
    this.version++;
  }

  /** Newest-first copy; for sorting and filtering (O(n)). */
  toArray(): StoredFlow[] {
    const out = new Array<StoredFlow>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.buf[this.buf.length - 1 - i]!;
    return out;
  }

  private trim(): void {
    let over = this.size - this.capacity;
    if (over <= 0) return;
    this.evicted += over;
    while (over-- > 0) {
      this.leaving();
      this.byId.delete(this.buf[this.start]!.id);
      // the evicted flow is let go now (a flow and its cached row are kilobytes); only its slot waits
      this.buf[this.start] = undefined as unknown as StoredFlow;
      this.start++;
    }
    // Compact the slots once the dead prefix is as long as the live part: ≤ 2× capacity pointers.
    if (this.start >= this.capacity) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
  }
}

function mergeSorted(a: StoredFlow[], b: StoredFlow[]): StoredFlow[] {
  const out: StoredFlow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(compareIds(a[i]!.id, b[j]!.id) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** `later` (stored after `earlier`) carries an older record time */
function inverted(earlier: StoredFlow, later: StoredFlow): boolean {
  return rowTimeKey(later) < rowTimeKey(earlier);
}
