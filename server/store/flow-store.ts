// The flow history as the rest of the server sees it: ingest from the bus, filtered reads, retention
// and the figures /api/status reports.
import fs from "node:fs";
import Database from "better-sqlite3";
import type { SequencedFlow } from "../bus";
import { openDatabase, type FlowDatabase } from "./database";
import { FlowReader } from "./flow-reader";
import { FlowWriter } from "./flow-writer";
import { Retention, type RetentionPolicy } from "./retention";
import { FragmentRegistry } from "./fragments";
import { upgradeLegacyRows } from "./legacy-upgrade";

export class FlowStore {
  readonly reader: FlowReader;
  readonly writer: FlowWriter;
  readonly retention: Retention;
  /** the shared parts of stored records (see fragments.ts); one registry for every reader and the writer */
  readonly fragments: FragmentRegistry;
  private stored: number;
  private retentionTimer: NodeJS.Timeout | undefined;
  private rateWindow: { t: number; n: number }[] = [];

  private constructor(readonly db: FlowDatabase, policy: RetentionPolicy) {
    this.fragments = new FragmentRegistry(db.sqlite);
    this.reader = new FlowReader(db.sqlite, this.fragments);
    this.writer = new FlowWriter(db.path, this.fragments);
    this.retention = new Retention(db.sqlite, policy);
    this.stored = this.reader.count();
    // Counted from the writer's own report: flushes happen on its timer as well as on demand.
    this.writer.onFlushed((count) => (this.stored += count));
  }

  static async open(path: string, policy: RetentionPolicy): Promise<FlowStore> {
    const db = await openDatabase(path);
    const store = new FlowStore(db, policy);
    try {
      upgradeLegacyRows(db.sqlite, store.fragments, (msg) => console.log(`flow store: ${msg}`));
    } catch (err) {
      await store.close();
      throw err;
    }
    store.stored = store.reader.count();
    return store;
  }

  ingest(batch: readonly SequencedFlow[]): void {
    this.writer.enqueue(batch);
    const now = Date.now();
    this.rateWindow.push({ t: now, n: batch.length });
    while (this.rateWindow.length && this.rateWindow[0]!.t < now - 10_000) this.rateWindow.shift();
  }

  /** flows written so far plus those waiting (what a reader will see once the writer flushes). */
  storedFlows(): number {
    return this.stored + this.writer.lag;
  }

  ingestRate(): number {
    const n = this.rateWindow.reduce((s, w) => s + w.n, 0);
    return n / 10;
  }

  flush(): void {
    this.writer.flush();
  }

  startRetention(intervalMs = 1000): void {
    const tick = () => {
      this.flush();
      // A few bounded steps per tick: catches up after a burst without holding the database.
      for (let i = 0; i < 20; i++) {
        const removed = this.retention.step(this.stored);
        this.stored -= removed;
        if (removed === 0) break;
      }
    };
    this.retentionTimer = setInterval(tick, intervalMs);
    this.retentionTimer.unref();
  }

  /**
   * A reader on its own read-only connection with a small page cache, for scans that touch every page
   * (export, bundles): they neither evict the hot pages ingest needs nor grow memory with the history.
   */
  openScanReader(): { reader: FlowReader; close(): void } {
    const conn = new Database(this.db.path, { readonly: true, fileMustExist: true });
    conn.pragma("cache_size = -8192");
    conn.pragma("busy_timeout = 5000");
    return { reader: new FlowReader(conn, this.fragments), close: () => conn.close() };
  }

  databaseBytes(): number {
    let total = 0;
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        total += fs.statSync(this.db.path + suffix).size;
      } catch {
        // the WAL and SHM files come and go
      }
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.writer.close();
    await this.db.close();
  }
}
