// POST /api/import: a real Hubble export (`hubble observe -o json`, the exporter's file, or legacy bare
// flows) as the request body. Good lines are stored and streamed like any other flow; bad lines are
// reported with their line numbers and do not stop the rest.
import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HubbleImporter } from "../../lib/flow/import";
import type { FlowEnvelope } from "../../lib/flow/types";
import { HttpError, sendJson } from "./http-util";
import type { ApiContext } from "./router";

const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
const MAX_LINE_BYTES = 1024 * 1024;
/** flows an import lets wait for the writer thread before it waits too (bounds the memory they take) */
const IMPORT_MAX_LAG = 20_000;
const IMPORT_MAX_UNCOMMITTED = 100_000;

/** 1-based position of the first byte that is not part of a well-formed UTF-8 sequence. */
function firstBadUtf8Byte(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i + 1;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i + 1;
    }
    // overlong three-byte forms, surrogates, and code points past U+10FFFF
    if (n === 2 && ((c === 0xe0 && b[i + 1]! < 0xa0) || (c === 0xed && b[i + 1]! >= 0xa0))) return i + 1;
    if (n === 3 && ((c === 0xf0 && b[i + 1]! < 0x90) || (c === 0xf4 && b[i + 1]! >= 0x90))) return i + 1;
    i += n + 1;
  }
  return b.length + 1;
}

export async function importHubble(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_IMPORT_BYTES) throw new HttpError(413, `import of ${declared} bytes is larger than the ${MAX_IMPORT_BYTES}-byte limit`);
  const importer = new HubbleImporter(false);
  let batch: FlowEnvelope[] = [];
  let imported = 0;
  let duplicates = 0;
  let total = 0;
  // A flow already stored (same uuid, e.g. the same file imported twice) is skipped here rather than
  // published: the store would ignore it, but the stream and the metrics would count it again. Parsing
  // runs ahead of the writer thread, so the database only knows what is committed: this import's own
  // flows published since the last wait for the writer are remembered here instead.
  let uncommitted = new Set<string>();
  const flush = () => {
    if (!batch.length) return;
    const uuids = batch.map((e) => e.flow.uuid).filter((u): u is string => typeof u === "string" && u !== "");
    const stored = ctx.store.reader.existingUuids(uuids);
    const fresh = batch.filter((e) => {
      const u = e.flow.uuid;
      if (!u) return true;
      if (stored.has(u) || uncommitted.has(u)) return false;
      uncommitted.add(u);
      return true;
    });
    duplicates += batch.length - fresh.length;
    if (fresh.length) ctx.bus.publish(fresh);
    imported += fresh.length;
    batch = [];
    // Backpressure: parsing is faster than inserting, and what waits for the writer waits in memory.
    // Once it is committed the database answers for it and the set can start over.
    if (ctx.store.writer.lag >= IMPORT_MAX_LAG || uncommitted.size >= IMPORT_MAX_UNCOMMITTED) {
      ctx.store.flush();
      uncommitted = new Set();
    }
  };
  // Lines are cut from the raw bytes so that each is checked as UTF-8 on its own: decoding the stream
  // would silently turn a bad byte into U+FFFD and store text the export never held.
  const pushLine = (bytes: Buffer) => {
    if (bytes.length > MAX_LINE_BYTES) {
      importer.push("");
      importer.result.errors.push({ line: importer.result.lines, message: `line is longer than ${MAX_LINE_BYTES} bytes` });
      return;
    }
    if (!isUtf8(bytes)) {
      importer.push("");
      importer.result.errors.push({ line: importer.result.lines, message: `not valid UTF-8 (at byte ${firstBadUtf8Byte(bytes)} of the line)` });
      return;
    }
    const env = importer.push(bytes.toString("utf8"));
    if (env) {
      batch.push(env);
      if (batch.length >= 1000) flush();
    }
  };
  let inLongLine = false;
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_IMPORT_BYTES) throw new HttpError(413, `import is larger than the ${MAX_IMPORT_BYTES}-byte limit`);
    rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    let nl: number;
    while ((nl = rest.indexOf(0x0a, from)) >= 0) {
      // the end of a line already reported as too long: the next line starts after it
      if (inLongLine) inLongLine = false;
      else pushLine(rest.subarray(from, nl));
      from = nl + 1;
    }
    rest = rest.subarray(from);
    if (inLongLine) rest = Buffer.alloc(0);
    else if (rest.length > MAX_LINE_BYTES) {
      // reported (and counted) once, then skipped to its end, so later line numbers stay right
      pushLine(rest);
      rest = Buffer.alloc(0);
      inLongLine = true;
    } else rest = Buffer.from(rest); // do not keep the whole chunk alive for its tail
  }
  if (rest.length && !inLongLine) pushLine(rest);
  flush();
  ctx.store.flush();
  const r = importer.result;
  sendJson(res, r.errors.length && imported === 0 && duplicates === 0 ? 400 : 200, {
    imported,
    duplicates,
    lines: r.lines,
    errors: r.errors.slice(0, 100),
    errorCount: r.errors.length,
    skipped: r.skipped,
    notes: r.notes,
  });
}
