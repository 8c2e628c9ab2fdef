// Entry point of `npm start`: read the environment, start everything, stop cleanly on SIGINT/SIGTERM
// so the last batch of flows reaches the database.
import { ConfigError, loadConfig } from "./config";
import { startServer } from "./app-server";
import { ScenarioError } from "./scenario/types";

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`flowscope: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const running = await startServer(cfg);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`flowscope: ${signal}, flushing flows and stopping`);
    await running.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  // A bad scenario or a taken port is the user's to fix and its message says how; a stack trace is
  // kept for what would be a bug. A bad scenario is bad input like a bad setting: exit 2, as they do
  // (and as `lint` and `trace` do for it).
  if (err instanceof ScenarioError) {
    console.error(`flowscope: failed to start: ${err.message}`);
    process.exit(2);
  }
  const expected = err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string";
  console.error(`flowscope: failed to start: ${expected ? (err as Error).message : ((err as Error).stack ?? err)}`);
  process.exit(1);
});
