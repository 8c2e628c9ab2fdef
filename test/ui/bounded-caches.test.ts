// A page left open for days must not grow without bound: the store, the sort-key tables, the
// client-side filter's memo and the map layout hold what the recent rows / maps need, however many
// have passed through. Each test pushes far more through than the structure may keep.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { StoredFlow } from "../../lib/api-types";
import { COLUMN_BY_ID, compareKeys, prepareSortKeys, sortKeyStats, sortRows, type ColumnId } from "../../lib/ui/columns";
import { MEMO_LIMIT, viewPredicate } from "../../lib/ui/client-filter";
import { FlowStore } from "../../lib/ui/flow-store";
import { MapLayout, RETIRE_AFTER_UPDATES } from "../../lib/ui/map-layout";
import { SortKeyTable, keyLimit, rowsOf } from "../../lib/ui/sort-keys";
import { node } from "./fixtures";

/**
 * A cheap flow whose source (a world IP), L7 summary (latency) and drop reason differ on nearly every
 * row, like a long-running page sees, and whose destination repeats.
 */
function row(i: number): StoredFlow {
  // the time column sorts by buffer order and never reaches a key table
  const time = "2025-01-01T12:00:00.000Z";
  return {
    id: String(i),
    time,
    node_name: `node-${i % 3}`,
    flow: {
      time,
      verdict: i % 5 === 0 ? "DROPPED" : "FORWARDED",
      ...(i % 5 === 0 ? { drop_reason_desc: `REASON_${i % 1000}` } : {}),
      IP: { source: `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, destination: "10.0.0.2", ipVersion: "IPv4" },
      l4: { TCP: { source_port: 40000 + (i % 1000), destination_port: 80 + (i % 7) } },
      source: { identity: 2, labels: ["reserved:world"] },
      destination: { identity: 2000 + (i % 50), namespace: "shop", pod_name: `api-${i % 50}`, labels: ["k8s:app=api"] },
      l7: { type: "RESPONSE", latency_ns: String(1_000_000 + i * 10), http: { method: "GET", code: 200, url: `http://api/items/${i}` } },
      traffic_direction: "INGRESS",
    },
  };
}

test("1,000,000 rows through the store and the sort keys: every column's key table stays within its bound", () => {
  const capacity = 10_000;
  const store = new FlowStore(capacity);
  const TOTAL = 1_000_000;
  const BATCH = 500;
  const bound = keyLimit(capacity);
  let peak = 0;
  for (let start = 1; start <= TOTAL; start += BATCH) {
    const batch: StoredFlow[] = [];
    for (let i = start; i < start + BATCH; i++) batch.push(row(i));
    store.add(batch);
    prepareSortKeys(batch, store);
    for (const s of Object.values(sortKeyStats())) peak = Math.max(peak, s!.keys);
    // the table re-sorts now and then, as a sorted live view does
    if (start % 100_000 === 1) sortRows(store.toArray(), { column: "l7", dir: "asc" }, store.size);
  }
  assert.equal(store.size, capacity);
  assert.equal(store.evicted, TOTAL - capacity);
  assert.equal(store.get("1"), undefined, "evicted rows are gone from the id index");
  const stats = sortKeyStats();
  assert.ok(peak <= bound, `a key table reached ${peak} keys, bound ${bound}`);
  for (const id of ["source", "l7"] as ColumnId[]) {
    assert.ok(stats[id]!.compactions >= 10, `${id}: a new key per row must have compacted, got ${stats[id]!.compactions}`);
  }
  for (const id of ["destination", "port", "verdict", "direction"] as ColumnId[]) {
    assert.ok(stats[id]!.keys <= 100, `${id} has few distinct keys, holds ${stats[id]!.keys}`);
  }
  // and sorting after all those compactions still gives the collator's order
  const rows = store.toArray();
  for (const column of ["source", "l7", "destination", "port"] as ColumnId[]) {
    const col = COLUMN_BY_ID[column];
    const key = col.key ?? col.text;
    const got = sortRows(rows, { column, dir: "asc" }, store.size);
    assert.equal(got.length, rows.length);
    for (let i = 1; i < got.length; i++) assert.ok(compareKeys(key(got[i - 1]!), key(got[i]!)) <= 0, `${column} out of order at ${i}`);
  }
});

test("compaction keeps the order of the rows held and recomputes evicted rows' keys on demand", () => {
  const t = new SortKeyTable((r) => r.flow.IP?.source ?? "");
  const a = Array.from({ length: 3000 }, (_, i) => row(3000 - i));
  assert.equal(t.sort(a, "asc").length, 3000);
  const b = Array.from({ length: 3000 }, (_, i) => row(9000 - i));
  t.sort(b, "asc");
  assert.ok(t.size >= 6000);
  t.compact(rowsOf(b));
  assert.equal(t.size, 3000, "only the keys of the rows kept");
  const ref = (rows: StoredFlow[]) => [...rows].sort((x, y) => compareKeys(x.flow.IP!.source!, y.flow.IP!.source!) || Number(y.id) - Number(x.id)).map((r) => r.id);
  assert.deepEqual(t.sort(b, "asc").map((r) => r.id), ref(b));
  // rows that were not in the compaction (stale ids) are re-interned, not confused with others
  assert.deepEqual(t.sort(a, "asc").map((r) => r.id), ref(a));
  // a sort that finds the table over its limit compacts it to the rows it sorts
  const before = t.compactions;
  const c = Array.from({ length: 2000 }, (_, i) => row(20000 - i));
  assert.deepEqual(t.sort(c, "asc").map((r) => r.id), ref(c));
  assert.equal(t.compactions, before + 1);
  assert.equal(t.size, 2000);
  // and the check against the rows held compacts only when over
  assert.equal(t.compactIfOver(rowsOf(c)), false);
  for (let i = 0; i < 3000; i++) t.idOf(row(30000 + i));
  assert.equal(t.compactIfOver(rowsOf(c)), true);
  assert.equal(t.size, 2000);
});

test("the client filter's memo starts over instead of growing with every distinct key", () => {
  const pred = viewPredicate({ namespaces: [], filters: ["from:ip=198.0.0.7"] })!;
  let kept = 0;
  const N = 3 * MEMO_LIMIT + 123;
  for (let i = 1; i <= N; i++) if (pred(row(i))) kept++;
  assert.equal(kept, 1, "answers stay right across the resets");
  assert.ok(pred.memoSize!() <= MEMO_LIMIT, `memo holds ${pred.memoSize!()}`);
  assert.ok(pred.memoSize!() > 0);
});

test("the map layout forgets cards unseen for a while; cards still shown never move", () => {
  const layout = new MapLayout();
  const stable = Array.from({ length: 300 }, (_, i) => node(`ns${i % 20}/wl${Math.floor(i / 20)}`));
  const first = layout.update(stable);
  let peak = 0;
  for (let u = 0; u < 1000; u++) {
    // 20 new FQDN peers and 5 short-lived workloads in a namespace of their own, every refresh
    const churn = [
      ...Array.from({ length: 20 }, (_, k) => node(`fqdn:h${u}-${k}.example.com`, { kind: "fqdn", label: `h${u}-${k}.example.com` })),
      ...Array.from({ length: 5 }, (_, k) => node(`batch/job-${u}-${k}`)),
    ];
    const r = layout.update([...stable, ...churn]);
    peak = Math.max(peak, layout.placed);
    if (u % 97 === 0) for (const n of stable) assert.deepEqual(r.nodes.get(n.id), first.nodes.get(n.id), `${n.id} moved at update ${u}`);
  }
  const bound = 300 + 25 * (RETIRE_AFTER_UPDATES + 1);
  assert.ok(peak <= bound, `layout held ${peak} cards, bound ${bound}`);
  const r = layout.update(stable);
  assert.ok(r.nodes.size <= bound);
  // once the churn stops, its islands empty and go
  for (let u = 0; u <= RETIRE_AFTER_UPDATES; u++) layout.update(stable);
  const last = layout.update(stable);
  assert.equal(layout.placed, 300);
  assert.equal(last.islands.filter((i) => i.id.includes("batch")).length, 0);
  for (const n of stable) assert.deepEqual(last.nodes.get(n.id), first.nodes.get(n.id));
});
