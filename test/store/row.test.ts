// A stored row is built as a list of values for speed; it must still put every column's value in the
// place ROW_COLUMNS (and so the INSERT) names it, for every kind of record the datapath makes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Datapath } from "../../server/datapath";
import { DEFAULT_SCENARIO } from "../../server/config";
import { FragmentRegistry } from "../../server/store/fragments";
import { flowColumns, flowToRow, MAX_JSON, MAX_TEXT, ROW_COLUMNS } from "../../server/store/row";
import { makeFlow } from "../helpers/flows";
import { migratedMemoryDb } from "../helpers/memory-db";

test("each row value sits in the column ROW_COLUMNS names for it", () => {
  const db = migratedMemoryDb();
  const fragments = new FragmentRegistry(db);
  const dp = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const entries = dp.trafficEntries();
  const envs = entries.flatMap((e) => dp.process(e, new Date(), { explain: false }).flows);
  envs.push(makeFlow({ srcNs: "a", dstNs: "b" }));
  const kinds = new Set<string>();
  envs.forEach((env, i) => {
    const values = flowToRow(i + 1, env, fragments);
    assert.equal(values.length, ROW_COLUMNS.length);
    const byName = Object.fromEntries(ROW_COLUMNS.map((c, k) => [c, values[k]]));
    const want = flowColumns(env);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(byName[k], v, `column ${k} of record ${i}`);
    assert.equal(byName.id, i + 1);
    assert.equal(fragments.expand(byName.body as string).includes(`"uuid":"${env.flow.uuid}"`), true);
    assert.equal(typeof byName.src_ep, env.flow.source ? "number" : "object");
    kinds.add(`${env.flow.verdict}/${env.flow.Type}/${env.flow.l7?.type ?? "-"}`);
  });
  // the datapath's records cover forwarded, dropped and L7 kinds, so every column is exercised
  assert.ok(kinds.size >= 4, [...kinds].join(" "));
  db.close();
});

test("a record too large to keep is cut to size whichever field carries the bulk, and says so", () => {
  const db = migratedMemoryDb();
  const fragments = new FragmentRegistry(db);
  const huge = makeFlow({ srcNs: "a", dstNs: "b" });
  huge.node_name = "N".repeat(900_000);
  huge.flow.node_name = "N".repeat(900_000);
  huge.flow.IP = { source: "1".repeat(100_000), destination: "<img src=x onerror=alert(1)>".repeat(2000) };
  huge.flow.uuid = "u".repeat(5000);
  huge.flow.l7 = { type: "REQUEST", http: { method: "GET", url: "http://web/x", protocol: "HTTP/1.1" } };
  const values = flowToRow(1, huge, fragments);
  const body = fragments.expand(values[ROW_COLUMNS.indexOf("body")] as string);
  assert.ok(body.length <= MAX_JSON, `stored ${body.length} bytes`);
  const stored = JSON.parse(body) as { flow: { Summary?: string; node_name?: string; IP?: { source?: string } }; node_name?: string };
  assert.match(stored.flow.Summary ?? "", /\[flowscope: record truncated, \d+ bytes\]/);
  assert.equal(stored.flow.IP?.source?.length, MAX_TEXT);
  assert.ok((stored.node_name ?? "").length <= 256);
  assert.deepEqual((stored.flow as { l7?: unknown }).l7, huge.flow.l7, "the L7 part, small here, is kept");
  db.close();
});

test("extensions of any size are bounded too: a large one is dropped from a record that must be trimmed", () => {
  const db = migratedMemoryDb();
  const fragments = new FragmentRegistry(db);
  const env = makeFlow({ srcNs: "a", dstNs: "b" });
  const ext: Record<string, unknown> = { "@type": "type.googleapis.com/x.Y" };
  for (let i = 0; i < 60_000; i++) ext[`k${i}`] = i;
  env.flow.extensions = ext as never;
  const body = fragments.expand(flowToRow(1, env, fragments)[ROW_COLUMNS.indexOf("body")] as string);
  assert.ok(body.length <= MAX_JSON, `stored ${body.length} bytes`);
  const stored = JSON.parse(body) as { flow: { Summary?: string; extensions?: unknown; source?: { namespace?: string } } };
  assert.equal(stored.flow.extensions, undefined);
  assert.match(stored.flow.Summary ?? "", /\[flowscope: record trimmed to fit, \d+ bytes\]/);
  assert.equal(stored.flow.source?.namespace, "a", "the rest of the record is kept");
  db.close();
});
