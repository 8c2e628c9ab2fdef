// The aggregate thread: queries that read every row of a window (GET /api/policies/stats, /api/namespaces) run here, on
// a read-only connection of their own, so the main thread (datapath, stream, other requests) only
// awaits the answer instead of spending hundreds of milliseconds inside SQLite. The small page cache
// keeps a scan from growing memory with the history; the pages ingest needs stay in the writer's and
// main connection's.
import { workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { serveRequests } from "../threads/serve-requests";
import { NAMESPACE_COUNTS_SQL, POLICY_VERDICT_GROUPS_SQL } from "./aggregate-queries";

/** what the thread can be asked */
export type AggregateQuery = { query: "policyVerdictGroups"; sinceMs: number; untilMs: number } | { query: "namespaceCounts" };

const { dbPath } = workerData as { dbPath: string };
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
db.pragma("cache_size = -8192");
db.pragma("busy_timeout = 5000");
const policyVerdictGroups = db.prepare(POLICY_VERDICT_GROUPS_SQL);
const namespaceCounts = db.prepare(NAMESPACE_COUNTS_SQL);

serveRequests((q: AggregateQuery): unknown[] => (q.query === "policyVerdictGroups" ? policyVerdictGroups.all(q.sinceMs, q.untilMs) : namespaceCounts.all()));
