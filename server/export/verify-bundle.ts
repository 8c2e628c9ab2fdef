// Checks an evidence bundle (bundle.ts) offline, reading it as a stream: the archive is gunzipped and
// walked file by file, and every file is hashed as its bytes pass. Nothing but the manifest and the
// per-line hashes is kept, so a bundle of millions of flows verifies in bounded memory, and a gzip
// bomb costs time, never memory. Bundles are exchanged as evidence: they are untrusted input.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { readTarStream, type TarEntrySink } from "./tar";
import type { BundleManifest } from "./bundle";

export interface VerifyResult {
  ok: boolean;
  errors: string[];
  /** flow lines found in flows.ndjson */
  lines: number;
  manifest?: BundleManifest;
}

/** far above any manifest this tool writes (six files, a few hundred bytes) */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** an archive entry that is no regular file (a folder, a link, a pax header) is read past up to this size */
const MAX_OTHER_ENTRY_BYTES = 1024 * 1024;
/** a file the manifest does not list is read past, up to this size */
const MAX_UNLISTED_BYTES = 64 * 1024 * 1024;
/**
 * Per-line hashes kept to name the first damaged line: 8 bytes a line on each side, so at most
 * 2 × 128 MiB. Past this many lines the chain still catches any damage, without a line number.
 */
const MAX_LOCATED_LINES = 16 * 1024 * 1024;

/** Growing list of 8-byte line hashes. */
class LineHashes {
  private buf = Buffer.alloc(8 * 1024);
  count = 0;
  /** true once more lines came than are kept */
  overflow = false;

  push(hash8: Buffer): void {
    if (this.count >= MAX_LOCATED_LINES) {
      this.overflow = true;
      return;
    }
    if ((this.count + 1) * 8 > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    hash8.copy(this.buf, this.count * 8, 0, 8);
    this.count++;
  }

  hex(i: number): string | undefined {
    return i < this.count ? this.buf.toString("hex", i * 8, i * 8 + 8) : undefined;
  }
}

/** flows.ndjson line by line: the file's hash, each line's short hash, and the chain over the lines */
class FlowLines implements TarEntrySink {
  readonly file = createHash("sha256");
  readonly hashes = new LineHashes();
  lines = 0;
  head: Buffer;
  private line: Hash = createHash("sha256");
  private link: Hash;
  private open = false;

  constructor(h0: Buffer) {
    this.head = h0;
    this.link = createHash("sha256").update(h0);
  }

  data(chunk: Buffer): void {
    this.file.update(chunk);
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      const end = nl < 0 ? chunk.length : nl;
      if (end > at) {
        this.line.update(chunk.subarray(at, end));
        this.link.update(chunk.subarray(at, end));
      }
      this.open = true;
      if (nl < 0) break;
      this.finishLine();
      at = nl + 1;
    }
  }

  private finishLine(): void {
    this.hashes.push(this.line.digest());
    this.head = this.link.digest();
    this.lines++;
    this.line = createHash("sha256");
    this.link = createHash("sha256").update(this.head);
    this.open = false;
  }

  end(): void {
    // a last line without its newline is still a line, as splitting the file gives it
    if (this.open) this.finishLine();
  }
}

/** lines.sha256: 16 hex digits and a newline per flow line */
class ExpectedLines implements TarEntrySink {
  readonly hashes = new LineHashes();
  private partial = "";

  data(chunk: Buffer): void {
    const text = this.partial + chunk.toString("latin1");
    const parts = text.split("\n");
    this.partial = parts.pop()!;
    // a line too long to be a hash is kept short: it cannot match anyway
    if (this.partial.length > 64) this.partial = this.partial.slice(0, 64);
    for (const p of parts) this.add(p);
  }

  private add(hex: string): void {
    // anything but 16 hex digits stands for a hash no line has
    this.hashes.push(/^[0-9a-f]{16}$/.test(hex) ? Buffer.from(hex, "hex") : Buffer.from("ffffffffffffffff", "hex"));
  }

  end(): void {
    if (this.partial !== "") this.add(this.partial);
  }
}

/** a file that is only hashed (and counted) */
class Hashed implements TarEntrySink {
  readonly hash = createHash("sha256");
  bytes = 0;
  data(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  end(): void {}
}

/** the manifest, kept whole (it is small) */
class Kept implements TarEntrySink {
  private readonly parts: Buffer[] = [];
  data(chunk: Buffer): void {
    this.parts.push(Buffer.from(chunk));
  }
  end(): void {}
  text(): string {
    return Buffer.concat(this.parts).toString("utf8");
  }
}

class Unreadable extends Error {}

function declaredTotal(m: BundleManifest): number {
  let n = 0;
  for (const f of Object.values(m.files)) n += f && Number.isSafeInteger(f.bytes) && f.bytes > 0 ? f.bytes : 0;
  return n;
}

/** room for lines added by a tamperer, well short of what a bomb would make us decompress */
function readLimit(m: BundleManifest): number {
  return 2 * declaredTotal(m) + 64 * 1024 * 1024;
}

function parseManifest(text: string): BundleManifest | string {
  let m: BundleManifest;
  try {
    m = JSON.parse(text) as BundleManifest;
  } catch (e) {
    return `manifest.json: invalid JSON: ${(e as Error).message}`;
  }
  if (!m || m.format !== "flowscope-evidence-bundle" || !m.files || typeof m.files !== "object" || !m.chain || typeof m.chain.h0 !== "string") {
    return "manifest.json: not a flowscope evidence bundle manifest";
  }
  return m;
}

/** Checks a bundle offline. Errors name the file, and for flows the first altered, missing or reordered line. */
export async function verifyBundle(source: Buffer | string): Promise<VerifyResult> {
  const errors: string[] = [];
  let manifest: BundleManifest | undefined;
  let manifestError: string | undefined;
  const seen = new Map<string, Hashed>();
  let flows: FlowLines | undefined;
  let expected: ExpectedLines | undefined;
  let flowsBeforeManifest = false;
  const sizeErrors: string[] = [];
  let archived = 0;

  const open = (name: string, size: number, type: string): TarEntrySink | undefined => {
    if (type !== "0") {
      // bundles hold regular files only; what else an archive holds is read past, and must be small
      if (size > MAX_OTHER_ENTRY_BYTES) throw new Unreadable(`${name || "an entry"} (tar type ${JSON.stringify(type)}) claims ${size} bytes: not a bundle's entry, not read past`);
      return undefined;
    }
    if (name === "manifest.json") {
      if (manifest || manifestError) throw new Unreadable("manifest.json appears twice");
      if (size > MAX_MANIFEST_BYTES) throw new Unreadable(`manifest.json is ${size} bytes, more than a manifest can be (${MAX_MANIFEST_BYTES})`);
      const kept = new Kept();
      return {
        data: (c) => kept.data(c),
        end: () => {
          const m = parseManifest(kept.text());
          if (typeof m === "string") manifestError = m;
          else manifest = m;
        },
      };
    }
    if (seen.has(name)) throw new Unreadable(`${name} appears twice`);
    const declared = manifest && Object.hasOwn(manifest.files, name) ? manifest.files[name] : undefined;
    if (declared && declared.bytes !== size) sizeErrors.push(`${name}: ${size} bytes in the archive, the manifest says ${declared.bytes}`);
    if (manifest && !declared && size > MAX_UNLISTED_BYTES) throw new Unreadable(`${name} is not listed in the manifest and is ${size} bytes`);
    // Damage is read through, to name the line it hit; an archive far larger than the manifest says
    // (a bomb) is not: that would only cost time.
    archived += size;
    if (manifest && archived > readLimit(manifest)) throw new Unreadable(`the archive holds more than ${archived} bytes of files, far more than the ${declaredTotal(manifest)} its manifest lists: not read further`);
    const hashed = new Hashed();
    seen.set(name, hashed);
    const also: TarEntrySink[] = [];
    if (name === "flows.ndjson") {
      if (manifest) also.push((flows = new FlowLines(Buffer.from(manifest.chain.h0, "hex"))));
      else flowsBeforeManifest = true;
    }
    if (name === "lines.sha256") also.push((expected = new ExpectedLines()));
    return {
      data: (c) => {
        hashed.data(c);
        for (const s of also) s.data(c);
      },
      end: () => {
        for (const s of also) s.end();
      },
    };
  };

  try {
    await readArchive(source, open);
    // Repacked with flows.ndjson ahead of the manifest (GNU tar sorts by name): the chain needs the
    // manifest's h0 before the lines go by, so they are read again, now that it is known. A pipe
    // cannot be read twice.
    if (flowsBeforeManifest && manifest && reReadable(source)) {
      const h0 = Buffer.from(manifest.chain.h0, "hex");
      await readArchive(source, (name, _size, type) => (type === "0" && name === "flows.ndjson" ? (flows = new FlowLines(h0)) : undefined));
      flowsBeforeManifest = false;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof Unreadable) return { ok: false, errors: [e.message], lines: flows?.lines ?? 0, ...(manifest ? { manifest } : {}) };
    if (typeof source === "string" && err.syscall !== undefined && (err.syscall === "open" || err.syscall === "read")) {
      return { ok: false, errors: [`cannot read bundle: ${err.message}`], lines: 0 };
    }
    return { ok: false, errors: [`not a readable bundle (gzip/tar): ${err.message}`], lines: 0 };
  }

  if (manifestError) return { ok: false, errors: [manifestError], lines: 0 };
  if (!manifest) return { ok: false, errors: ["manifest.json is missing"], lines: 0 };
  const digests = new Map([...seen].map(([name, h]) => [name, h.hash.digest("hex")]));
  for (const [name, meta] of Object.entries(manifest.files)) {
    const got = digests.get(name);
    if (got === undefined) errors.push(`${name}: missing from the bundle`);
    else if (got !== meta?.sha256) errors.push(`${name}: SHA-256 does not match the manifest`);
  }
  // the query is bound to the flows through the chain's first link, whatever the manifest's file list says
  if (digests.has("query.json") && digests.get("query.json") !== manifest.chain.h0) errors.push("query.json: does not match the hash chain's h0");
  for (const name of seen.keys()) if (!Object.hasOwn(manifest.files, name)) errors.push(`${name}: not listed in the manifest`);
  errors.push(...sizeErrors);

  if (flowsBeforeManifest) {
    errors.push("flows.ndjson: comes before manifest.json in the archive, and the archive is a stream that cannot be read twice, so its hash chain was not checked (export --bundle writes the manifest first)");
    return { ok: false, errors, lines: 0, manifest };
  }
  if (!flows) return { ok: errors.length === 0, errors, lines: 0, manifest };
  const chainOk = flows.head.toString("hex") === manifest.chain.head && flows.lines === manifest.flowLines;
  if (!chainOk) {
    errors.push(...locateDamage(flows.hashes, expected?.hashes));
    if (flows.lines !== manifest.flowLines) errors.push(`flows.ndjson: ${flows.lines} lines, manifest says ${manifest.flowLines}`);
  }
  return { ok: errors.length === 0, errors, lines: flows.lines, manifest };
}

/** Streams the gzipped tar at `source` through `open`; the streams are closed whatever happens. */
async function readArchive(source: Buffer | string, open: (name: string, size: number, type: string) => TarEntrySink | undefined): Promise<void> {
  const input = typeof source === "string" ? createReadStream(source) : Readable.from([source]);
  const gunzip = createGunzip();
  input.on("error", (e: Error) => gunzip.destroy(e));
  try {
    await readTarStream(input.pipe(gunzip), open);
  } finally {
    // the end blocks were reached (or the read failed): what follows is not decompressed
    input.destroy();
    gunzip.destroy();
  }
}

/** a buffer, or a path to a regular file: not a pipe, whose bytes are gone once read */
function reReadable(source: Buffer | string): boolean {
  if (typeof source !== "string") return true;
  try {
    return statSync(source).isFile();
  } catch {
    return false;
  }
}

/**
 * The first line whose hash differs from lines.sha256, and what happened to it. When lines.sha256 was
 * changed too (or lines were past what is kept), the chain head in the manifest still caught the damage,
 * just without a line number.
 */
function locateDamage(actual: LineHashes, expected: LineHashes | undefined): string[] {
  if (!expected || actual.overflow || expected.overflow) return ["flows.ndjson: hash chain does not match the manifest"];
  const n = Math.max(expected.count, actual.count);
  for (let i = 0; i < n; i++) {
    const a = actual.hex(i);
    const x = expected.hex(i);
    if (a === x) continue;
    const lineNo = i + 1;
    if (a === undefined) return [`flows.ndjson: line ${lineNo} is missing (bundle ends early)`];
    if (x === undefined) return [`flows.ndjson: line ${lineNo} was added`];
    const stillThere = indexOf(actual, x) >= 0;
    const was = indexOf(expected, a);
    if (!stillThere && a === expected.hex(i + 1)) return [`flows.ndjson: line ${lineNo} is missing (removed)`];
    if (stillThere && was >= 0) return [`flows.ndjson: line ${lineNo} is out of order (reordered; it was line ${was + 1})`];
    return [`flows.ndjson: line ${lineNo} was altered`];
  }
  return ["flows.ndjson: hash chain does not match the manifest"];
}

function indexOf(h: LineHashes, hex: string): number {
  for (let i = 0; i < h.count; i++) if (h.hex(i) === hex) return i;
  return -1;
}
