// While the database refuses writes (another connection holds the write lock longer than the writer's
// busy timeout), ingest loses nothing: the writer thread keeps the refused batches and writes them, in
// order and with the fragments they use, once the lock is gone; /api/status's error clears after that.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { tempDir } from "../helpers/tmp";
import { FlowBus } from "../../server/bus";
import { FlowStore } from "../../server/store/flow-store";
import { toHubbleJson } from "../../lib/flow/json";
import { parseSearchParams } from "../../lib/filter/params";
import type { FlowEnvelope } from "../../lib/flow/types";
import { makeFlow } from "../helpers/flows";

function flowsFrom(pod: string, n: number): FlowEnvelope[] {
  return Array.from({ length: n }, (_, i) => {
    const env = makeFlow({ srcPod: `${pod}-${i % 7}`, dstPod: "server" });
    env.flow.source!.labels = [`k8s:app=${pod}`, `k8s:replica=${i % 7}`];
    return JSON.parse(JSON.stringify(env)) as FlowEnvelope;
  });
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("batches refused while another connection holds the write lock are written once it is released, none lost or reordered", async () => {
  const dbPath = path.join(tempDir("retry-"), "flows.db");
  const store = await FlowStore.open(dbPath, { maxFlows: 1_000_000 });
  const bus = new FlowBus(store.reader.lastId());
  bus.subscribe((b) => store.ingest(b));
  const published = new Map<number, string>();
  const publish = (envs: FlowEnvelope[]) => {
    for (const f of bus.publish(envs)) published.set(f.id, toHubbleJson(f.envelope));
  };
  try {
    publish(flowsFrom("before", 50));
    store.flush();
    assert.equal(store.writer.written, 50);

    const lock = new Database(dbPath);
    lock.exec("BEGIN IMMEDIATE");
    try {
      // new endpoints: their fragments travel with the refused batch
      publish(flowsFrom("during", 120));
      store.flush(); // returns once the writer thread has answered: after its busy timeout, refused
      assert.match(store.writer.lastError ?? "", /locked|busy/i, "the refusal is reported");
      assert.equal(store.writer.written, 50);
      assert.equal(store.storedFlows(), 170, "refused flows still count as waiting, not as lost");
      assert.ok(store.writer.lag >= 120);
      publish(flowsFrom("queued", 30));
    } finally {
      lock.exec("ROLLBACK");
      lock.close();
    }
    // the writer thread retries by itself; the next batch (or its timer) carries the queued ones first
    publish(flowsFrom("after", 10));
    store.flush();
    await until("the queued batches to be written", () => store.writer.written === 210 && store.writer.lag === 0);
    assert.equal(store.writer.dropped, 0);
    assert.equal(store.writer.lastError, undefined, "the error clears once nothing waits");

    const rows = [...store.reader.iterateJson(parseSearchParams(new URLSearchParams("")))];
    assert.deepEqual(rows.map((r) => r.id), [...published.keys()], "every published id, once, in order");
    for (const r of rows) assert.equal(r.json, published.get(r.id), `row ${r.id} reads back as published (fragments included)`);
  } finally {
    await store.close();
  }
});
