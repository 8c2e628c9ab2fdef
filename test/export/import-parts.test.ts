// The import CLI sends a large export as several requests: each part must end at a line end, and the
// parts together must be the file, byte for byte, whatever the chunking of the stream. The server and
// `observe --input-file` cut those bytes into bounded lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LineParts } from "../../server/cli/commands/import";
import { LINE_TOO_LONG, ndjsonLines } from "../../lib/flow/ndjson-lines";

async function collect(chunks: string[], limit: number): Promise<string[]> {
  const parts = new LineParts((async function* () { for (const c of chunks) yield Buffer.from(c); })(), limit);
  const out: string[] = [];
  for (let p = await parts.next(); p !== undefined; p = await parts.next()) {
    const bufs: Buffer[] = [];
    for await (const b of p) bufs.push(b);
    out.push(Buffer.concat(bufs).toString());
  }
  return out;
}

test("parts end at line ends, hold about the limit, and join back into the input", async () => {
  const lines = Array.from({ length: 40 }, (_, i) => `{"n":${i},"pad":"${"x".repeat(i % 7)}"}`);
  const text = lines.join("\n") + "\n";
  for (const chunk of [1, 3, 17, 64, 10_000]) {
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += chunk) chunks.push(text.slice(i, i + chunk));
    for (const limit of [1, 20, 50, 333, 1_000_000]) {
      const parts = await collect(chunks, limit);
      assert.equal(parts.join(""), text, `chunk ${chunk}, limit ${limit}`);
      for (const p of parts) {
        assert.ok(p.endsWith("\n"), `every part ends at a line end (chunk ${chunk}, limit ${limit})`);
        // a part closes at the first line end once it holds `limit` bytes
        assert.ok(p.slice(0, -1).lastIndexOf("\n") < limit, `no part runs past the line that reached the limit (chunk ${chunk}, limit ${limit})`);
      }
      if (limit >= text.length) assert.equal(parts.length, 1);
    }
  }
});

test("a last line without a newline, a line longer than the limit, and an empty stream", async () => {
  assert.deepEqual(await collect(["a\nbb", "b\ncc"], 2), ["a\n", "bbb\n", "cc"]);
  assert.deepEqual(await collect(["x".repeat(50), "y\nz\n"], 10), ["x".repeat(50) + "y\n", "z\n"]);
  assert.deepEqual(await collect([], 10), []);
  assert.deepEqual(await collect(["", ""], 10), []);
});

async function lines(chunks: string[], max: number): Promise<(string | "TOO LONG")[]> {
  const out: (string | "TOO LONG")[] = [];
  for await (const l of ndjsonLines((async function* () { for (const c of chunks) yield Buffer.from(c); })(), max)) out.push(l === LINE_TOO_LONG ? "TOO LONG" : l.toString());
  return out;
}

test("NDJSON lines: split across chunks, a line past the bound reported once and skipped to its end, the tail kept", async () => {
  assert.deepEqual(await lines(["ab", "c\nde\n", "f"], 10), ["abc", "de", "f"]);
  // a long line ending inside a chunk, and one that never ends within the bound
  assert.deepEqual(await lines(["0123456789AB\nok\n"], 10), ["TOO LONG", "ok"]);
  assert.deepEqual(await lines(["0123456", "789AB", "CDEF", "GH\nafter\n"], 10), ["TOO LONG", "after"]);
  assert.deepEqual(await lines(["x".repeat(25)], 10), ["TOO LONG"], "a stream with no newline ends as one too-long line, not a growing buffer");
  assert.deepEqual(await lines(["\n\n"], 10), ["", ""], "blank lines count as lines");
  assert.deepEqual(await lines([], 10), []);
});
