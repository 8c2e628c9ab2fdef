// Batched ingest: flows from the bus become rows on the main thread and are written by a dedicated
// writer thread (writer-worker.ts) through a prepared statement, in transactions of a few thousand rows
// (an order of magnitude faster than Prisma's createMany, see ENVIRONMENT.md). The datapath and the stream never
// wait on the disk; readers that need to see everything call flush(), which waits for the commit.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { SequencedFlow } from "../bus";
import { flowToRow, ROW_COLUMNS, type RowValues } from "./row";
import type { FragmentRegistry, FragmentRow } from "./fragments";

import type { WriterCollect, WriterHello, WriterReply, WriterRequest, WriterWorkerData } from "./writer-worker";
import type { RetentionPolicy } from "./retention";
import { KnownNodes } from "./known-nodes";

/** where a row carries its stored body */
const BODY = ROW_COLUMNS.indexOf("body");
const SRC_EP = ROW_COLUMNS.indexOf("src_ep");
const DST_EP = ROW_COLUMNS.indexOf("dst_ep");
const NODE_NAME = ROW_COLUMNS.indexOf("node_name");

export interface WriterOptions {
  flushIntervalMs?: number;
  maxBatch?: number;
  /** longest a synchronous flush() waits for the writer thread */
  flushWaitMs?: number;
}

export class FlowWriter {
  private pending: RowValues[] = [];
  /** fragments first used by pending rows: they go with the next batch */
  private pendingFragments: FragmentRow[] = [];
  /**
   * batches handed to the writer thread that it has not settled (committed, or given up on), by
   * sequence number: only their size and the endpoint fragments they use, never the rows, which the
   * writer thread keeps itself when it must retry them
   */
  private inflight = new Map<number, { count: number; endpoints: Set<number>; fragments: number[] }>();
  private inflightRows = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly worker: Worker;
  /** replies from the writer thread; read asynchronously, and drained synchronously by flush() */
  private readonly replies: MessagePort;
  private readonly done: Int32Array;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly flushWaitMs: number;
  written = 0;
  /** endpoint fragments dropped from memory and handed to the writer thread to delete once unused */
  collectedFragments = 0;
  /** fragments the writer thread deleted (as of its latest report) */
  fragmentsDeleted = 0;
  /** id of the newest flow encoded: every row using a fragment dropped now has an id up to this */
  private lastId = 0;
  /** rows deleted by retention (on the writer thread, right after the batches it follows) */
  deleted = 0;
  /** the table's row count as of the writer thread's latest report; undefined until its first */
  storedRows: number | undefined;
  /** node names of the stored rows and of every row encoded since (complete once `started` resolves) */
  readonly nodes = new KnownNodes();
  /** resolves when the writer thread has reported what the table held at start (or failed to start) */
  readonly started: Promise<void>;
  private markStarted!: () => void;
  /** flows given up on because the database refused writes for so long that the queue hit its bound */
  dropped = 0;
  lastError: string | undefined;
  private closed: Promise<void> | undefined;

  constructor(dbPath: string, private readonly fragments: FragmentRegistry, retention: RetentionPolicy, opts: WriterOptions = {}) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    // Small batches: rows waiting for a large one outlive young-generation collections and are
    // copied into the old generation; at 500 a transaction still carries its commit cost well
    // (measured ~10% more end-to-end ingest than 5,000 on this machine).
    this.maxBatch = opts.maxBatch ?? 500;
    this.flushWaitMs = opts.flushWaitMs ?? 10_000;
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    const progress = new SharedArrayBuffer(4);
    this.done = new Int32Array(progress);
    const channel = new MessageChannel();
    this.replies = channel.port1;
    const data: WriterWorkerData = {
      entry: new URL("./writer-worker.ts", import.meta.url).href,
      dbPath,
      progress,
      replies: channel.port2,
      retention,
      // every other endpoint fragment stored is out of memory: the writer thread may delete it once unused
      liveEndpoints: fragments.liveEndpointIds(),
    };
    this.worker = new Worker(new URL("../threads/ts-worker.mjs", import.meta.url), { workerData: data, transferList: [channel.port2] });
    this.replies.on("message", (m: WriterReply | WriterHello) => this.onReply(m));
    this.replies.unref();
    this.worker.on("error", (err) => {
      this.markStarted();
      this.lastError = `writer thread failed: ${err.message}`;
      console.error(`flow store: ${this.lastError}`);
    });
    this.worker.once("exit", () => this.markStarted());
    // The writer thread must not keep the process alive on its own.
    this.worker.unref();
  }

  enqueue(batch: readonly SequencedFlow[]): void {
    for (const f of batch) {
      const row = flowToRow(f.id, f.envelope, this.fragments);
      f.attachStored?.(row[BODY] as string, this.fragments);
      this.nodes.add(row[NODE_NAME] as string);
      this.pending.push(row);
    }
    if (batch.length) this.lastId = Math.max(this.lastId, batch[batch.length - 1]!.id);
    const fresh = this.fragments.takeNew();
    if (fresh.length) this.pendingFragments.push(...fresh);
    if (this.fragments.collectDue()) this.collectFragments();
    else if (this.pending.length >= this.maxBatch) this.send();
    else if (!this.timer) this.timer = setTimeout(() => this.send(), this.flushIntervalMs);
  }

  /**
   * Drops the endpoint fragments not used lately from memory and asks the writer thread to delete
   * them once no stored row uses them. Runs by itself when enough new endpoints came in (the
   * registry's collectDue()); callable directly. Never waits for the disk.
   *
   * Why no row can end up referring to a deleted fragment: a dropped id is never handed out again, so
   * only rows encoded before now can use it. Those are committed, or not yet: pending here, or handed
   * to the writer thread and not settled (waiting, or failed and waiting to be retried there). The ids
   * those use are kept in memory (`keep`), so every id dropped is used by committed rows only, which
   * the writer thread counts.
   */
  collectFragments(): void {
    if (this.closed) return;
    this.send();
    const keep = new Set<number>();
    for (const r of this.pending) {
      if (r[SRC_EP] !== null) keep.add(r[SRC_EP] as number);
      if (r[DST_EP] !== null) keep.add(r[DST_EP] as number);
    }
    for (const f of this.pendingFragments) keep.add(f[0]);
    for (const b of this.inflight.values()) {
      for (const id of b.endpoints) keep.add(id);
      for (const id of b.fragments) keep.add(id);
    }
    const ids = this.fragments.collect(keep);
    this.collectedFragments += ids.length;
    // through the same ordered channel as the batches, after every batch encoded so far
    const msg: WriterCollect = { seq: ++this.seq, collect: ids, lastId: this.lastId, at: Date.now() };
    this.worker.postMessage(msg);
  }

  /** flows accepted but not yet committed */
  get lag(): number {
    return this.pending.length + this.inflightRows;
  }

  /**
   * Hands everything queued to the writer thread without waiting. `urgent`: the writer thread is to
   * commit it, with whatever it holds for a larger transaction, right away.
   */
  private send(urgent = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.closed) return;
    if (this.pending.length === 0) {
      // nothing new, but batches sent earlier may be held for a larger transaction
      if (urgent && Atomics.load(this.done, 0) < this.seq) this.post([], [], true);
      return;
    }
    const rows = this.pending;
    const fragments = this.pendingFragments;
    this.pending = [];
    this.pendingFragments = [];
    this.post(rows, fragments, urgent);
  }

  private post(rows: RowValues[], fragments: FragmentRow[], urgent: boolean): void {
    const seq = ++this.seq;
    const endpoints = new Set<number>();
    for (const r of rows) {
      if (r[SRC_EP] !== null) endpoints.add(r[SRC_EP] as number);
      if (r[DST_EP] !== null) endpoints.add(r[DST_EP] as number);
    }
    this.inflight.set(seq, { count: rows.length, endpoints, fragments: fragments.map((f) => f[0]) });
    this.inflightRows += rows.length;
    const req: WriterRequest = { seq, rows, count: rows.length, fragments, ...(urgent ? { urgent } : {}) };
    this.worker.postMessage(req);
  }

  /** Sends everything queued and waits until the writer thread has committed it (bounded wait). */
  flush(): void {
    this.send(true);
    const target = this.seq;
    const deadline = Date.now() + this.flushWaitMs;
    for (let seen = Atomics.load(this.done, 0); seen < target; seen = Atomics.load(this.done, 0)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.lastError = `writer thread did not commit within ${this.flushWaitMs} ms`;
        return;
      }
      // Waits while the progress is still the value just compared with the target: a second read here
      // could see progress that already reached the target, and then sleep until the deadline with
      // nobody left to wake it (seen: 10 s flushes when two answers came in quick succession).
      Atomics.wait(this.done, 0, seen, left);
    }
    // Take the answers now rather than on a later tick: a caller that loops without yielding would
    // otherwise keep every committed batch in memory until it does.
    for (let m = receiveMessageOnPort(this.replies); m; m = receiveMessageOnPort(this.replies)) this.onReply(m.message as WriterReply | WriterHello);
  }

  private onReply(r: WriterReply | WriterHello): void {
    this.storedRows = r.stored;
    if (!("seq" in r)) {
      for (const n of r.nodes) this.nodes.add(n);
      this.markStarted();
      return;
    }
    this.deleted += r.deleted;
    if (r.fragmentsDeleted !== undefined) this.fragmentsDeleted = r.fragmentsDeleted;
    for (const seq of r.settled) {
      const sent = this.inflight.get(seq);
      if (!sent) continue;
      this.inflight.delete(seq);
      this.inflightRows -= sent.count;
    }
    this.written += r.inserted;
    this.dropped += r.dropped;
    // an error stays shown until the writer thread has nothing left to retry
    if (r.error !== undefined) this.lastError = r.error;
    else if (r.queued === 0) this.lastError = undefined;
  }

  /** Commits what is queued, then stops the writer thread. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    // Keep the process alive until the writer thread has closed the database.
    this.worker.ref();
    this.closed = new Promise<void>((resolve) => {
      const onMessage = (m: unknown) => {
        if (m && typeof m === "object" && "closed" in m) {
          this.worker.off("message", onMessage);
          resolve();
        }
      };
      this.worker.on("message", onMessage);
      this.worker.once("exit", () => resolve());
      this.worker.postMessage({ close: true });
    }).then(() => {
      this.replies.close();
      return this.worker.terminate().then(() => undefined);
    });
    return this.closed;
  }
}
