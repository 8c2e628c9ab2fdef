// The SQLite writer thread: batches of rows from the main thread are inserted in one transaction each,
// and retention deletes the oldest rows right after. Every write to `flows` happens here, on one
// connection: the main thread (datapath, stream, API) never waits for SQLite's write lock, and on a
// 2-core machine the two run side by side. Progress is published in shared memory so the main thread
// can wait for "everything sent so far is committed" without a round trip through its event loop.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import { INSERT_ROW_SQL } from "./row";
import { INSERT_FRAGMENT_SQL, type FragmentRow } from "./fragments";
import { Retention, type RetentionPolicy } from "./retention";

export interface WriterWorkerData {
  entry: string;
  dbPath: string;
  /** Int32Array view: [0] = sequence number of the last batch handled (committed or failed) */
  progress: SharedArrayBuffer;
  /** where batch results go (the main thread can drain it synchronously) */
  replies: MessagePort;
  retention: RetentionPolicy;
}

/** rows as column values in ROW_COLUMNS order, and the fragments they are the first to use */
export type WriterRequest = { seq: number; rows: unknown[][]; fragments: FragmentRow[] };
/** `stored`: rows in the table after this batch and the retention that followed it */
export type WriterReply = { seq: number; inserted: number; deleted: number; stored: number; error?: string };
/** the table's row count as the writer thread knows it, before any batch */
export type WriterHello = { stored: number };

const { dbPath, progress, replies, retention: policy } = workerData as WriterWorkerData;
const done = new Int32Array(progress);
const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
// NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
// Index pages for a few hundred thousand recent rows stay cached: measured ~1.4x faster inserts than 64 MB.
db.pragma("cache_size = -131072");

const insert = db.prepare(INSERT_ROW_SQL);
const insertFragment = db.prepare(INSERT_FRAGMENT_SQL);
const insertMany = db.transaction((rows: unknown[][], fragments: FragmentRow[]) => {
  // in the same transaction as the rows: a committed row never refers to a missing fragment
  for (const f of fragments) insertFragment.run(f);
  let inserted = 0;
  for (const r of rows) inserted += insert.run(r).changes;
  return inserted;
});

const retention = new Retention(db, policy);
let stored = retention.count();
replies.postMessage({ stored } satisfies WriterHello);

/** Deletes what retention asks for, in short transactions of its own; returns rows deleted. */
function applyRetention(): number {
  let deleted = 0;
  for (;;) {
    const n = retention.step(stored);
    stored -= n;
    deleted += n;
    if (n === 0) return deleted;
  }
}

// Age limits apply even when nothing is ingested.
if (policy.maxAgeMs !== undefined) {
  setInterval(() => {
    try {
      const deleted = applyRetention();
      if (deleted) replies.postMessage({ seq: -1, inserted: 0, deleted, stored } satisfies WriterReply);
    } catch (err) {
      console.error(`flow store: retention failed: ${(err as Error).message}`);
    }
  }, 1000).unref();
}

parentPort!.on("message", (msg: WriterRequest | { close: true }) => {
  if ("close" in msg) {
    db.close();
    parentPort!.postMessage({ closed: true });
    return;
  }
  let reply: WriterReply;
  try {
    const inserted = insertMany(msg.rows, msg.fragments);
    stored += inserted;
    let deleted = 0;
    try {
      deleted = applyRetention();
    } catch (err) {
      // the rows are committed; retention tries again after the next batch
      console.error(`flow store: retention failed: ${(err as Error).message}`);
    }
    reply = { seq: msg.seq, inserted, deleted, stored };
  } catch (err) {
    reply = { seq: msg.seq, inserted: 0, deleted: 0, stored, error: (err as Error).message };
  }
  // The reply is queued before progress is published, so a flush() that sees the progress finds it.
  replies.postMessage(reply);
  Atomics.store(done, 0, msg.seq);
  Atomics.notify(done, 0);
});
