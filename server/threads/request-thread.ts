// Work that would hold the main thread (the datapath, the stream, every other request) for hundreds of
// milliseconds runs on a thread of its own: requests go there and come back as promises, matched by
// request id, so concurrent callers each get their own answer. The thread starts on first use and
// answers one request at a time, in the order sent. If it fails or exits, whatever it owed is refused
// with the reason and the next request starts a new one. It never keeps the process alive on its own.
import { Worker } from "node:worker_threads";

export type ThreadRequest<Req> = { id: number; req: Req };
export type ThreadReply<Res> = { id: number; res: Res } | { id: number; error: string };

interface Waiting<Res> {
  resolve(res: Res): void;
  reject(err: Error): void;
}

export class RequestThread<Req, Res> {
  private worker: Worker | undefined;
  /** requests sent to the current thread and not yet answered, by id */
  private readonly waiting = new Map<number, Waiting<Res>>();
  private nextId = 0;
  private closed: Promise<void> | undefined;

  /**
   * @param entry the thread's TypeScript module (it calls serveRequests)
   * @param name what the thread does, for messages ("aggregate query")
   * @param data given to the thread as workerData, beside `entry`
   */
  constructor(private readonly entry: URL, private readonly name: string, private readonly data: Record<string, unknown> = {}) {}

  request(req: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error(`the ${this.name} thread is closed`));
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch (err) {
      return Promise.reject(new Error(`could not start the ${this.name} thread: ${(err as Error).message}`));
    }
    const id = ++this.nextId;
    return new Promise<Res>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Keep the process alive while an answer is owed (a CLI awaiting it has nothing else running).
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, req } satisfies ThreadRequest<Req>);
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), { workerData: { ...this.data, entry: this.entry.href } });
    this.worker = worker;
    worker.on("message", (m: ThreadReply<Res>) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0 && this.worker === worker) worker.unref();
      if ("error" in m) w.reject(new Error(`${this.name} failed: ${m.error}`));
      else w.resolve(m.res);
    });
    worker.on("error", (err) => {
      const reason = `${this.name} thread failed: ${err.message}`;
      console.error(reason);
      this.lost(worker, reason);
      void worker.terminate();
    });
    worker.on("exit", (code) => this.lost(worker, `${this.name} thread exited (code ${code}) before answering`));
    worker.unref();
    return worker;
  }

  /** The thread is gone: what it owed is refused, and the next request starts another. */
  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const err = new Error(reason);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  /** Stops the thread; requests still waiting are refused. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    const worker = this.worker;
    if (worker) this.lost(worker, `the ${this.name} thread was closed before it answered`);
    this.closed = worker ? worker.terminate().then(() => undefined) : Promise.resolve();
    return this.closed;
  }
}
