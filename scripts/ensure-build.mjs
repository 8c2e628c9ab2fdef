// `npm start` serves the production build; build it once on a fresh clone (or after `rm -rf .next`).
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";

if (!existsSync(".next/BUILD_ID")) {
  console.log("flowscope: no production build yet, running `next build` (about a minute)…");
  execSync("npx next build", { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
}
