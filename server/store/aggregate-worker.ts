// The aggregate thread: queries that read every row of a window (GET /api/policies/stats, /api/namespaces) run here, on
// a read-only connection of their own, so the main thread (datapath, stream, other requests) only
// awaits the answer instead of spending hundreds of milliseconds inside SQLite. Requests are answered
// one at a time, in order, each reply carrying its request's id. The small page cache keeps a scan from
// growing memory with the history; the pages ingest needs stay in the writer's and main connection's.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { NAMESPACE_COUNTS_SQL, POLICY_VERDICT_GROUPS_SQL } from "./aggregate-queries";

export interface AggregateWorkerData {
  entry: string;
  dbPath: string;
}

/** what the thread can be asked */
export type AggregateQuery = { query: "policyVerdictGroups"; sinceMs: number; untilMs: number } | { query: "namespaceCounts" };
export type AggregateRequest = { id: number } & AggregateQuery;
export type AggregateReply = { id: number; rows: unknown[] } | { id: number; error: string };

const { dbPath } = workerData as AggregateWorkerData;
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
db.pragma("cache_size = -8192");
db.pragma("busy_timeout = 5000");
const policyVerdictGroups = db.prepare(POLICY_VERDICT_GROUPS_SQL);
const namespaceCounts = db.prepare(NAMESPACE_COUNTS_SQL);

parentPort!.on("message", (msg: AggregateRequest) => {
  let reply: AggregateReply;
  try {
    const rows = msg.query === "policyVerdictGroups" ? policyVerdictGroups.all(msg.sinceMs, msg.untilMs) : namespaceCounts.all();
    reply = { id: msg.id, rows };
  } catch (err) {
    reply = { id: msg.id, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
