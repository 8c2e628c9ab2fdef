// Endpoint fragments are collected: retention bounds the rows, and the endpoints no kept row uses must
// go too, from the database and from the registry's memory, without any kept row (or a line the
// stream still holds) losing a fragment it refers to, across restarts and with endpoints that come back.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { tempDir } from "../helpers/tmp";
import { FlowBus, type SequencedFlow } from "../../server/bus";
import { FlowStore } from "../../server/store/flow-store";
import { FragmentRegistry } from "../../server/store/fragments";
import type { RetentionPolicy } from "../../server/store/retention";
import { toHubbleJson } from "../../lib/flow/json";
import { parseSearchParams } from "../../lib/filter/params";
import type { FlowEnvelope } from "../../lib/flow/types";
import { makeFlow } from "../helpers/flows";
import { migratedMemoryDb } from "../helpers/memory-db";

const everything = () => parseSearchParams(new URLSearchParams(""));

/** an imported record (plain object) from pod `pod`, with labels long enough to matter */
function podFlow(pod: string, dst = "server"): FlowEnvelope {
  const env = makeFlow({ srcPod: pod, dstPod: dst });
  env.flow.source!.labels = Array.from({ length: 12 }, (_, j) => `k8s:label-${j}=${"v".repeat(40)}-${pod}`);
  return JSON.parse(JSON.stringify(env)) as FlowEnvelope;
}

interface Audit {
  flows: number;
  endpointFragments: number;
  /** endpoint fragments no row uses */
  unused: number;
  /** references (in bodies or src_ep/dst_ep) to fragments not stored */
  dangling: number;
}

function audit(dbPath: string): Audit {
  const db = new Database(dbPath, { readonly: true });
  try {
    const ids = new Set((db.prepare("SELECT id FROM fragments").raw().all() as [number][]).map((r) => r[0]));
    let dangling = 0;
    for (const [body, s, d] of db.prepare("SELECT body, src_ep, dst_ep FROM flows").raw().iterate() as IterableIterator<[string, number | null, number | null]>) {
      const parts = body.split("\u0000");
      for (let i = 1; i < parts.length; i += 2) if (!ids.has(parseInt(parts[i]!, 36))) dangling++;
      if (s !== null && !ids.has(s)) dangling++;
      if (d !== null && !ids.has(d)) dangling++;
    }
    const q = db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM flows) AS flows, (SELECT COUNT(*) FROM fragments WHERE kind = 'endpoint') AS endpointFragments,
          (SELECT COUNT(*) FROM fragments WHERE kind = 'endpoint' AND id NOT IN
            (SELECT src_ep FROM flows WHERE src_ep IS NOT NULL UNION SELECT dst_ep FROM flows WHERE dst_ep IS NOT NULL)) AS unused`,
      )
      .get() as Omit<Audit, "dangling">;
    return { ...q, dangling };
  } finally {
    db.close();
  }
}

/** every stored row, expanded by each of the reader's paths, against the records published under its id */
function assertRowsIntact(store: FlowStore, byId: Map<number, FlowEnvelope>, label: string): number {
  const rows = [...store.reader.iterateJson(everything())];
  assert.ok(rows.length > 0, label);
  for (const r of rows) {
    assert.ok(!/"(source|destination)":null/.test(r.json), `${label}: row ${r.id} lost an endpoint`);
    const want = byId.get(r.id);
    assert.ok(want, `${label}: row ${r.id} was published`);
    assert.equal(r.json, toHubbleJson(want), `${label}: row ${r.id} reads back unchanged`);
    JSON.parse(r.json);
  }
  // export's path (expandBytes) and a scan reader on a connection of its own
  const scan = store.openScanReader();
  try {
    // chunks smaller than a line (each line a buffer of its own), holding a few, and holding all
    for (const chunkBytes of [300, 4096, 1 << 20]) {
      const chunks = [...scan.reader.iterateNdjsonChunks(everything(), { chunkBytes })];
      assert.equal(Buffer.concat(chunks).toString("utf8"), rows.map((r) => `${r.json}\n`).join(""), `${label}: export bytes in ${chunkBytes}-byte chunks`);
      for (const c of chunks.slice(0, -1)) assert.ok(c.length <= chunkBytes || c.indexOf(10) === c.length - 1, "a chunk is full lines within its size, or one line of its own");
    }
  } finally {
    scan.close();
  }
  const page = store.reader.page(everything(), { limit: 50, order: "desc" });
  for (const f of page.flows) assert.deepEqual(f.flow, (JSON.parse(toHubbleJson(byId.get(Number(f.id))!)) as FlowEnvelope).flow, `${label}: page row ${f.id}`);
  return rows.length;
}

function publishAll(bus: FlowBus, store: FlowStore, envs: FlowEnvelope[], byId: Map<number, FlowEnvelope>, watch?: () => void): SequencedFlow[] {
  const out: SequencedFlow[] = [];
  for (let i = 0; i < envs.length; i += 250) {
    const published = bus.publish(envs.slice(i, i + 250));
    for (const f of published) byId.set(f.id, f.envelope);
    out.push(...published);
    if ((i / 250) % 4 === 3) store.flush();
    watch?.();
  }
  store.flush();
  return out;
}

test("endpoints no kept flow uses leave the database and memory; kept rows, restarts and returning endpoints stay intact", async () => {
  const dbPath = path.join(tempDir("fragment-gc-"), "flows.db");
  const policy: RetentionPolicy = { maxFlows: 1000, fragmentGraceFlows: 0, fragmentGraceMs: 0 };
  const byId = new Map<number, FlowEnvelope>();
  const N = 8000;
  let store = await FlowStore.open(dbPath, policy);
  try {
    const bus = new FlowBus(0);
    bus.subscribe((b) => store.ingest(b));
    let maxInMemory = 0;
    const envs = Array.from({ length: N }, (_, i) => podFlow(`pod-${i}`));
    publishAll(bus, store, envs, byId, () => (maxInMemory = Math.max(maxInMemory, store.fragments.endpointCount())));

    // collections ran by themselves while the endpoints came in, and memory stayed bounded
    assert.ok(store.writer.collectedFragments > 0, "ingest collected by itself");
    assert.ok(maxInMemory < 8000, `registry held at most ${maxInMemory} endpoints`);
    let a = audit(dbPath);
    assert.equal(a.flows, 1000);
    assert.equal(a.dangling, 0);
    assert.ok(a.endpointFragments < 8000, `${a.endpointFragments} endpoint fragments after ${N} distinct endpoints`);

    // two collections with nothing in between: every endpoint is out of memory, and only the kept rows' remain stored
    store.collectFragments();
    store.collectFragments();
    store.flush();
    a = audit(dbPath);
    assert.equal(a.dangling, 0);
    assert.equal(a.unused, 0, "no endpoint fragment without a row");
    assert.equal(a.endpointFragments, 1001, "the kept rows' 1,000 sources and their one destination");
    assert.equal(store.fragments.endpointCount(), 0);
    assert.ok(store.fragments.size() < 10, `${store.fragments.size()} fragments in memory`);
    assert.equal(assertRowsIntact(store, byId, "after collection"), 1000);

    // endpoints come back: one whose fragment is still stored (used by kept rows) and one long deleted
    const back = bus.publish([podFlow(`pod-${N - 1}`), podFlow("pod-3")]);
    for (const f of back) byId.set(f.id, f.envelope);
    store.flush();
    a = audit(dbPath);
    assert.equal(a.dangling, 0);
    assert.equal(assertRowsIntact(store, byId, "after endpoints came back"), 1000);
    const db = new Database(dbPath, { readonly: true });
    const srcOf = (id: number) => (db.prepare("SELECT src_ep FROM flows WHERE id = ?").get(id) as { src_ep: number }).src_ep;
    assert.notEqual(srcOf(back[0]!.id), srcOf(N), "an endpoint seen again after collection gets a new id");
    db.close();
  } finally {
    await store.close();
  }

  // a restart loads only what the newest rows use, and reads the rest from the database
  store = await FlowStore.open(dbPath, policy);
  try {
    assert.ok(store.fragments.endpointCount() <= 1002, `${store.fragments.endpointCount()} endpoints loaded at start`);
    assert.equal(assertRowsIntact(store, byId, "after restart"), 1000);
    const bus = new FlowBus(store.reader.lastId());
    bus.subscribe((b) => store.ingest(b));
    // the same endpoints again, then new ones until every old row is gone
    const envs = [podFlow(`pod-${N - 2}`), podFlow("pod-4"), ...Array.from({ length: 3000 }, (_, i) => podFlow(`later-${i}`))];
    publishAll(bus, store, envs, byId);
    store.collectFragments();
    store.collectFragments();
    store.flush();
    const a = audit(dbPath);
    assert.equal(a.flows, 1000);
    assert.equal(a.dangling, 0);
    assert.equal(a.unused, 0);
    assert.equal(a.endpointFragments, 1001);
    assert.equal(assertRowsIntact(store, byId, "after restart and more ingest"), 1000);
  } finally {
    await store.close();
  }
  // and once more, with the writer's start-up cleanup
  store = await FlowStore.open(dbPath, policy);
  try {
    store.flush();
    assert.equal(audit(dbPath).dangling, 0);
    assert.equal(assertRowsIntact(store, byId, "second restart"), 1000);
  } finally {
    await store.close();
  }
});

test("with the default grace, lines the stream still holds keep their fragments though retention removed their rows", async () => {
  const dbPath = path.join(tempDir("fragment-gc-"), "flows.db");
  const store = await FlowStore.open(dbPath, { maxFlows: 1000 });
  try {
    const bus = new FlowBus(0);
    bus.subscribe((b) => store.ingest(b));
    const byId = new Map<number, FlowEnvelope>();
    const published = publishAll(bus, store, Array.from({ length: 5000 }, (_, i) => podFlow(`pod-${i}`)), byId);
    const lines = published.map((f) => f.line!());
    store.collectFragments();
    store.collectFragments();
    store.flush();
    assert.equal(store.fragments.endpointCount(), 0);
    // the ring's lines, made from the stored encoding, of rows retention has deleted
    for (const [i, line] of lines.entries()) {
      const want = toHubbleJson(published[i]!.envelope);
      assert.equal(line.json, want, `line ${line.id}`);
      assert.equal(line.wire().toString("utf8"), `{"id":"${line.id}",` + want.slice(1));
    }
    assert.equal(audit(dbPath).dangling, 0);
    assertRowsIntact(store, byId, "default grace");
  } finally {
    await store.close();
  }
});

test("the registry: a collected id is never handed out again, ids of rows in flight are kept, and usage is per epoch", () => {
  const db = migratedMemoryDb();
  // due after 6 new endpoints: a, b and c bring five (their sources, and two destinations)
  const reg = new FragmentRegistry(db, 6);
  const insert = db.prepare("INSERT INTO fragments (id, kind, json, labels) VALUES (?, ?, ?, ?)");
  const enc = (env: FlowEnvelope) => {
    const e = reg.encode(env);
    for (const f of reg.takeNew()) insert.run(f);
    return e;
  };
  // a frozen endpoint, as the datapath shares them: looked up by identity
  const shared = makeFlow({ srcPod: "frozen" });
  Object.freeze(shared.flow.source);
  const a = enc(shared);
  const b = enc(podFlow("b"));
  const c = enc(podFlow("c"));
  assert.equal(reg.collectDue(), false);
  enc(podFlow("d"));
  enc(podFlow("e"));
  assert.equal(reg.collectDue(), true, "due after minCollect new endpoints");
  // epoch 1 ends: everything was used in it, nothing goes
  assert.deepEqual(reg.collect(), []);
  // epoch 2: only the frozen one and c used; b's id is in a row not yet committed
  assert.equal(enc(shared).srcEp, a.srcEp);
  enc(podFlow("c"));
  const dropped = reg.collect(new Set([b.srcEp!]));
  assert.ok(!dropped.includes(b.srcEp!), "kept for a row in flight");
  assert.ok(!dropped.includes(a.srcEp!) && !dropped.includes(c.srcEp!));
  assert.ok(dropped.length >= 2, `dropped ${dropped}`);
  // epoch 3: nothing used; everything goes, the frozen endpoint too
  const all = reg.collect();
  assert.ok(all.includes(a.srcEp!) && all.includes(b.srcEp!) && all.includes(c.srcEp!));
  assert.equal(reg.endpointCount(), 0);
  // the text of collected ids comes from the database
  const cBack = JSON.parse(reg.expand(c.body)) as FlowEnvelope;
  assert.equal(cBack.flow.source!.pod_name, "c");
  assert.deepEqual(cBack.flow.source!.labels, podFlow("c").flow.source!.labels);
  // seen again: new ids, by value and by JSON alike
  const a2 = enc(shared);
  const c2 = enc(podFlow("c"));
  assert.ok(a2.srcEp! > c.srcEp! && c2.srcEp! > a2.srcEp!, "new ids");
  assert.notEqual(a2.srcEp, a.srcEp);
  assert.equal(JSON.parse(reg.expand(a2.body)).flow.source.pod_name, "frozen");
  assert.equal(JSON.parse(reg.expand(a.body)).flow.source.pod_name, "frozen", "the old id still reads back while stored");
  db.close();
});
