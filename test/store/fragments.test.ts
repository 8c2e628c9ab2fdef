// Stored records keep their repeated parts (endpoints, policy lists) once, in `fragments`. What a
// reader gets back must be byte for byte what was ingested, for datapath records and for imported
// ones alike; label filters must find both; a restart must reuse the dictionary; and a database
// written by the previous layout must be converted, not lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { tempDir } from "../helpers/tmp";
import { FlowBus } from "../../server/bus";
import { FlowStore } from "../../server/store/flow-store";
import { FragmentRegistry } from "../../server/store/fragments";
import { applyMigrations } from "../../server/store/migrate";
import { Datapath } from "../../server/datapath";
import { DEFAULT_SCENARIO } from "../../server/config";
import { toHubbleJson } from "../../lib/flow/json";
import { parseSearchParams } from "../../lib/filter/params";
import { compileQuery } from "../../lib/filter/match";
import type { FlowEnvelope } from "../../lib/flow/types";
import { makeFlow } from "../helpers/flows";
import { migratedMemoryDb } from "../helpers/memory-db";

function tmpDir(): string {
  return tempDir("fragments-");
}

function datapathFlows(requests: number): FlowEnvelope[] {
  const dp = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const entries = dp.trafficEntries();
  const out: FlowEnvelope[] = [];
  for (let i = 0; i < requests; i++) out.push(...dp.process(entries[i % entries.length]!, new Date(), { explain: false }).flows);
  return out;
}

/** a record as an import produces it: a plain parsed object, nothing shared or frozen (and its own uuid) */
function imported(env: FlowEnvelope): FlowEnvelope {
  const copy = JSON.parse(toHubbleJson(env)) as FlowEnvelope;
  copy.flow.uuid = randomUUID();
  return copy;
}

function exportAll(store: FlowStore): string[] {
  return [...store.reader.iterateJson(parseSearchParams(new URLSearchParams("")))].map((r) => r.json);
}

test("records read back byte for byte, shared parts stored once, and the rows are much smaller", async () => {
  const dir = tmpDir();
  const dbPath = path.join(dir, "flows.db");
  const store = await FlowStore.open(dbPath, { maxFlows: 1_000_000 });
  const sim = datapathFlows(300);
  const imports = sim.slice(0, 200).map(imported);
  // an imported endpoint too large to share whole is trimmed, and still answers label filters
  const huge = makeFlow({ srcNs: "big", srcPod: "many-labels" });
  huge.flow.source!.labels = Array.from({ length: 3000 }, (_, i) => `k8s:label-${i}=${"v".repeat(20)}`);
  try {
    const bus = new FlowBus(0);
    bus.subscribe((b) => store.ingest(b));
    const published = bus.publish([...sim, ...imports, huge]);
    store.flush();
    const lines = exportAll(store);
    assert.equal(lines.length, published.length);
    for (let i = 0; i < sim.length + imports.length; i++) assert.equal(lines[i], toHubbleJson(published[i]!.envelope), `record ${i} reads back unchanged`);
    const last = JSON.parse(lines[lines.length - 1]!) as FlowEnvelope;
    assert.equal(last.flow.source!.labels!.length, 64, "labels of an oversized endpoint are bounded");

    const db = new Database(dbPath, { readonly: true });
    const { body, fragments } = db.prepare("SELECT SUM(LENGTH(body)) AS body, (SELECT COUNT(*) FROM fragments) AS fragments FROM flows").get() as { body: number; fragments: number };
    const full = lines.reduce((n, l) => n + l.length, 0);
    db.close();
    assert.ok(body < full * 0.6, `stored bodies (${body} chars) are well under the full records (${full})`);
    // imports repeat the simulator's endpoints and policy lists: same JSON, same fragments
    assert.ok(fragments < 200, `${fragments} fragments for ${published.length} records`);

    for (const q of ["label=k8s:app=api", "from_label=k8s:app=frontend", "to_label=k8s:tier=data&verdict=FORWARDED", "label=k8s:label-7"]) {
      const query = parseSearchParams(new URLSearchParams(q));
      const match = compileQuery(query);
      const want = published.filter((f) => match(JSON.parse(toHubbleJson(f.envelope)).flow)).map((f) => String(f.id));
      const got = store.reader.page(query, { limit: 10_000, order: "asc" }).flows.map((f) => f.id);
      assert.deepEqual(got, want, q);
      if (q !== "label=k8s:label-7") assert.ok(want.length > 0, `${q} matches something`);
    }
    assert.equal(store.reader.page(parseSearchParams(new URLSearchParams("label=k8s:label-7")), { limit: 10, order: "asc" }).flows.length, 1);
  } finally {
    await store.close();
  }

  // after a restart the dictionary is reloaded: the same records add no fragment
  const again = await FlowStore.open(dbPath, { maxFlows: 1_000_000 });
  try {
    const before = again.fragments.size();
    const bus = new FlowBus(again.reader.lastId());
    bus.subscribe((b) => again.ingest(b));
    const more = sim.slice(0, 50).map(imported);
    bus.publish(more);
    again.flush();
    assert.equal(again.fragments.size(), before);
    const lines = exportAll(again);
    assert.equal(lines.length, sim.length + 200 + 1 + 50);
    assert.deepEqual(lines.slice(-50), more.map((f) => toHubbleJson(f)));
  } finally {
    await again.close();
  }
});

test("a database written with the previous row layout is converted at start, ids and records intact", async () => {
  const dir = tmpDir();
  // a project tree holding only the first migration, as an older Flowscope had it
  const oldRoot = path.join(dir, "old");
  fs.mkdirSync(path.join(oldRoot, "prisma", "migrations"), { recursive: true });
  fs.copyFileSync("prisma/schema.prisma", path.join(oldRoot, "prisma", "schema.prisma"));
  fs.copyFileSync("prisma/migrations/migration_lock.toml", path.join(oldRoot, "prisma", "migrations", "migration_lock.toml"));
  fs.cpSync("prisma/migrations/20261126000000_init", path.join(oldRoot, "prisma", "migrations", "20261126000000_init"), { recursive: true });
  fs.copyFileSync("package.json", path.join(oldRoot, "package.json"));
  fs.copyFileSync("prisma.config.ts", path.join(oldRoot, "prisma.config.ts"));
  fs.symlinkSync(path.resolve("node_modules"), path.join(oldRoot, "node_modules"));
  const dbPath = path.join(dir, "flows.db");
  await applyMigrations(dbPath, oldRoot);

  const flows = datapathFlows(40);
  const old = new Database(dbPath);
  const ins = old.prepare("INSERT INTO flows (id, uuid, time_ms, node_name, verdict, event_type, flow_type, src_labels, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  flows.forEach((f, i) => ins.run(10 + i * 2, f.flow.uuid, Date.parse(f.time), f.node_name, f.flow.verdict, f.flow.event_type?.type ?? 0, f.flow.Type, "\n" + (f.flow.source?.labels ?? []).join("\n") + "\n", toHubbleJson(f)));
  old.close();

  const store = await FlowStore.open(dbPath, { maxFlows: 1_000_000 });
  try {
    const rows = [...store.reader.iterateJson(parseSearchParams(new URLSearchParams("")))];
    assert.deepEqual(rows.map((r) => r.id), flows.map((_, i) => 10 + i * 2));
    assert.deepEqual(rows.map((r) => r.json), flows.map((f) => toHubbleJson(f)));
    assert.equal(store.storedFlows(), flows.length);
    const api = store.reader.page(parseSearchParams(new URLSearchParams("from_label=k8s:app=frontend")), { limit: 10_000, order: "asc" }).flows;
    assert.equal(api.length, flows.filter((f) => f.flow.source?.labels?.includes("k8s:app=frontend")).length);
    assert.ok(api.length > 0);
    const legacy = store.db.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'flows_v1'").get();
    assert.equal(legacy, undefined, "the old table is gone once converted");
  } finally {
    await store.close();
  }
});

test("shared parts that never repeat stop being added to the dictionary, and still read back unchanged", () => {
  const db = migratedMemoryDb();
  const fragments = new FragmentRegistry(db);
  const base = makeFlow({ srcNs: "a", dstNs: "b" });
  let last = "";
  let lastEnv: FlowEnvelope | undefined;
  for (let i = 0; i < 10_050; i++) {
    const env = imported(base);
    env.flow.extensions = { "@type": "type.googleapis.com/flowscope.v1.FlowDecision", rule: `rule-${i}` };
    last = fragments.encode(env).body;
    lastEnv = env;
  }
  const rows = fragments.takeNew();
  assert.equal(rows.filter((r) => r[1] === "extension").length, 10_000);
  assert.equal(rows.filter((r) => r[1] === "endpoint").length, 2);
  assert.ok(last.includes('"rule":"rule-10049"'), "beyond the bound the value stays inline");
  assert.equal(fragments.expand(last), toHubbleJson(lastEnv!));
  db.close();
});

test("a stored body becomes the stream's bytes directly: the same bytes as its expanded line, for any content", () => {
  const db = migratedMemoryDb();
  const fragments = new FragmentRegistry(db);
  const envs = datapathFlows(40);
  // text from traffic outside ASCII, in the record and inside a shared part
  const odd = makeFlow({ srcNs: "ünïcode", srcPod: "pod-😀" });
  odd.flow.l7 = { type: "REQUEST", http: { method: "GET", url: "http://svc/ścieżka/文字?q=\u2028", protocol: "HTTP/1.1", headers: [] } };
  // larger than the assembly buffer's first size, so it has to grow mid-record
  const big = makeFlow({ srcNs: "big", srcPod: "p" });
  big.flow.destination!.labels = Array.from({ length: 900 }, (_, i) => `k8s:label-${i}=${"ż".repeat(10)}`);
  big.flow.l7 = { type: "REQUEST", http: { method: "POST", url: `http://svc/${"é".repeat(30_000)}`, protocol: "HTTP/1.1", headers: [] } };
  for (const env of [...envs, odd, big]) {
    const { body } = fragments.encode(env);
    const head = '{"id":"12345",';
    const want = Buffer.from(head + fragments.expand(body).slice(1));
    assert.ok(fragments.expandBytes(head, body).equals(want), `bytes differ for ${env.flow.uuid}`);
    assert.equal(fragments.expand(body), toHubbleJson(env));
  }
  db.close();
});
