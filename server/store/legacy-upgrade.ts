// Databases written before records were split into rows and fragments keep their old rows in
// `flows_v1` (the migration moves them there). They are converted here, in id order and in batches,
// with the same encoder ingest uses, so history written by an older Flowscope stays readable,
// filterable and exportable byte for byte. Each batch is one transaction: an interrupted upgrade
// resumes where it stopped on the next start.
import type Database from "better-sqlite3";
import type { FlowEnvelope } from "../../lib/flow/types";
import { flowToRow, INSERT_ROW_SQL } from "./row";
import { INSERT_FRAGMENT_SQL, type FragmentRegistry } from "./fragments";

const BATCH = 5000;

export function upgradeLegacyRows(db: Database.Database, fragments: FragmentRegistry, log: (msg: string) => void): number {
  const legacy = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'flows_v1'").get();
  if (!legacy) return 0;
  const total = (db.prepare("SELECT COUNT(*) AS n FROM flows_v1").get() as { n: number }).n;
  if (total > 0) log(`converting ${total} flows stored by an earlier version`);
  const read = db.prepare("SELECT id, json FROM flows_v1 ORDER BY id LIMIT ?");
  const remove = db.prepare("DELETE FROM flows_v1 WHERE id <= ?");
  const insertFragment = db.prepare(INSERT_FRAGMENT_SQL);
  const insert = db.prepare(INSERT_ROW_SQL);
  let done = 0;
  const step = db.transaction(() => {
    const rows = read.all(BATCH) as { id: number; json: string }[];
    const values: unknown[][] = [];
    for (const r of rows) {
      let env: FlowEnvelope;
      try {
        env = JSON.parse(r.json) as FlowEnvelope;
      } catch {
        // the old store only ever wrote its own JSON; an unreadable row is kept out, not guessed at
        log(`flow ${r.id}: stored JSON is unreadable; left out of the upgrade`);
        continue;
      }
      values.push(flowToRow(r.id, env, fragments));
    }
    for (const f of fragments.takeNew()) insertFragment.run(f);
    for (const v of values) insert.run(v);
    if (rows.length) remove.run(rows[rows.length - 1]!.id);
    return rows.length;
  });
  for (let n = step(); n > 0; n = step()) done += n;
  db.exec("DROP TABLE flows_v1");
  if (total > 0) log(`converted ${done} flows`);
  return done;
}
