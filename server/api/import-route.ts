// POST /api/import: a real Hubble export (`hubble observe -o json`, the exporter's file, or legacy bare
// flows) as the request body. Good lines are stored and streamed like any other flow; bad lines are
// reported with their line numbers and do not stop the rest.
import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HubbleImporter } from "../../lib/flow/import";
import { MAX_JSON, trimmedRecords } from "../store/row";
import { LINE_TOO_LONG, MAX_NDJSON_LINE_BYTES, ndjsonLines } from "../../lib/flow/ndjson-lines";
import type { FlowEnvelope } from "../../lib/flow/types";
import { firstBadUtf8Byte, HttpError, refuseEncodedBody, sendJson } from "./http-util";
import type { ApiContext } from "./router";

const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
/** flows an import lets wait for the writer thread before it waits too (bounds the memory they take) */
const IMPORT_MAX_LAG = 20_000;
const IMPORT_MAX_UNCOMMITTED = 100_000;

export async function importHubble(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // a gzip body would otherwise be cut into "lines" each reported as invalid UTF-8
  refuseEncodedBody(req);
  // A form upload's boundaries and part headers, or a binary file, would become "bad lines". Anything
  // else is read as NDJSON: curl --data-binary labels its body application/x-www-form-urlencoded.
  const type = String(req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (/^(multipart|image|audio|video|font)\//.test(type) || ["application/zip", "application/gzip", "application/x-gzip", "application/pdf"].includes(type)) {
    throw new HttpError(415, `Content-Type ${JSON.stringify(type.slice(0, 80))} is not an export: send the NDJSON file itself as the body (application/x-ndjson)`);
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_IMPORT_BYTES) throw new HttpError(413, `import of ${declared} bytes is larger than the ${MAX_IMPORT_BYTES}-byte limit`);
  const importer = new HubbleImporter(false);
  // records are encoded, and trimmed if need be, as they are published (store ingest runs on the bus)
  const trimmedBefore = trimmedRecords.count;
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
  // each line is checked as UTF-8 on its own (see ndjsonLines)
  const pushLine = (bytes: Buffer) => {
    if (!isUtf8(bytes)) {
      importer.refuse(`not valid UTF-8 (at byte ${firstBadUtf8Byte(bytes)} of the line)`);
      return;
    }
    const env = importer.push(bytes.toString("utf8"));
    if (env) {
      batch.push(env);
      if (batch.length >= 1000) flush();
    }
  };
  let overLimit = false;
  const body = async function* () {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_IMPORT_BYTES) {
        // The lines before are stored already: the answer says so, and where the import stopped.
        overLimit = true;
        return;
      }
      yield chunk;
    }
  };
  for await (const line of ndjsonLines(body(), MAX_NDJSON_LINE_BYTES)) {
    // once over the limit the only line left is the one the limit cut, which is not a line of the export
    if (overLimit) break;
    if (line === LINE_TOO_LONG) importer.refuse(`line is longer than ${MAX_NDJSON_LINE_BYTES} bytes`);
    else pushLine(line);
  }
  flush();
  ctx.store.flush();
  const r = importer.result;
  const trimmed = trimmedRecords.count - trimmedBefore;
  if (trimmed > 0) r.notes.push(`${trimmed} record${trimmed === 1 ? " was" : "s were"} larger than a stored record may be (${MAX_JSON} bytes of JSON): stored trimmed (long URLs, headers, DNS answers, labels or names cut), each marked in its Summary`);
  const answer = { imported, duplicates, lines: r.lines, errors: r.errors.slice(0, 100), errorCount: r.errorCount, skipped: r.skipped, notes: r.notes };
  if (overLimit) {
    // stop reading the rest of a body this large; the client learns what was kept
    res.setHeader("Connection", "close");
    sendJson(res, 413, {
      error: `import is larger than the ${MAX_IMPORT_BYTES}-byte limit: stopped after line ${r.lines}; the ${imported} flows before it were imported (send the rest as another request, as \`import FILE\` does)`,
      ...answer,
    });
    return;
  }
  sendJson(res, r.errorCount && imported === 0 && duplicates === 0 ? 400 : 200, answer);
}
