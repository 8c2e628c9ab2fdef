// A bundle whose reader leaves (a cancelled download) stops and removes its spool files, whether the
// reader leaves while the flows are spooled or while the archive is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import { PassThrough } from "node:stream";
import { BundleAbandoned, writeBundle } from "../../server/export";

const spools = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("flowscope-bundle-")).sort();

async function* flows(n: number, onLine?: (i: number) => void): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) {
    onLine?.(i);
    yield `{"flow":{"uuid":"u-${i}","Summary":"${"x".repeat(200)}"}}\n`;
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
}

test("a bundle whose reader goes away stops, rejects with BundleAbandoned and leaves no spool files", async () => {
  const before = spools();
  // gone while spooling: the reader closes after 1,000 lines
  const early = new PassThrough();
  const p1 = writeBundle(early, { flows: flows(1_000_000, (i) => i === 1000 && early.destroy()), query: {}, policies: [], fqdnCache: {}, createdAt: new Date() });
  await assert.rejects(p1, BundleAbandoned);
  // gone while the archive is written: nothing reads the output, which closes once it has backed up
  const late = new PassThrough({ highWaterMark: 1024 });
  setTimeout(() => late.destroy(), 500);
  const p2 = writeBundle(late, { flows: flows(20_000), query: {}, policies: [], fqdnCache: {}, createdAt: new Date() });
  await assert.rejects(p2, BundleAbandoned);
  assert.deepEqual(spools(), before);
});

test("an abandoned bundle closes its spool files", async () => {
  const fds = () => fs.readdirSync("/proc/self/fd").length;
  const early = new PassThrough();
  const before = fds();
  const p = writeBundle(early, { flows: flows(100_000, (i) => i === 500 && early.destroy()), query: {}, policies: [], fqdnCache: {}, createdAt: new Date() });
  await assert.rejects(p, BundleAbandoned);
  // closing is asynchronous: give the streams a turn
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(fds() <= before, `file descriptors: ${before} before, ${fds()} after`);
});
