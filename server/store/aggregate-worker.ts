// The aggregate thread: queries that read every row of a window (GET /api/policies/stats, /api/namespaces,
// /api/service-map) run here, on
// a read-only connection of their own, so the main thread (datapath, stream, other requests) only
// awaits the answer instead of spending hundreds of milliseconds inside SQLite. The small page cache
// keeps a scan from growing memory with the history; the pages ingest needs stay in the writer's and
// main connection's.
import { workerData } from "node:worker_threads";
// the map's filter regexes run here too: in RE2, as on the main thread, so they match alike and in linear time
import "../filter-regex-engine";
import Database from "better-sqlite3";
import { serveRequests } from "../threads/serve-requests";
import type { FlowQuery } from "../../lib/filter/types";
import { NAMESPACE_COUNTS_SQL, POLICY_VERDICT_GROUPS_SQL } from "./aggregate-queries";
import { FlowReader } from "./flow-reader";
import { FragmentRegistry } from "./fragments";
import { buildServiceMap } from "./service-map";

/** what the thread can be asked */
export type AggregateQuery =
  | { query: "policyVerdictGroups"; sinceMs: number; untilMs: number }
  | { query: "namespaceCounts" }
  | { query: "serviceMap"; filter: FlowQuery; sinceMs: number; untilMs: number };

const { dbPath } = workerData as { dbPath: string };
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
db.pragma("cache_size = -8192");
db.pragma("busy_timeout = 5000");
const policyVerdictGroups = db.prepare(POLICY_VERDICT_GROUPS_SQL);
const namespaceCounts = db.prepare(NAMESPACE_COUNTS_SQL);

// Records read for the map's row-by-row filters are expanded with a registry of this connection's own:
// a committed row's fragments are committed with it, and those not loaded are read on demand.
let reader: FlowReader | undefined;

serveRequests((q: AggregateQuery): unknown => {
  switch (q.query) {
    case "policyVerdictGroups":
      return policyVerdictGroups.all(q.sinceMs, q.untilMs);
    case "namespaceCounts":
      return namespaceCounts.all();
    case "serviceMap":
      reader ??= new FlowReader(db, new FragmentRegistry(db));
      return buildServiceMap(db, reader, q.filter, q.sinceMs, q.untilMs);
  }
});
