// The import CLI sends a large export as several requests: each part must end at a line end, and the
// parts together must be the file, byte for byte, whatever the chunking of the stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LineParts } from "../../server/cli/commands/import";

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
