// `import FILE`: a real Hubble export (`hubble observe -o json`, enveloped or the older bare flows) into
// a running Flowscope, through POST /api/import; the file is streamed, so its size does not matter here.
// Bad lines are reported with their numbers and the good ones are kept.
import fs from "node:fs";
import { Readable } from "node:stream";
import { authHeaders, takeRemoteFlags } from "../remote";
import { count } from "../../../lib/format/count";

const HELP = `usage: npm run -s cli -- import FILE [--server URL] [--token T]
Sends FILE (or - for standard input), NDJSON as \`hubble observe -o json\` prints it, to the running
Flowscope. lost_events and node_status lines are skipped and counted; flows already stored (same uuid)
are counted as duplicates; malformed lines are reported with their line numbers, the good ones are
kept, and the exit status is 1 when any line was bad (0 when every flow line was imported or a duplicate).`;

interface ImportAnswer {
  imported: number;
  duplicates?: number;
  lines: number;
  errors: { line: number; message: string }[];
  errorCount: number;
  skipped: Record<string, number>;
  notes?: string[];
  error?: string;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let remote;
  let files: string[];
  try {
    const r = takeRemoteFlags(argv);
    remote = r.remote;
    files = r.rest;
  } catch (err) {
    console.error(`import: ${(err as Error).message}`);
    return 2;
  }
  if (files.length !== 1 || (files[0] !== "-" && files[0]!.startsWith("-"))) {
    console.error(`import: expected one FILE (or -), got ${files.length ? files.join(" ") : "none"}\n${HELP}`);
    return 2;
  }
  const file = files[0]!;
  if (file !== "-" && !fs.existsSync(file)) {
    console.error(`import: no such file: ${file}`);
    return 2;
  }
  const source = file === "-" ? process.stdin : fs.createReadStream(file);
  let res: Response;
  try {
    res = await fetch(`${remote.server}/api/import`, {
      method: "POST",
      headers: { ...authHeaders(remote), "Content-Type": "application/x-ndjson" },
      body: Readable.toWeb(source) as ReadableStream,
      duplex: "half",
    } as RequestInit);
  } catch (err) {
    console.error(`import: cannot reach Flowscope at ${remote.server} (${(err as Error).cause ?? (err as Error).message}); start it with \`npm start\` or pass --server`);
    return 1;
  }
  const text = await res.text();
  let answer: ImportAnswer;
  try {
    answer = JSON.parse(text) as ImportAnswer;
  } catch {
    console.error(`import: ${res.status} ${text.slice(0, 500)}`);
    return 1;
  }
  if (answer.error !== undefined) {
    console.error(`import: ${res.status} ${answer.error}`);
    return 1;
  }
  const skipped = Object.entries(answer.skipped ?? {}).map(([k, n]) => `${n} ${k}`);
  console.log(
    `imported ${count(answer.imported, "flow")} from ${count(answer.lines, "line")}` +
      (answer.duplicates ? `; ${answer.duplicates} already stored (same uuid)` : "") +
      (skipped.length ? `; skipped ${skipped.join(", ")}` : "") +
      (answer.errorCount ? `; ${count(answer.errorCount, "bad line")}` : ""),
  );
  for (const e of answer.errors ?? []) console.error(`line ${e.line}: ${e.message}`);
  if (answer.errorCount > (answer.errors?.length ?? 0)) console.error(`… and ${answer.errorCount - answer.errors.length} more`);
  // The good lines are kept either way; a script must still learn that some were not.
  return res.ok && !answer.errorCount ? 0 : 1;
}
