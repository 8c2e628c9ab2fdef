// An in-memory SQLite database with the committed Prisma migrations applied, as the store would open it.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { registerFilterFunctions } from "../../server/store/sql-functions";

export function migratedMemoryDb(): Database.Database {
  const db = new Database(":memory:");
  const dir = path.join(process.cwd(), "prisma", "migrations");
  for (const m of fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir, d)).isDirectory()).sort()) {
    db.exec(fs.readFileSync(path.join(dir, m, "migration.sql"), "utf8"));
  }
  registerFilterFunctions(db);
  return db;
}
