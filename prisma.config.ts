// Prisma CLI configuration. The JS schema engine and the better-sqlite3 adapter let `prisma generate`
// and `prisma migrate deploy` run without the native engines (which this network cannot download).
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

const dbFile = path.resolve(process.env.FLOWSCOPE_DB || "data/flows.db");

export default defineConfig({
  schema: "prisma/schema.prisma",
  engine: "js",
  experimental: { adapter: true },
  adapter: async () => new PrismaBetterSQLite3({ url: `file:${dbFile}` }),
});
