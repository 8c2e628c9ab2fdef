// Opens the flow database: migrations through Prisma, then one better-sqlite3 connection for the hot
// paths (batched ingest, filtered reads) and a Prisma client on the same file for the rest.
import Database from "better-sqlite3";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./generated/client";
import { applyMigrations } from "./migrate";

export interface FlowDatabase {
  sqlite: Database.Database;
  prisma: PrismaClient;
  path: string;
  close(): Promise<void>;
}

export async function openDatabase(dbPath: string): Promise<FlowDatabase> {
  await applyMigrations(dbPath);
  const sqlite = new Database(dbPath);
  sqlite.pragma("journal_mode = WAL");
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("cache_size = -65536");
  const prisma = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${dbPath}` }) });
  return {
    sqlite,
    prisma,
    path: dbPath,
    async close() {
      await prisma.$disconnect();
      sqlite.close();
    },
  };
}
