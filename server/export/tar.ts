// Minimal POSIX ustar: regular files only, names up to 100 bytes. Enough for evidence bundles, and small
// enough to audit.
const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

export function tarHeader(name: string, size: number, mtimeSec: number): Buffer {
  const nameBytes = Buffer.from(name, "utf8");
  if (nameBytes.length > 100) throw new Error(`tar: file name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write(octal(0o644, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(Math.floor(mtimeSec), 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write("0", 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

export function tarPadding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

export const TAR_END = Buffer.alloc(BLOCK * 2);

export interface TarEntry {
  name: string;
  data: Buffer;
}

/** Reads a whole (uncompressed) tar; throws on a corrupt header with the offset. */
export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    const stored = parseInt(h.subarray(148, 156).toString("ascii").replace(/[\0 ]+$/g, "").trim(), 8);
    if (stored !== sum) throw new Error(`tar: bad header checksum at offset ${off}`);
    const name = h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(h.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156] || 48);
    off += BLOCK;
    if (off + size > buf.length) throw new Error(`tar: ${name} is truncated`);
    if (type === "0") out.push({ name, data: buf.subarray(off, off + size) });
    off += size + tarPadding(size).length;
  }
  return out;
}

/** What a streaming read is told about one regular file of the archive, in archive order. */
export interface TarEntrySink {
  /** called for each piece of the file's data (never more than `size` bytes in all) */
  data(chunk: Buffer): void;
  end(): void;
}

/**
 * Reads a tar from chunks as they come, so an archive far larger than memory can be checked: each
 * entry's data goes to the sink `open` gives for it (none: skipped), and nothing is kept. `open` hears of
 * every entry, whatever its type ("0" a regular file, "5" a folder, …), so it can bound what is read past.
 * Returns when the end blocks are reached (what follows them is not read). `open` may throw to stop the
 * read: a file larger than its caller allows, say. Throws on a corrupt header or an archive that ends
 * inside a file.
 */
export async function readTarStream(chunks: AsyncIterable<Buffer>, open: (name: string, size: number, type: string) => TarEntrySink | undefined): Promise<void> {
  const header = Buffer.alloc(BLOCK);
  let headerLen = 0;
  let offset = 0;
  /** the file being read, and its bytes (data, then padding) still to come */
  let sink: TarEntrySink | undefined;
  let dataLeft = 0;
  let padLeft = 0;
  let name = "";
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      if (dataLeft > 0) {
        const n = Math.min(dataLeft, chunk.length - at);
        sink?.data(chunk.subarray(at, at + n));
        dataLeft -= n;
        at += n;
        offset += n;
        if (dataLeft === 0) sink?.end();
        continue;
      }
      if (padLeft > 0) {
        const n = Math.min(padLeft, chunk.length - at);
        padLeft -= n;
        at += n;
        offset += n;
        continue;
      }
      const n = Math.min(BLOCK - headerLen, chunk.length - at);
      chunk.copy(header, headerLen, at, at + n);
      headerLen += n;
      at += n;
      if (headerLen < BLOCK) continue;
      headerLen = 0;
      if (header.every((b) => b === 0)) return;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
      const stored = parseInt(header.subarray(148, 156).toString("ascii").replace(/[\0 ]+$/g, "").trim(), 8);
      if (stored !== sum) throw new Error(`tar: bad header checksum at offset ${offset}`);
      name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
      const size = parseInt(header.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`tar: bad size for ${name} at offset ${offset}`);
      const type = String.fromCharCode(header[156] || 48);
      offset += BLOCK;
      sink = open(name, size, type);
      dataLeft = size;
      padLeft = tarPadding(size).length;
      if (size === 0) sink?.end();
    }
  }
  if (dataLeft > 0) throw new Error(`tar: ${name} is truncated`);
}
