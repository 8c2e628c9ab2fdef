// Which flow history a database holds. Row ids (the stream's cursors, `?flow=` links) start again at 1
// in a new database, so a client that resumes after a cursor it got from another history would skip
// every flow the new one stored up to that id, and keep rows that no longer exist. A random id made
// when the database is first opened, and kept in it, tells the two apart: a restart on the same
// database keeps it, a server on a new database has another.
import crypto from "node:crypto";
import type Database from "better-sqlite3";

const KEY = "history_id";

export function historyIdOf(db: Database.Database): string {
  const read = () => (db.prepare("SELECT value FROM meta WHERE key = ?").get(KEY) as { value: string } | undefined)?.value;
  const found = read();
  if (found !== undefined) return found;
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)").run(KEY, crypto.randomUUID());
  return read()!;
}
