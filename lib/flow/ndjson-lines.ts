// Cuts a stream of NDJSON bytes into lines without decoding it: each line can then be checked as
// UTF-8 on its own (decoding the stream would quietly turn a bad byte into U+FFFD), and a line past
// `maxLineBytes` is reported once and skipped to its end instead of growing without bound (reading
// /dev/zero or a file with no newlines must not exhaust memory).
export const LINE_TOO_LONG = Symbol("line too long");

/** the longest line an import or `observe --input-file` reads: far above any real flow record */
export const MAX_NDJSON_LINE_BYTES = 1024 * 1024;

export async function* ndjsonLines(chunks: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<Buffer | typeof LINE_TOO_LONG> {
  let inLongLine = false;
  let rest: Buffer = Buffer.alloc(0);
  for await (const raw of chunks) {
    const chunk = typeof raw === "string" ? Buffer.from(raw) : raw;
    rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    let nl: number;
    while ((nl = rest.indexOf(0x0a, from)) >= 0) {
      // the end of a line already reported as too long: the next line starts after it
      if (inLongLine) inLongLine = false;
      else yield nl - from > maxLineBytes ? LINE_TOO_LONG : rest.subarray(from, nl);
      from = nl + 1;
    }
    rest = rest.subarray(from);
    if (inLongLine) rest = Buffer.alloc(0);
    else if (rest.length > maxLineBytes) {
      // reported (and counted) once, then skipped to its end, so later line numbers stay right
      yield LINE_TOO_LONG;
      rest = Buffer.alloc(0);
      inLongLine = true;
    } else rest = Buffer.from(rest); // do not keep the whole chunk alive for its tail
  }
  if (rest.length && !inLongLine) yield rest;
}
