// Aggregate queries off the main thread: requests go to the aggregate thread (aggregate-worker.ts) and
// come back as promises, matched by request id, so concurrent callers each get their own answer. The
// thread starts on first use; if it fails or exits, whatever it was answering is rejected with the
// reason and the next request starts a new one. It never keeps the process alive on its own.
import { Worker } from "node:worker_threads";
import type { NamespaceCount, PolicyVerdictGroup } from "./aggregate-queries";
import type { AggregateQuery, AggregateReply, AggregateRequest, AggregateWorkerData } from "./aggregate-worker";

interface Waiting {
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
}

export class Aggregator {
  private worker: Worker | undefined;
  /** requests sent to the current thread and not yet answered, by id */
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed: Promise<void> | undefined;

  constructor(private readonly dbPath: string) {}

  /** flows with time_ms in [sinceMs, untilMs] counted per (policies column, verdict); see aggregate-queries.ts */
  policyVerdictGroups(sinceMs: number, untilMs: number): Promise<PolicyVerdictGroup[]> {
    return this.request({ query: "policyVerdictGroups", sinceMs, untilMs }) as Promise<PolicyVerdictGroup[]>;
  }

  /** flows per namespace they touch; see aggregate-queries.ts */
  namespaceCounts(): Promise<NamespaceCount[]> {
    return this.request({ query: "namespaceCounts" }) as Promise<NamespaceCount[]>;
  }

  private request(req: AggregateQuery): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error("the flow store is closed"));
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch (err) {
      return Promise.reject(new Error(`could not start the aggregate query thread: ${(err as Error).message}`));
    }
    const id = ++this.nextId;
    return new Promise<unknown[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Keep the process alive while an answer is owed (a CLI awaiting it has nothing else running).
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, ...req } satisfies AggregateRequest);
    });
  }

  private start(): Worker {
    const data: AggregateWorkerData = { entry: new URL("./aggregate-worker.ts", import.meta.url).href, dbPath: this.dbPath };
    const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), { workerData: data });
    this.worker = worker;
    worker.on("message", (m: AggregateReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0 && this.worker === worker) worker.unref();
      if ("error" in m) w.reject(new Error(`aggregate query failed: ${m.error}`));
      else w.resolve(m.rows);
    });
    worker.on("error", (err) => {
      const reason = `aggregate query thread failed: ${err.message}`;
      console.error(`flow store: ${reason}`);
      this.lost(worker, reason);
      void worker.terminate();
    });
    worker.on("exit", (code) => this.lost(worker, `aggregate query thread exited (code ${code}) before answering`));
    // The thread must not keep the process alive on its own.
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
    if (worker) this.lost(worker, "the flow store was closed before the aggregate query finished");
    this.closed = worker ? worker.terminate().then(() => undefined) : Promise.resolve();
    return this.closed;
  }
}
