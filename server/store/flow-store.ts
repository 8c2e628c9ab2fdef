// The flow history as the rest of the server sees it: ingest from the bus, filtered reads, retention
// and the figures /api/status reports.
import fs from "node:fs";
import Database from "better-sqlite3";
import type { SequencedFlow } from "../bus";
import { openDatabase, type FlowDatabase } from "./database";
import { FlowReader } from "./flow-reader";
import { FlowWriter } from "./flow-writer";
import type { RetentionPolicy } from "./retention";
import { FragmentRegistry } from "./fragments";
import { upgradeLegacyRows } from "./legacy-upgrade";
import { historyIdOf } from "./history-id";
import { Aggregator } from "./aggregator";
import type { ServiceMap } from "../../lib/api-types";
import type { FlowQuery } from "../../lib/filter/types";
import type { NamespaceCount, PolicyVerdictGroup } from "./aggregate-queries";

export class FlowStore {
  readonly reader: FlowReader;
  readonly writer: FlowWriter;
  /** applied on the writer thread after each commit (and every second for the age limit) */
  readonly retention: RetentionPolicy;
  /** the shared parts of stored records (see fragments.ts); one registry for every reader and the writer */
  readonly fragments: FragmentRegistry;
  /** queries that read every row of a window, on a thread of their own (started on first use) */
  readonly aggregator: Aggregator;
  /** which flow history the database holds (see history-id.ts) */
  readonly historyId: string;
  /** rows in the table when it was opened, until the writer thread reports its own count */
  private readonly openedWith: number;
  private rateWindow: { t: number; n: number }[] = [];

  private constructor(readonly db: FlowDatabase, policy: RetentionPolicy, fragments: FragmentRegistry, historyId: string) {
    this.fragments = fragments;
    this.historyId = historyId;
    this.reader = new FlowReader(db.sqlite, fragments);
    this.retention = policy;
    // through a small-cache connection: COUNT(*) reads a whole index, which the main connection's
    // large cache would then hold for good
    const scan = this.openScanReader();
    try {
      this.openedWith = scan.reader.count();
    } finally {
      scan.close();
    }
    this.writer = new FlowWriter(db.path, fragments, policy);
    this.aggregator = new Aggregator(db.path);
  }

  static async open(path: string, policy: RetentionPolicy): Promise<FlowStore> {
    const db = await openDatabase(path);
    const fragments = new FragmentRegistry(db.sqlite);
    let historyId: string;
    try {
      // before the writer thread starts: from then on it is the only one writing
      upgradeLegacyRows(db.sqlite, fragments, (msg) => console.log(`flow store: ${msg}`));
      historyId = historyIdOf(db.sqlite);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new FlowStore(db, policy, fragments, historyId);
  }

  ingest(batch: readonly SequencedFlow[]): void {
    this.writer.enqueue(batch);
    const now = Date.now();
    this.rateWindow.push({ t: now, n: batch.length });
    while (this.rateWindow.length && this.rateWindow[0]!.t < now - 10_000) this.rateWindow.shift();
  }

  /** flows written so far plus those waiting (what a reader will see once the writer flushes). */
  storedFlows(): number {
    return (this.writer.storedRows ?? this.openedWith) + this.writer.lag;
  }

  ingestRate(): number {
    const n = this.rateWindow.reduce((s, w) => s + w.n, 0);
    return n / 10;
  }

  flush(): void {
    this.writer.flush();
  }

  /**
   * Drops the endpoint fragments not used lately from memory; the writer thread deletes them once no
   * stored flow uses them (and their grace, RetentionPolicy.fragmentGrace*, has passed). Ingest runs
   * this by itself as new endpoints come in.
   */
  collectFragments(): void {
    this.writer.collectFragments();
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

  /** flows per namespace they touch, counted on the aggregate thread */
  namespaceCounts(): Promise<NamespaceCount[]> {
    return this.aggregator.namespaceCounts();
  }

  /**
   * Flows with time_ms in [sinceMs, untilMs] counted per (policies column, verdict), computed on the
   * aggregate thread: the main thread only awaits it. It sees what is committed when it runs, so call
   * flush() first for flows just ingested.
   */
  policyVerdictGroups(sinceMs: number, untilMs: number): Promise<PolicyVerdictGroup[]> {
    return this.aggregator.policyVerdictGroups(sinceMs, untilMs);
  }

  /** the service map of a window, built on the aggregate thread (see service-map.ts); flush() first for flows just ingested */
  serviceMap(filter: FlowQuery, sinceMs: number, untilMs: number): Promise<ServiceMap> {
    return this.aggregator.serviceMap(filter, sinceMs, untilMs);
  }

  /** node names of the stored flows (see known-nodes.ts) */
  async nodeNames(): Promise<{ nodes: string[]; complete: boolean }> {
    await this.writer.started;
    return this.writer.nodes.list();
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
    await this.aggregator.close();
    await this.writer.close();
    await this.db.close();
  }
}
