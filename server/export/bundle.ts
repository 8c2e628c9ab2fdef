// Evidence bundle: a gzipped ustar archive with
//   query.json       the query and its resolved time window
//   policies.json    the policies in force, with revisions (as the caller passes them)
//   fqdn-cache.json  the FQDN cache (as passed)
//   flows.ndjson     the flows, `hubble observe -o json` lines
//   lines.sha256     per line of flows.ndjson, the first 16 hex digits of sha256(line), to locate damage
//   manifest.json    sha256 and size of every other file, and a hash chain over the flow lines:
//                    h_0 = sha256(query.json), h_i = sha256(h_{i-1} || line_i) (raw digest bytes, line
//                    without its newline); the manifest keeps h_0 and h_n.
// flows are spooled to a temporary file first (a tar header needs the size), so memory stays constant.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";
import { TAR_END, tarHeader, tarPadding } from "./tar";

export interface BundleInput {
  /** NDJSON lines (with or without trailing "\n") */
  flows: AsyncIterable<string> | Iterable<string>;
  query: unknown;
  policies: unknown;
  fqdnCache: unknown;
  createdAt: Date | string;
}

export interface BundleManifest {
  format: "flowscope-evidence-bundle";
  version: 1;
  createdAt: string;
  files: Record<string, { sha256: string; bytes: number }>;
  flowLines: number;
  chain: { algorithm: "sha256(h_prev || line)"; h0: string; head: string };
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest();

function write(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(chunk)) return resolve();
    // each wait takes its listeners off again: a large bundle waits thousands of times
    const onDrain = () => {
      out.off("error", onError);
      resolve();
    };
    const onError = (err: Error) => {
      out.off("drain", onDrain);
      reject(err);
    };
    out.once("drain", onDrain);
    out.once("error", onError);
  });
}

async function spoolEnd(ws: ReturnType<typeof createWriteStream>): Promise<void> {
  await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The reader of the bundle went away before it was written: the caller has nothing more to do. */
export class BundleAbandoned extends Error {
  constructor() {
    super("the bundle's reader went away before it was written");
  }
}

export async function writeBundle(out: Writable, input: BundleInput): Promise<BundleManifest> {
  const createdAt = typeof input.createdAt === "string" ? input.createdAt : input.createdAt.toISOString();
  const mtime = Math.floor(Date.parse(createdAt) / 1000) || 0;
  const queryJson = Buffer.from(JSON.stringify(input.query, null, 2) + "\n");
  const policiesJson = Buffer.from(JSON.stringify(input.policies ?? [], null, 2) + "\n");
  const fqdnJson = Buffer.from(JSON.stringify(input.fqdnCache ?? {}, null, 2) + "\n");

  const dir = await fsp.mkdtemp(join(tmpdir(), "flowscope-bundle-"));
  const flowsPath = join(dir, "flows.ndjson");
  const linesPath = join(dir, "lines.sha256");
  // A reader that leaves (a cancelled download) must end the spooling and the archive: a write waiting
  // for the closed output to drain would wait for good, and its spool files would never be removed.
  let gone = !out.writable;
  let gz: ReturnType<typeof createGzip> | undefined;
  const onGone = () => {
    gone = true;
    gz?.destroy(new BundleAbandoned());
  };
  out.once("close", onGone);
  const spools: ReturnType<typeof createWriteStream>[] = [];
  try {
    const fw = createWriteStream(flowsPath);
    const lw = createWriteStream(linesPath);
    spools.push(fw, lw);
    const h0 = sha256(queryJson);
    let head = h0;
    let n = 0;
    let flowBytes = 0;
    let lineBytes = 0;
    const flowsHash = createHash("sha256");
    const linesHash = createHash("sha256");
    for await (const raw of input.flows) {
      if (gone) throw new BundleAbandoned();
      const line = raw.endsWith("\n") ? raw.slice(0, -1) : raw;
      if (line.includes("\n")) throw new Error(`flow line ${n + 1} contains a newline`);
      const lb = Buffer.from(line + "\n");
      head = createHash("sha256").update(head).update(lb.subarray(0, lb.length - 1)).digest();
      const short = Buffer.from(sha256(lb.subarray(0, lb.length - 1)).toString("hex").slice(0, 16) + "\n");
      flowsHash.update(lb);
      linesHash.update(short);
      flowBytes += lb.length;
      lineBytes += short.length;
      n++;
      if (!fw.write(lb)) await new Promise<void>((r) => fw.once("drain", () => r()));
      if (!lw.write(short)) await new Promise<void>((r) => lw.once("drain", () => r()));
    }
    await spoolEnd(fw);
    await spoolEnd(lw);

    const manifest: BundleManifest = {
      format: "flowscope-evidence-bundle",
      version: 1,
      createdAt,
      files: {
        "query.json": { sha256: sha256(queryJson).toString("hex"), bytes: queryJson.length },
        "policies.json": { sha256: sha256(policiesJson).toString("hex"), bytes: policiesJson.length },
        "fqdn-cache.json": { sha256: sha256(fqdnJson).toString("hex"), bytes: fqdnJson.length },
        "flows.ndjson": { sha256: flowsHash.digest("hex"), bytes: flowBytes },
        "lines.sha256": { sha256: linesHash.digest("hex"), bytes: lineBytes },
      },
      flowLines: n,
      chain: { algorithm: "sha256(h_prev || line)", h0: h0.toString("hex"), head: head.toString("hex") },
    };
    const manifestJson = Buffer.from(JSON.stringify(manifest, null, 2) + "\n");

    if (gone) throw new BundleAbandoned();
    gz = createGzip();
    const done = new Promise<void>((resolve, reject) => {
      out.once("finish", resolve);
      out.once("close", resolve);
      out.once("error", reject);
      gz!.once("error", reject);
    });
    // awaited at the end; a reader leaving first rejects it, and the write that fails says so
    done.catch(() => undefined);
    gz.pipe(out);
    const z = gz;
    const addBuffer = async (name: string, data: Buffer) => {
      await write(z, tarHeader(name, data.length, mtime));
      await write(z, data);
      await write(z, tarPadding(data.length));
    };
    const addFile = async (name: string, path: string, size: number) => {
      await write(z, tarHeader(name, size, mtime));
      for await (const chunk of createReadStream(path)) await write(z, chunk as Buffer);
      await write(z, tarPadding(size));
    };
    await addBuffer("manifest.json", manifestJson);
    await addBuffer("query.json", queryJson);
    await addBuffer("policies.json", policiesJson);
    await addBuffer("fqdn-cache.json", fqdnJson);
    await addFile("flows.ndjson", flowsPath, flowBytes);
    await addFile("lines.sha256", linesPath, lineBytes);
    await write(z, TAR_END);
    z.end();
    await done;
    return manifest;
  } finally {
    out.off("close", onGone);
    // an abandoned spool is closed, not left holding its file descriptors
    for (const w of spools) {
      // writes still queued fail once it is destroyed: nothing waits for them any more
      w.on("error", () => undefined);
      w.destroy();
    }
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
