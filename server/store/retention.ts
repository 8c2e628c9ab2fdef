// Keeps the history within its bounds (flow count and/or age) by deleting the oldest rows in small
// batches, each its own short transaction. It runs on the writer thread (writer-worker.ts), after each
// commit, so deletes never contend with inserts for the write lock or stall the main thread.
import type Database from "better-sqlite3";

export interface RetentionPolicy {
  maxFlows: number;
  maxAgeMs?: number;
  batch?: number;
  /**
   * An endpoint fragment no stored row uses any more is deleted only once at least this many flows
   * were published after the last one that used it (default 20,480): the stream's ring (16,384
   * flows) may still hold lines made of it, and their rows may be gone already when retention keeps
   * fewer flows than the ring.
   */
  fragmentGraceFlows?: number;
  /**
   * ... and this long after it was dropped from memory and after its last row was deleted (default
   * 60 s): a stuck stream client's queue and a reader that read a row just before retention deleted it
   * still find the fragment.
   */
  fragmentGraceMs?: number;
}

/** a deleted row's endpoint fragment ids (src_ep, dst_ep) */
export type DeletedEndpoints = (src: number | null, dst: number | null) => void;

export class Retention {
  private readonly deleteOldest: Database.Statement;
  private readonly deleteOlderThan: Database.Statement;
  private readonly countStmt: Database.Statement;
  deleted = 0;

  constructor(private readonly db: Database.Database, readonly policy: RetentionPolicy) {
    const batch = policy.batch ?? 5000;
    // RETURNING: the writer thread counts the rows using each endpoint fragment (writer-worker.ts)
    this.deleteOldest = db.prepare(`DELETE FROM flows WHERE id IN (SELECT id FROM flows ORDER BY id ASC LIMIT ?) RETURNING src_ep, dst_ep`).raw();
    this.deleteOlderThan = db.prepare(`DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE time_ms < ? ORDER BY id ASC LIMIT ${batch}) RETURNING src_ep, dst_ep`).raw();
    this.countStmt = db.prepare("SELECT COUNT(*) AS n FROM flows");
  }

  /**
   * One bounded step; returns rows deleted, and tells `onDeleted` each deleted row's endpoint fragments.
   * Call repeatedly (e.g. on a timer) until it returns 0.
   */
  step(storedCount: number, now = Date.now(), onDeleted?: DeletedEndpoints): number {
    const batch = this.policy.batch ?? 5000;
    let removed = 0;
    const excess = storedCount - this.policy.maxFlows;
    if (excess > 0) removed += this.report(this.deleteOldest.all(Math.min(excess, batch)) as [number | null, number | null][], onDeleted);
    if (this.policy.maxAgeMs !== undefined) removed += this.report(this.deleteOlderThan.all(now - this.policy.maxAgeMs) as [number | null, number | null][], onDeleted);
    this.deleted += removed;
    return removed;
  }

  private report(rows: [number | null, number | null][], onDeleted: DeletedEndpoints | undefined): number {
    if (onDeleted) for (const r of rows) onDeleted(r[0], r[1]);
    return rows.length;
  }

  count(): number {
    return (this.countStmt.get() as { n: number }).n;
  }
}
