// Batched ingest: flows from the bus queue up and are written in one transaction per batch through a
// prepared statement (an order of magnitude faster than Prisma's createMany, see ENVIRONMENT.md), so
// the datapath never waits on the disk.
import type Database from "better-sqlite3";
import type { SequencedFlow } from "../bus";
import { flowToRow, ROW_COLUMNS, type FlowRow } from "./row";

export interface WriterOptions {
  flushIntervalMs?: number;
  maxBatch?: number;
}

export class FlowWriter {
  private pending: SequencedFlow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly insertMany: (rows: FlowRow[]) => number;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  written = 0;
  /** flows given up on because the database refused writes for so long that the queue hit its bound */
  dropped = 0;
  lastError: string | undefined;
  /** while the database refuses writes, at most this many flows wait in memory */
  private readonly maxPending = 500_000;
  private flushedListeners: ((count: number, lastId: number) => void)[] = [];

  constructor(private readonly db: Database.Database, opts: WriterOptions = {}) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.maxBatch = opts.maxBatch ?? 5000;
    const cols = ROW_COLUMNS.join(", ");
    const vals = ROW_COLUMNS.map(() => "?").join(", ");
    // OR IGNORE: a re-imported flow (same uuid) must not abort the whole batch.
    const insert = db.prepare(`INSERT OR IGNORE INTO flows (${cols}) VALUES (${vals})`);
    // Positional parameters bind ~30% faster than named ones for 39 columns.
    const n = ROW_COLUMNS.length;
    const args: unknown[] = new Array(n);
    this.insertMany = db.transaction((rows: FlowRow[]) => {
      let inserted = 0;
      for (const r of rows) {
        for (let i = 0; i < n; i++) args[i] = r[ROW_COLUMNS[i]!];
        inserted += insert.run(args).changes;
      }
      return inserted;
    });
  }

  enqueue(batch: readonly SequencedFlow[]): void {
    for (const f of batch) this.pending.push(f);
    if (this.pending.length >= this.maxBatch) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
  }

  get lag(): number {
    return this.pending.length;
  }

  onFlushed(listener: (count: number, lastId: number) => void): void {
    this.flushedListeners.push(listener);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const rows = batch.map((f) => flowToRow(f.id, f.envelope, f.json));
    try {
      const inserted = this.insertMany(rows);
      this.written += inserted;
      this.lastError = undefined;
      const lastId = batch[batch.length - 1]!.id;
      for (const l of this.flushedListeners) l(inserted, lastId);
    } catch (err) {
      // Keep the flows and retry on the next tick rather than lose them (e.g. SQLITE_BUSY from a reader).
      this.lastError = (err as Error).message;
      this.pending = batch.concat(this.pending);
      if (this.pending.length > this.maxPending) {
        const excess = this.pending.length - this.maxPending;
        this.pending.splice(0, excess);
        this.dropped += excess;
        console.error(`flow store: database writes failing (${this.lastError}); dropped the oldest ${excess} unwritten flows`);
      }
      if (!this.timer) this.timer = setTimeout(() => this.flush(), 500);
    }
  }

  close(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
  }
}
