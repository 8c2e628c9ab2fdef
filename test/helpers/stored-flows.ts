// Flow records stored as the writer thread stores them (rows and fragments), in an in-memory database
// with the store's SQL functions, and read back: what SQL-versus-JS filter tests compare on.
import type Database from "better-sqlite3";
import type { Flow } from "../../lib/flow/types";
import { FragmentRegistry, INSERT_FRAGMENT_SQL } from "../../server/store/fragments";
import { flowToRow, INSERT_ROW_SQL } from "../../server/store/row";
import { migratedMemoryDb } from "./memory-db";

export function storedFlowsDb(flows: readonly Flow[]): { db: Database.Database; stored: Flow[] } {
  const db = migratedMemoryDb();
  const fragments = new FragmentRegistry(db);
  const rows = flows.map((f, i) => flowToRow(i + 1, { flow: f, time: f.time ?? "", node_name: "" }, fragments));
  const insertFragment = db.prepare(INSERT_FRAGMENT_SQL);
  for (const fr of fragments.takeNew()) insertFragment.run(fr);
  const ins = db.prepare(INSERT_ROW_SQL);
  for (const r of rows) ins.run(r);
  const stored = (db.prepare("SELECT body FROM flows ORDER BY id").all() as { body: string }[]).map((r) => (JSON.parse(fragments.expand(r.body)) as { flow: Flow }).flow);
  return { db, stored };
}
