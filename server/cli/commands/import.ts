// `import FILE`: a real Hubble export (`hubble observe -o json`, enveloped or the older bare flows) into
// a running Flowscope, through POST /api/import; the file is streamed, so its size does not matter here.
// Bad lines are reported with their numbers and the good ones are kept.
import fs from "node:fs";
import { Readable } from "node:stream";
import { authHeaders, takeRemoteFlags, type Remote } from "../remote";
import { count } from "../../../lib/format/count";

/** One request's share of the file. The server takes at most 512 MiB per request; a larger export goes
 * as several requests, each cut at a line end, so every line reaches the server whole. */
const DEFAULT_PART_BYTES = 256 * 1024 * 1024;
/** the server's bound per request, less room for the line a part runs on to */
const MAX_PART_BYTES = 500 * 1024 * 1024;

const HELP = `usage: npm run -s cli -- import FILE [--server URL] [--token T] [--part-bytes N]
Sends FILE (or - for standard input), NDJSON as \`hubble observe -o json\` prints it, to the running
Flowscope. lost_events and node_status lines are skipped and counted; flows already stored (same uuid)
are counted as duplicates; malformed lines are reported with their line numbers, the good ones are
kept, and the exit status is 1 when any line was bad (0 when every flow line was imported or a duplicate).
A file of any size is sent in requests of about --part-bytes (default 256 MiB, at most 512 MiB), each
ending at a line end; line numbers count from the start of the file.`;

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

/**
 * Cuts a byte stream into parts of about `limit` bytes that end at a line end: a part closes at the
 * first newline once it holds `limit` bytes, so a line is never split between two requests.
 */
export class LineParts {
  private carry: Buffer | undefined;
  private done = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer | string>, private readonly limit: number) {
    const raw = source[Symbol.asyncIterator]();
    this.it = { next: async () => {
      const r = await raw.next();
      return r.done ? r : { done: false, value: typeof r.value === "string" ? Buffer.from(r.value) : r.value };
    } };
  }

  private async pull(): Promise<Buffer | undefined> {
    if (this.carry) {
      const c = this.carry;
      this.carry = undefined;
      return c;
    }
    if (this.done) return undefined;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return undefined;
    }
    return r.value;
  }

  /** the next part's bytes, or undefined once the stream is used up */
  async next(): Promise<AsyncIterable<Buffer> | undefined> {
    let first: Buffer | undefined;
    do first = await this.pull();
    while (first !== undefined && first.length === 0);
    if (first === undefined) return undefined;
    this.carry = first;
    const self = this;
    return (async function* part() {
      let sent = 0;
      for (let chunk = await self.pull(); chunk !== undefined; chunk = await self.pull()) {
        if (sent + chunk.length <= self.limit) {
          sent += chunk.length;
          yield chunk;
          continue;
        }
        const nl = chunk.indexOf(0x0a, Math.max(0, self.limit - sent - 1));
        if (nl < 0) {
          // the budget is spent inside a line: the part runs on to that line's end
          sent += chunk.length;
          yield chunk;
          continue;
        }
        if (nl + 1 < chunk.length) self.carry = chunk.subarray(nl + 1);
        yield chunk.subarray(0, nl + 1);
        return;
      }
    })();
  }
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let remote;
  let files: string[] = [];
  let partBytes = DEFAULT_PART_BYTES;
  try {
    const r = takeRemoteFlags(argv);
    remote = r.remote;
    for (let i = 0; i < r.rest.length; i++) {
      const a = r.rest[i]!;
      if (a !== "--part-bytes" && !a.startsWith("--part-bytes=")) {
        files.push(a);
        continue;
      }
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : r.rest[++i];
      const n = Number(v);
      if (v === undefined || !/^\d+$/.test(v) || n < 1 || n > MAX_PART_BYTES) throw new Error(`--part-bytes expects a whole number of bytes from 1 to ${MAX_PART_BYTES}, got ${JSON.stringify(v ?? "")}`);
      partBytes = n;
    }
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
  if (file !== "-") {
    // a pipe is a stream like standard input; a device or a folder is no export (/dev/zero never ends)
    const st = fs.statSync(file);
    if (!st.isFile() && !st.isFIFO()) {
      console.error(`import: ${file} is not a file (${st.isDirectory() ? "a folder" : st.isSocket() ? "a socket" : "a device"})`);
      return 2;
    }
  }
  const source = file === "-" ? process.stdin : fs.createReadStream(file);
  const parts = new LineParts(source, partBytes);
  const total: ImportAnswer = { imported: 0, duplicates: 0, lines: 0, errors: [], errorCount: 0, skipped: {} };
  let requests = 0;
  let failed: string | undefined;
  for (let part = await parts.next(); part !== undefined; part = await parts.next()) {
    const answer = await send(remote, part);
    requests++;
    if ("failure" in answer) {
      failed = answer.failure;
      break;
    }
    // the server numbers lines within its request: from the start of the file here
    for (const e of answer.errors ?? []) if (total.errors.length < 100) total.errors.push({ line: e.line + total.lines, message: e.message });
    total.imported += answer.imported;
    total.duplicates! += answer.duplicates ?? 0;
    total.lines += answer.lines;
    total.errorCount += answer.errorCount;
    for (const [k, n] of Object.entries(answer.skipped ?? {})) total.skipped[k] = (total.skipped[k] ?? 0) + n;
  }
  if (failed !== undefined && requests === 1) {
    console.error(`import: ${failed}`);
    return 1;
  }
  const skipped = Object.entries(total.skipped).map(([k, n]) => `${n} ${k}`);
  console.log(
    `imported ${count(total.imported, "flow")} from ${count(total.lines, "line")}` +
      (total.duplicates ? `; ${total.duplicates} already stored (same uuid)` : "") +
      (skipped.length ? `; skipped ${skipped.join(", ")}` : "") +
      (total.errorCount ? `; ${count(total.errorCount, "bad line")}` : ""),
  );
  for (const e of total.errors) console.error(`line ${e.line}: ${e.message}`);
  if (total.errorCount > total.errors.length) console.error(`… and ${total.errorCount - total.errors.length} more`);
  if (failed !== undefined) {
    // what came before is stored; the rest of the file was not sent
    console.error(`import: stopped after line ${total.lines}: ${failed}`);
    return 1;
  }
  // The good lines are kept either way; a script must still learn that some were not.
  return total.errorCount ? 1 : 0;
}

/** POSTs one part; the server's answer, or why there is none */
async function send(remote: Remote, body: AsyncIterable<Buffer>): Promise<ImportAnswer | { failure: string }> {
  let res: Response;
  try {
    res = await fetch(`${remote.server}/api/import`, {
      method: "POST",
      headers: { ...authHeaders(remote), "Content-Type": "application/x-ndjson" },
      body: Readable.toWeb(Readable.from(body)) as ReadableStream,
      duplex: "half",
    } as RequestInit);
  } catch (err) {
    return { failure: `cannot reach Flowscope at ${remote.server} (${(err as Error).cause ?? (err as Error).message}); start it with \`npm start\` or pass --server` };
  }
  const text = await res.text();
  let answer: ImportAnswer;
  try {
    answer = JSON.parse(text) as ImportAnswer;
  } catch {
    return { failure: `${res.status} ${text.slice(0, 500)}` };
  }
  if (answer.error !== undefined) return { failure: `${res.status} ${answer.error}` };
  return answer;
}
