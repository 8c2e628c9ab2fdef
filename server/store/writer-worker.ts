// The SQLite writer thread: batches of rows from the main thread are inserted into a transaction kept
// open until it holds a few thousand rows or a tenth of a second has passed (or a flush asks), and
// retention deletes the oldest rows right after each commit. Every write to `flows` happens here, on one
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

/**
 * A batch: rows as column values in ROW_COLUMNS order, `count` of them, and the fragments they are the
 * first to use. `urgent`: commit now (a flush waits for it).
 */
export type WriterRequest = { seq: number; rows: unknown[][]; count: number; fragments: FragmentRow[]; urgent?: boolean };
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

const insert = db.prepare(INSERT_ROW_SQL);
const insertFragment = db.prepare(INSERT_FRAGMENT_SQL);

type Batch = WriterRequest;

/**
 * Batches the database refused (e.g. SQLITE_BUSY behind a long reader), oldest first, and those that
 * came after them: kept here rather than sent back, so the main thread holds no row past its hand-over.
 */
const queue: Batch[] = [];
let queuedRows = 0;
/** while the database refuses writes, at most this many rows wait; the oldest go first */
const MAX_QUEUED = 500_000;
/** fragments of rows given up on: the main thread already hands out their ids, so they are stored anyway */
let orphanFragments: FragmentRow[] = [];
let retryTimer: NodeJS.Timeout | undefined;

/**
 * The transaction batches are inserted in, left open across batches until it holds
 * MIN_TRANSACTION_ROWS rows, its first row has waited HOLD_MS, or a flush asks for everything. A row
 * costs the writer about a third less in 4,000-row transactions than in the 500-row batches the main
 * thread sends (measured: ~28 µs in 500-row transactions, ~19 µs in 5,000-row ones): the B-tree pages a
 * transaction touches are written to the WAL once per commit. Until the commit its batches are kept,
 * to be inserted again if the transaction fails (measured: keeping them cost no throughput).
 */
interface OpenTransaction {
  batches: Batch[];
  rows: number;
  since: number;
  inserted: number;
  /** endpoint fragment ids of the rows inserted, counted as used once the transaction commits */
  endpoints: (number | null)[];
  newest: number;
  /** orphan fragments this transaction stored */
  orphans: FragmentRow[];
}
let open: OpenTransaction | undefined;
const MIN_TRANSACTION_ROWS = 4_000;
const HOLD_MS = 100;
let holdTimer: NodeJS.Timeout | undefined;

/** Inserts the queued batches into the open transaction (begun if need be); a failure rolls it back. */
function insertQueued(): string | undefined {
  while (queue.length) {
    const batch = queue[0]!;
    try {
      if (!open) {
        db.exec("BEGIN IMMEDIATE");
        open = { batches: [], rows: 0, since: Date.now(), inserted: 0, endpoints: [], newest: 0, orphans: [] };
      }
      // in the same transaction as the rows: a committed row never refers to a missing fragment
      for (const f of orphanFragments) insertFragment.run(f);
      open.orphans.push(...orphanFragments);
      orphanFragments = [];
      for (const f of batch.fragments) insertFragment.run(f);
      for (const r of batch.rows) {
        if (!insert.run(r).changes) continue;
        open.inserted++;
        open.endpoints.push(r[SRC_EP] as number | null, r[DST_EP] as number | null);
        if ((r[ID] as number) > open.newest) open.newest = r[ID] as number;
      }
    } catch (err) {
      rollback();
      return (err as Error).message;
    }
    queue.shift();
    queuedRows -= batch.count;
    open.batches.push(batch);
    open.rows += batch.count;
  }
  return undefined;
}

/** Undoes the open transaction: its batches go back to the front of the queue, to be inserted again. */
function rollback(): void {
  try {
    if (db.inTransaction) db.exec("ROLLBACK");
  } catch (err) {
    // SQLite may have rolled back by itself already (e.g. on SQLITE_FULL)
    console.error(`flow store: rollback failed: ${(err as Error).message}`);
  }
  if (!open) return;
  queue.unshift(...open.batches);
  for (const b of open.batches) queuedRows += b.count;
  orphanFragments = open.orphans.concat(orphanFragments);
  open = undefined;
}

/** Commits the open transaction; returns the batches it settled, or the error (they wait for a retry). */
function commit(): { settled: number[]; inserted: number } | { error: string } {
  if (holdTimer) {
    clearTimeout(holdTimer);
    holdTimer = undefined;
  }
  if (!open) return { settled: [], inserted: 0 };
  try {
    db.exec("COMMIT");
  } catch (err) {
    rollback();
    return { error: (err as Error).message };
  }
  const t = open;
  open = undefined;
  for (const id of t.endpoints) use(id);
  if (t.newest > newestId) newestId = t.newest;
  stored += t.inserted;
  return { settled: t.batches.map((b) => b.seq), inserted: t.inserted };
}

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

// Fragments wait out their grace even when nothing is ingested (and never inside the open
// transaction: a rollback would undo deletes already counted).
setInterval(() => {
  if (open || (waiting.length === 0 && unused.length === 0)) return;
  try {
    sweep();
  } catch (err) {
    console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
  }
}, 1000).unref();

// Age limits apply even when nothing is ingested (after each commit otherwise).
if (policy.maxAgeMs !== undefined) {
  setInterval(() => {
    if (open) return;
    try {
      const deleted = applyRetention();
      if (deleted) replies.postMessage({ seq: -1, inserted: 0, deleted, stored, settled: [], dropped: 0, queued: queuedRows, fragmentsDeleted } satisfies WriterReply);
    } catch (err) {
      console.error(`flow store: retention failed: ${(err as Error).message}`);
    }
  }, 1000).unref();
}

/**
 * Drops the oldest waiting rows beyond MAX_QUEUED (the database has been refusing writes): how many,
 * and the batches given up on whole (settled without being written).
 */
function dropExcess(): { dropped: number; settled: number[] } {
  let excess = queuedRows - MAX_QUEUED;
  let dropped = 0;
  const settled: number[] = [];
  while (excess > 0 && queue.length) {
    const oldest = queue[0]!;
    if (oldest.count <= excess) {
      queue.shift();
      orphanFragments.push(...oldest.fragments);
      settled.push(oldest.seq);
      excess -= oldest.count;
      dropped += oldest.count;
      queuedRows -= oldest.count;
    } else {
      oldest.rows.splice(0, excess);
      oldest.count = oldest.rows.length;
      dropped += excess;
      queuedRows -= excess;
      excess = 0;
    }
  }
  return { dropped, settled };
}

/**
 * Inserts what is queued into the open transaction, and commits it if `now` or once it is large or old
 * enough (otherwise a timer will); after a commit applies retention. Once the rows received are
 * committed or refused, answers (as `seq`) and publishes progress; while they are only held, says nothing.
 */
function step(seq: number, now: boolean): void {
  if (retryTimer) {
    clearTimeout(retryTimer);
    retryTimer = undefined;
  }
  let error = insertQueued();
  let settled: number[] = [];
  let inserted = 0;
  let committed = false;
  if (error === undefined && open) {
    if (now || open.rows >= MIN_TRANSACTION_ROWS || Date.now() - open.since >= HOLD_MS) {
      const c = commit();
      if ("error" in c) error = c.error;
      else {
        settled = c.settled;
        inserted = c.inserted;
        committed = true;
      }
    } else {
      holdTimer ??= setTimeout(() => step(-1, true), HOLD_MS - (Date.now() - open.since));
      // nothing to answer yet: the rows are neither committed nor refused
      return;
    }
  }
  let dropped = 0;
  if (queuedRows > MAX_QUEUED) {
    const given = dropExcess();
    dropped = given.dropped;
    settled.push(...given.settled);
    console.error(`flow store: database writes failing (${error}); dropped the oldest ${dropped} unwritten flows`);
  }
  if (queue.length) retryTimer = setTimeout(() => step(-1, true), 500);
  let deleted = 0;
  if (committed) {
    try {
      deleted = applyRetention();
    } catch (err) {
      // the rows are committed; retention tries again after the next commit
      console.error(`flow store: retention failed: ${(err as Error).message}`);
    }
    try {
      sweep();
    } catch (err) {
      console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
    }
  }
  // The answer is queued before progress is published, so a flush() that sees the progress finds it.
  replies.postMessage({ seq, inserted, deleted, stored, settled, dropped, queued: queuedRows, fragmentsDeleted, ...(error !== undefined ? { error } : {}) } satisfies WriterReply);
  publishProgress();
}

/** the newest message received: once an answer covers everything up to it, a flush() may return */
let received = 0;
function publishProgress(): void {
  Atomics.store(done, 0, received);
  Atomics.notify(done, 0);
}

type WriterMessage = WriterRequest | WriterCollect | { close: true };

parentPort!.on("message", (msg: WriterMessage) => {
  // (Taking further messages in the same turn with receiveMessageOnPort made the main thread's
  // postMessage about twice as slow, measured: each one then contends with this thread for the port.)
  if ("rows" in msg) {
    queue.push(msg);
    queuedRows += msg.count;
    received = msg.seq;
    step(msg.seq, msg.urgent === true);
    return;
  }
  if ("close" in msg) {
    if (queue.length || open) step(received, true);
    if (retryTimer) clearTimeout(retryTimer);
    if (holdTimer) clearTimeout(holdTimer);
    db.close();
    parentPort!.postMessage({ closed: true });
    return;
  }
  // a collection: the rows before it are committed first, so sweeps never run inside a transaction
  if (open) step(received, true);
  received = msg.seq;
  waiting.push({ ids: msg.collect, lastId: msg.lastId, at: msg.at });
  try {
    if (!open) sweep();
  } catch (err) {
    console.error(`flow store: deleting unused fragments failed: ${(err as Error).message}`);
  }
  replies.postMessage({ seq: msg.seq, inserted: 0, deleted: 0, stored, settled: [], dropped: 0, queued: queuedRows, fragmentsDeleted } satisfies WriterReply);
  publishProgress();
});
