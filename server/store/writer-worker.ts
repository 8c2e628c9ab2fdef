// The SQLite writer thread: batches of rows from the main thread are inserted in one transaction each,
// and retention deletes the oldest rows right after. Every write to `flows` happens here, on one
// connection: the main thread (datapath, stream, API) never waits for SQLite's write lock, and on a
// 2-core machine the two run side by side. Progress is published in shared memory so the main thread
// can wait for "everything sent so far is committed" without a round trip through its event loop.
//
// It also deletes endpoint fragments (fragments.ts) nothing uses any more. It counts, per endpoint
// fragment, the stored rows using it (src_ep, dst_ep: the only columns that refer to endpoints): counted
// once at start, then up on each insert and down on each retention delete. The main thread hands over
// the ids it dropped from memory (WriterCollect); such an id is never used by a new row, so once its
// count is zero it stays zero, and after a grace period (see RetentionPolicy) its fragment is deleted.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import { INSERT_ROW_SQL, ROW_COLUMNS } from "./row";
import { INSERT_FRAGMENT_SQL, type FragmentRow } from "./fragments";
import { Retention, type RetentionPolicy } from "./retention";
import { MAX_KNOWN_NODES } from "./known-nodes";

export interface WriterWorkerData {
  entry: string;
  dbPath: string;
  /** Int32Array view: [0] = sequence number of the last batch handled (committed or failed) */
  progress: SharedArrayBuffer;
  /** where batch results go (the main thread can drain it synchronously) */
  replies: MessagePort;
  retention: RetentionPolicy;
  /** the endpoint fragments the main thread holds in memory at start; every other one stored is collectable */
  liveEndpoints: number[];
}

/** rows as column values in ROW_COLUMNS order, and the fragments they are the first to use */
export type WriterRequest = { seq: number; rows: unknown[][]; fragments: FragmentRow[] };
/**
 * `stored`: rows in the table after this batch and the retention that followed it. `settled`: the
 * batches (by seq) this thread is done with, committed or given up on; a batch that failed is kept here
 * and tried again (before any newer one), so it settles later. `dropped`: rows given up on (the oldest,
 * once more than MAX_QUEUED wait because the database keeps refusing writes). `queued`: rows waiting
 * for a retry.
 */
export type WriterReply = {
  seq: number;
  inserted: number;
  deleted: number;
  stored: number;
  settled: number[];
  dropped: number;
  queued: number;
  error?: string;
  fragmentsDeleted?: number;
};
/**
 * endpoint fragment ids the main thread dropped from memory, to delete once no stored row uses them;
 * `lastId`: the newest flow encoded when they were dropped, `at`: when (ms since the epoch)
 */
export type WriterCollect = { seq: number; collect: number[]; lastId: number; at: number };
/**
 * the table's row count as the writer thread knows it, before any batch, and the node names of the
 * rows stored (at most MAX_KNOWN_NODES of them)
 */
export type WriterHello = { stored: number; nodes: string[] };

const { dbPath, progress, replies, retention: policy, liveEndpoints } = workerData as WriterWorkerData;
const done = new Int32Array(progress);
const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
// NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
// Index pages for a few hundred thousand recent rows stay cached: measured ~1.4x faster inserts than 64 MB.
db.pragma("cache_size = -131072");

const ID = ROW_COLUMNS.indexOf("id");
const SRC_EP = ROW_COLUMNS.indexOf("src_ep");
const DST_EP = ROW_COLUMNS.indexOf("dst_ep");
const graceFlows = policy.fragmentGraceFlows ?? 20_480;
const graceMs = policy.fragmentGraceMs ?? 60_000;

/** stored rows using each endpoint fragment (ids no row uses are absent) */
const uses = new Map<number, number>();
/** collected ids that stored rows still use: their fragment goes when the last of those rows does */
const collected = new Set<number>();
/** collections waiting for their grace (in the order they came, so oldest first) */
const waiting: { ids: number[]; lastId: number; at: number }[] = [];
/** collected ids no row uses, and since when (in time order): deleted once graceMs have passed */
let unused: number[] = [];
let unusedSince: number[] = [];
/** newest flow id stored (ids only grow) */
let newestId = 0;

function use(id: number | null): void {
  if (id !== null) uses.set(id, (uses.get(id) ?? 0) + 1);
}

function release(id: number | null): void {
  if (id === null) return;
  const n = uses.get(id);
  if (n === undefined) return;
  if (n > 1) uses.set(id, n - 1);
  else {
    uses.delete(id);
    if (collected.delete(id)) {
      unused.push(id);
      unusedSince.push(Date.now());
    }
  }
}

const deleteFragment = db.prepare("DELETE FROM fragments WHERE id = ?");
/** one short transaction per part */
const deleteFragmentsPart = db.transaction((ids: number[]) => {
  let n = 0;
  // a collected id's count cannot grow again; checked all the same
  for (const id of ids) if (!uses.has(id)) n += deleteFragment.run(id).changes;
  return n;
});
let fragmentsDeleted = 0;

function deleteFragments(ids: number[]): void {
  for (let i = 0; i < ids.length; i += 500) {
    try {
      fragmentsDeleted += deleteFragmentsPart(ids.slice(i, i + 500));
    } catch (err) {
      // e.g. SQLITE_BUSY: try those again on a later sweep
      console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
      const now = Date.now();
      for (const id of ids.slice(i)) {
        unused.push(id);
        unusedSince.push(now);
      }
      return;
    }
  }
}

/** Moves collections past their grace on, and deletes the fragments that have been unused long enough. */
function sweep(now = Date.now()): void {
  while (waiting.length && newestId - waiting[0]!.lastId >= graceFlows && now - waiting[0]!.at >= graceMs) {
    for (const id of waiting.shift()!.ids) {
      if (uses.has(id)) collected.add(id);
      else {
        // its last row may have been deleted just now: a reader may hold that row still
        unused.push(id);
        unusedSince.push(now);
      }
    }
  }
  let n = 0;
  while (n < unused.length && unusedSince[n]! <= now - graceMs) n++;
  if (n === 0) return;
  const ids = unused.slice(0, n);
  unused = unused.slice(n);
  unusedSince = unusedSince.slice(n);
  deleteFragments(ids);
}

/** rows of the current batch that were inserted (not ignored): counted once the transaction commits */
let added: unknown[][] = [];
const insert = db.prepare(INSERT_ROW_SQL);
const insertFragment = db.prepare(INSERT_FRAGMENT_SQL);
const insertMany = db.transaction((rows: unknown[][], fragments: FragmentRow[]) => {
  // in the same transaction as the rows: a committed row never refers to a missing fragment
  for (const f of fragments) insertFragment.run(f);
  added = [];
  for (const r of rows) if (insert.run(r).changes) added.push(r);
  return added.length;
});

/**
 * Batches the database refused (e.g. SQLITE_BUSY behind a long reader), oldest first: kept here rather
 * than sent back, so the main thread holds no row past its hand-over (rows it kept for a retry survived
 * its young-generation collections and were copied, measured as a large part of ingest's GC time).
 */
const queue: WriterRequest[] = [];
let queuedRows = 0;
/** while the database refuses writes, at most this many rows wait; the oldest go first */
const MAX_QUEUED = 500_000;
/** fragments of rows given up on: the main thread already hands out their ids, so they are stored anyway */
let orphanFragments: FragmentRow[] = [];
let retryTimer: NodeJS.Timeout | undefined;

let startRows = 0;
const startNodes = new Set<string>();
// Count the rows using each endpoint fragment; the stored endpoints the main thread did not load are
// out of its memory for good: delete those no row uses (none of this process's lines was made of
// them), and collect the others.
{
  // Through a connection of its own with a small page cache: this reads every row once, and through the
  // writer's connection it would fill that connection's 128 MB cache with pages ingest never needs.
  const scan = new Database(dbPath, { readonly: true, fileMustExist: true });
  scan.pragma("cache_size = -4096");
  try {
    for (const [s, d, node] of scan.prepare("SELECT src_ep, dst_ep, node_name FROM flows").raw().iterate() as IterableIterator<[number | null, number | null, string]>) {
      use(s);
      use(d);
      // one more than the bound: the main thread then knows the list is not complete
      if (startNodes.size <= MAX_KNOWN_NODES) startNodes.add(node);
      // the row count, read here rather than by COUNT(*) on the writer's connection, whose large
      // cache would keep every index page that count touched
      startRows++;
    }
  } finally {
    scan.close();
  }
  newestId = (db.prepare("SELECT MAX(id) AS id FROM flows").get() as { id: number | null }).id ?? 0;
  const live = new Set(liveEndpoints);
  const orphans: number[] = [];
  for (const [id] of db.prepare("SELECT id FROM fragments WHERE kind = 'endpoint'").raw().iterate() as IterableIterator<[number]>) {
    if (live.has(id)) continue;
    if (uses.has(id)) collected.add(id);
    else orphans.push(id);
  }
  deleteFragments(orphans);
}

const retention = new Retention(db, policy);
let stored = startRows;
replies.postMessage({ stored, nodes: [...startNodes] } satisfies WriterHello);
startNodes.clear();

/** Deletes what retention asks for, in short transactions of its own; returns rows deleted. */
function applyRetention(): number {
  let deleted = 0;
  for (;;) {
    const n = retention.step(stored, Date.now(), (s, d) => {
      release(s);
      release(d);
    });
    stored -= n;
    deleted += n;
    if (n === 0) return deleted;
  }
}

// Fragments wait out their grace even when nothing is ingested.
setInterval(() => {
  if (waiting.length === 0 && unused.length === 0) return;
  try {
    sweep();
  } catch (err) {
    console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
  }
}, 1000).unref();

// Age limits apply even when nothing is ingested.
if (policy.maxAgeMs !== undefined) {
  setInterval(() => {
    try {
      const deleted = applyRetention();
      if (deleted) replies.postMessage({ seq: -1, inserted: 0, deleted, stored, settled: [], dropped: 0, queued: queuedRows, fragmentsDeleted } satisfies WriterReply);
    } catch (err) {
      console.error(`flow store: retention failed: ${(err as Error).message}`);
    }
  }, 1000).unref();
}

/**
 * Inserts the queued batches in order, one transaction each, until one fails (it and those after it
 * wait for a retry), then applies retention. `seq`: the message this answers.
 */
function drain(seq: number): WriterReply {
  if (retryTimer) {
    clearTimeout(retryTimer);
    retryTimer = undefined;
  }
  const settled: number[] = [];
  let inserted = 0;
  let committed = false;
  let error: string | undefined;
  while (queue.length) {
    const batch = queue[0]!;
    try {
      const fragments = orphanFragments.length ? orphanFragments.concat(batch.fragments) : batch.fragments;
      const n = insertMany(batch.rows, fragments);
      orphanFragments = [];
      for (const r of added) {
        use(r[SRC_EP] as number | null);
        use(r[DST_EP] as number | null);
        if ((r[ID] as number) > newestId) newestId = r[ID] as number;
      }
      added = [];
      inserted += n;
      stored += n;
      committed = true;
    } catch (err) {
      error = (err as Error).message;
      break;
    }
    queue.shift();
    queuedRows -= batch.rows.length;
    settled.push(batch.seq);
  }
  let dropped = 0;
  if (queuedRows > MAX_QUEUED) {
    let excess = queuedRows - MAX_QUEUED;
    while (excess > 0) {
      const oldest = queue[0]!;
      if (oldest.rows.length <= excess) {
        queue.shift();
        orphanFragments.push(...oldest.fragments);
        settled.push(oldest.seq);
        excess -= oldest.rows.length;
        dropped += oldest.rows.length;
        queuedRows -= oldest.rows.length;
      } else {
        oldest.rows.splice(0, excess);
        dropped += excess;
        queuedRows -= excess;
        excess = 0;
      }
    }
    console.error(`flow store: database writes failing (${error}); dropped the oldest ${dropped} unwritten flows`);
  }
  if (queue.length) retryTimer = setTimeout(retryQueued, 500);
  let deleted = 0;
  if (committed) {
    try {
      deleted = applyRetention();
    } catch (err) {
      // the rows are committed; retention tries again after the next batch
      console.error(`flow store: retention failed: ${(err as Error).message}`);
    }
  }
  try {
    sweep();
  } catch (err) {
    console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
  }
  return { seq, inserted, deleted, stored, settled, dropped, queued: queuedRows, fragmentsDeleted, ...(error !== undefined ? { error } : {}) };
}

/** a retry with no new batch to carry it: answered as seq -1, which the main thread waits for nothing on */
function retryQueued(): void {
  retryTimer = undefined;
  replies.postMessage(drain(-1));
}

parentPort!.on("message", (msg: WriterRequest | WriterCollect | { close: true }) => {
  if ("close" in msg) {
    if (queue.length) replies.postMessage(drain(-1));
    if (retryTimer) clearTimeout(retryTimer);
    db.close();
    parentPort!.postMessage({ closed: true });
    return;
  }
  if ("collect" in msg) {
    waiting.push({ ids: msg.collect, lastId: msg.lastId, at: msg.at });
    try {
      sweep();
    } catch (err) {
      console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
    }
    replies.postMessage({ seq: msg.seq, inserted: 0, deleted: 0, stored, settled: [], dropped: 0, queued: queuedRows, fragmentsDeleted } satisfies WriterReply);
    Atomics.store(done, 0, msg.seq);
    Atomics.notify(done, 0);
    return;
  }
  queue.push(msg);
  queuedRows += msg.rows.length;
  const reply = drain(msg.seq);
  // The reply is queued before progress is published, so a flush() that sees the progress finds it.
  replies.postMessage(reply);
  Atomics.store(done, 0, msg.seq);
  Atomics.notify(done, 0);
});
