// Applies the committed Prisma migrations (prisma/migrations) to the database at start, through the
// Prisma CLI itself so that Prisma's migration history stays authoritative.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function applyMigrations(dbPath: string, projectRoot = process.cwd()): Promise<void> {
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const require = createRequire(path.join(projectRoot, "package.json"));
  const cli = require.resolve("prisma/build/index.js");
  try {
    await run(process.execPath, [cli, "migrate", "deploy"], {
      cwd: projectRoot,
      env: {
        ...process.env,
        FLOWSCOPE_DB: dbPath,
        // Any path stops the CLI from downloading a native schema engine; with engine "js" it is never run.
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || "/bin/false",
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
      },
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`applying database migrations to ${dbPath} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
