// `npm start` serves the production build: build it on a fresh clone, and again whenever the UI's
// sources are newer than the build (after a `git pull`, say), so a started server never serves a UI
// older than its own code.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { execSync } from "node:child_process";

/** what the Next build is made from (the UI knows only these, see README's layout) */
const SOURCES = ["app", "components", "lib", "public", "next.config.ts", "tsconfig.json", "package.json", "package-lock.json"];

/** the newest modification time under `p` (directories too: a deleted file changes its folder's) */
function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)));
  return m;
}

const stamp = ".next/BUILD_ID";
let reason;
if (!existsSync(stamp)) reason = "no production build yet";
else {
  const built = statSync(stamp).mtimeMs;
  const changed = SOURCES.find((s) => newest(s) > built);
  if (changed) reason = `${changed} changed since the last build`;
}
if (reason) {
  console.log(`flowscope: ${reason}, running \`next build\` (about a minute)…`);
  execSync("npx next build", { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
}
