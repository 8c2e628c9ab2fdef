// Export of the flow history: NDJSON exactly as `hubble observe -o json` prints it, or an evidence
// bundle (flows + query + policies + FQDN cache + manifest with hashes). Both stream straight from
// SQLite with backpressure, so memory stays flat for millions of flows.
import type { ServerResponse } from "node:http";
import { BundleAbandoned, writeBundle } from "../export";
import { queryFromParams, type ApiContext } from "./router";
import { HttpError } from "./http-util";
import { withoutExtensions } from "../../lib/flow/strip-extensions";

/** Waits for the response to drain, or to close if the client went away; leaves no listeners behind. */
function drainOrClose(res: ServerResponse): Promise<void> {
  // a connection that closed before we got here would never emit "close" again: the export's scan
  // connection would then stay open for good
  if (res.destroyed || res.writableEnded || res.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      res.off("error", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
    res.on("error", done);
  });
}

function attachmentName(prefix: string, ext: string): string {
  return `${prefix}-${new Date().toISOString().replace(/[:.]/g, "-")}.${ext}`;
}

/** Stored rows hold the envelope already in Hubble's byte format, so export copies them out. */
/**
 * `extensions=true` keeps Flowscope's decision details (the flow's `extensions` Any); without it the lines
 * are what Hubble's own tools read, which refuse an Any of a type they do not know. The NDJSON export
 * leaves them out unless asked; an evidence bundle keeps them unless told not to, because which policies
 * put an endpoint into default deny, and which rule decided, are the evidence.
 */
function wantsExtensions(params: URLSearchParams, byDefault: boolean): boolean {
  const v = params.get("extensions");
  if (v === null || v === "") return byDefault;
  if (v === "false" || v === "0") return false;
  if (v === "true" || v === "1") return true;
  throw new HttpError(400, `extensions must be true or false, got ${JSON.stringify(v.slice(0, 40))}`, "extensions");
}

/**
 * An export is every matching flow in the window, oldest first: paging parameters would make it
 * quietly partial, so they are refused rather than ignored.
 */
function exportQuery(params: URLSearchParams): ReturnType<typeof queryFromParams> {
  for (const k of ["limit", "cursor", "order", "first"]) {
    if (params.has(k)) throw new HttpError(400, `${k} is not supported by export, which writes every matching flow in the window: bound it with since and until`, k);
  }
  return queryFromParams(params);
}

/** the bundle's lines; `null` marks a long stretch of rows that did not match (the reader's heartbeat) */
function* exportLines(ctx: ApiContext, params: URLSearchParams): Generator<string | null> {
  const query = exportQuery(params);
  const keep = wantsExtensions(params, true);
  ctx.store.flush();
  const scan = ctx.store.openScanReader();
  try {
    for (const row of scan.reader.scanJson(query)) yield row === null ? null : (keep ? row.json : withoutExtensions(row.json)) + "\n";
  } finally {
    scan.close();
  }
}

/** exportLines as UTF-8 bytes in chunks of about 64 KiB, made without the intermediate strings (the NDJSON route's form) */
function* exportChunks(ctx: ApiContext, params: URLSearchParams): Generator<Buffer> {
  const query = exportQuery(params);
  const extensions = wantsExtensions(params, false);
  ctx.store.flush();
  const scan = ctx.store.openScanReader();
  try {
    yield* scan.reader.iterateNdjsonChunks(query, { extensions });
  } finally {
    scan.close();
  }
}

export async function exportNdjson(ctx: ApiContext, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const chunks = exportChunks(ctx, params);
  // Validate the filter (a throw here becomes a 400) before committing to a 200.
  const first = chunks.next();
  res.writeHead(200, {
    "Content-Type": "application/x-ndjson; charset=utf-8",
    "Content-Disposition": `attachment; filename="${attachmentName("flows", "json")}"`,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  try {
    if (first.done) {
      res.end();
      return;
    }
    let chunk: IteratorResult<Buffer> = first;
    while (!chunk.done) {
      // an empty chunk: the scan has run a while without filling one; let other work in first
      if (chunk.value.length === 0) await new Promise((r) => setImmediate(r));
      else if (!res.write(chunk.value)) await drainOrClose(res);
      if (res.destroyed) return;
      chunk = chunks.next();
    }
    res.end();
  } finally {
    // closes the scan connection even when the client went away mid-export
    chunks.return(undefined);
  }
}

export async function exportBundle(ctx: ApiContext, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const query = queryFromParams(params);
  const lines = exportLines(ctx, params);
  const first = lines.next();
  res.writeHead(200, {
    "Content-Type": "application/gzip",
    "Content-Disposition": `attachment; filename="${attachmentName("flowscope-evidence", "tar.gz")}"`,
    "Cache-Control": "no-store",
  });
  // on a heartbeat, other work (the stream, the simulator, other requests) goes first
  async function* all(): AsyncGenerator<string> {
    for (let r = first; !r.done; r = lines.next()) {
      if (r.value === null) await new Promise((resolve) => setImmediate(resolve));
      else yield r.value;
    }
  }
  const dp = ctx.simulator?.datapath;
  try {
    await writeBundle(res, {
      flows: all(),
      // the access token (?token=) is how the request got in, not what it asked for: never evidence
      query: { filter: Object.fromEntries([...params].filter(([k]) => k !== "token")), parsed: query, exportedAt: new Date().toISOString() },
      policies: dp ? { revision: dp.revision(), policies: dp.policies() } : { revision: 0, policies: [] },
      fqdnCache: dp ? dp.fqdnCache() : [],
      createdAt: new Date(),
    });
    res.end();
  } catch (err) {
    // a cancelled download: nothing is left to answer, and writeBundle removed its spool files
    if (!(err instanceof BundleAbandoned)) throw err;
  } finally {
    lines.return(undefined);
  }
}
