// Keeps the history within its bounds (flow count and/or age) by deleting the oldest rows in small
// batches, each its own short transaction. It runs on the writer thread (writer-worker.ts), after each
// inserted batch, so deletes never contend with inserts for the write lock or stall the main thread.
import type Database from "better-sqlite3";

export interface RetentionPolicy {
  maxFlows: number;
  maxAgeMs?: number;
  batch?: number;
}

export class Retention {
  private readonly deleteOldest: Database.Statement;
  private readonly deleteOlderThan: Database.Statement;
  private readonly countStmt: Database.Statement;
  deleted = 0;

  constructor(private readonly db: Database.Database, readonly policy: RetentionPolicy) {
    const batch = policy.batch ?? 5000;
    this.deleteOldest = db.prepare(`DELETE FROM flows WHERE id IN (SELECT id FROM flows ORDER BY id ASC LIMIT ?)`);
    this.deleteOlderThan = db.prepare(`DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE time_ms < ? ORDER BY id ASC LIMIT ${batch})`);
    this.countStmt = db.prepare("SELECT COUNT(*) AS n FROM flows");
  }

  /** One bounded step; returns rows deleted. Call repeatedly (e.g. on a timer) until it returns 0. */
  step(storedCount: number, now = Date.now()): number {
    const batch = this.policy.batch ?? 5000;
    let removed = 0;
    const excess = storedCount - this.policy.maxFlows;
    if (excess > 0) removed += this.deleteOldest.run(Math.min(excess, batch)).changes;
    if (this.policy.maxAgeMs !== undefined) removed += this.deleteOlderThan.run(now - this.policy.maxAgeMs).changes;
    this.deleted += removed;
    return removed;
  }

  count(): number {
    return (this.countStmt.get() as { n: number }).n;
  }
}
