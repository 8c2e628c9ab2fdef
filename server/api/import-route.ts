// POST /api/import: a real Hubble export (`hubble observe -o json`, the exporter's file, or legacy bare
// flows) as the request body. Good lines are stored and streamed like any other flow; bad lines are
// reported with their line numbers and do not stop the rest.
import type { IncomingMessage, ServerResponse } from "node:http";
import { HubbleImporter } from "../../lib/flow/import";
import type { FlowEnvelope } from "../../lib/flow/types";
import { HttpError, sendJson } from "./http-util";
import type { ApiContext } from "./router";

const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
const MAX_LINE_BYTES = 1024 * 1024;

export async function importHubble(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_IMPORT_BYTES) throw new HttpError(413, `import of ${declared} bytes is larger than the ${MAX_IMPORT_BYTES}-byte limit`);
  const importer = new HubbleImporter(false);
  let batch: FlowEnvelope[] = [];
  let imported = 0;
  let duplicates = 0;
  let total = 0;
  let rest = "";
  // A flow already stored (same uuid, e.g. the same file imported twice) is skipped here rather than
  // published: the store would ignore it, but the stream and the metrics would count it again. Earlier
  // batches are committed before each lookup, so only this batch's own repeats need remembering.
  const flush = () => {
    if (!batch.length) return;
    ctx.store.flush();
    const uuids = batch.map((e) => e.flow.uuid).filter((u): u is string => typeof u === "string" && u !== "");
    const stored = ctx.store.reader.existingUuids(uuids);
    const seen = new Set<string>();
    const fresh = batch.filter((e) => {
      const u = e.flow.uuid;
      if (!u) return true;
      if (stored.has(u) || seen.has(u)) return false;
      seen.add(u);
      return true;
    });
    duplicates += batch.length - fresh.length;
    if (fresh.length) ctx.bus.publish(fresh);
    imported += fresh.length;
    batch = [];
  };
  const pushLine = (line: string) => {
    if (line.length > MAX_LINE_BYTES) {
      importer.push("");
      importer.result.errors.push({ line: importer.result.lines, message: `line is longer than ${MAX_LINE_BYTES} bytes` });
      return;
    }
    const env = importer.push(line);
    if (env) {
      batch.push(env);
      if (batch.length >= 1000) flush();
    }
  };
  let inLongLine = false;
  req.setEncoding("utf8");
  for await (const chunk of req as AsyncIterable<string>) {
    total += Buffer.byteLength(chunk);
    if (total > MAX_IMPORT_BYTES) throw new HttpError(413, `import is larger than the ${MAX_IMPORT_BYTES}-byte limit`);
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      // the end of a line already reported as too long: the next line starts after it
      if (inLongLine) inLongLine = false;
      else pushLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
    if (inLongLine) rest = "";
    else if (rest.length > MAX_LINE_BYTES) {
      // reported (and counted) once, then skipped to its end, so later line numbers stay right
      pushLine(rest);
      rest = "";
      inLongLine = true;
    }
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
