import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowStore, compareIds } from "../../lib/ui/flow-store";
import { DEFAULT_COLUMNS, DEFAULT_SORT, fitColumns, parseColumns, sortRows, timeSortKey } from "../../lib/ui/columns";
import { stored } from "./fixtures";

test("row ids compare numerically, not as text", () => {
  assert.ok(compareIds("9", "10") < 0);
  assert.ok(compareIds("100", "99") > 0);
  assert.equal(compareIds("7", "7"), 0);
});

test("rows read newest first, duplicates are ignored", () => {
  const s = new FlowStore(10);
  assert.equal(s.add([stored(1), stored(2), stored(3)]), 3);
  assert.equal(s.add([stored(3), stored(4)]), 1);
  assert.deepEqual([0, 1, 2, 3].map((i) => s.at(i)?.id), ["4", "3", "2", "1"]);
  assert.equal(s.at(4), undefined);
  assert.equal(s.newestId(), "4");
});

test("an older history page arriving after live rows merges in order", () => {
  const s = new FlowStore(10);
  s.add([stored(10), stored(11)]);
  s.add([stored(5), stored(12), stored(7)]);
  assert.deepEqual(s.toArray().map((f) => f.id), ["12", "11", "10", "7", "5"]);
});

test("the store keeps at most its capacity, dropping the oldest", () => {
  const s = new FlowStore(1000);
  for (let b = 0; b < 30; b++) s.add(Array.from({ length: 100 }, (_, i) => stored(b * 100 + i + 1)));
  assert.equal(s.size, 1000);
  assert.equal(s.evicted, 2000);
  assert.equal(s.at(0)?.id, "3000");
  assert.equal(s.at(999)?.id, "2001");
  assert.equal(s.get("1"), undefined, "evicted rows are forgotten");
  assert.ok(s.get("2001"));
  // a re-sent evicted flow is new again only if it is still the newest; otherwise merged then trimmed
  s.add([stored(1)]);
  assert.equal(s.size, 1000);
  assert.equal(s.at(999)?.id, "2001");
});

test("bad capacity is rejected with a clear message", () => {
  assert.throws(() => new FlowStore(0), /capacity/);
});

test("sorting by a column is stable and keeps newest first among equals", () => {
  const rows = [
    stored(4, { verdict: "DROPPED" }),
    stored(3, { verdict: "FORWARDED" }),
    stored(2, { verdict: "DROPPED" }),
    stored(1, { verdict: "AUDIT" }),
  ];
  const asc = sortRows(rows, { column: "verdict", dir: "asc" });
  assert.deepEqual(asc.map((f) => f.id), ["1", "4", "2", "3"]);
  const desc = sortRows(rows, { column: "verdict", dir: "desc" });
  assert.deepEqual(desc.map((f) => f.id), ["3", "4", "2", "1"]);
  assert.deepEqual(sortRows(rows, DEFAULT_SORT).map((f) => f.id), ["4", "3", "2", "1"]);
  assert.deepEqual(sortRows(rows, { column: "time", dir: "asc" }).map((f) => f.id), ["1", "2", "3", "4"]);
});

test("the Time column sorts by the record's time, also when rows were stored out of time order (an import)", () => {
  const at = (id: number, time: string) => stored(id, { time });
  // newest stored first; ids 5 and 4 came from an import of older flows after 3 live ones
  const rows = [
    at(5, "2025-01-01T11:00:00.5Z"),
    at(4, "2025-01-01T11:00:00.123456789Z"),
    at(3, "2025-01-01T12:00:00.000000002Z"),
    at(2, "2025-01-01T12:00:00Z"),
    at(1, "2025-01-01T13:00:00.000001+02:00"), // 11:00:00.000001Z: the oldest
  ];
  assert.deepEqual(sortRows(rows, { column: "time", dir: "desc" }).map((f) => f.id), ["3", "2", "5", "4", "1"]);
  assert.deepEqual(sortRows(rows, { column: "time", dir: "asc" }).map((f) => f.id), ["1", "4", "5", "2", "3"]);
  // equal times keep newest stored first
  const tied = [at(9, "2025-01-01T12:00:00Z"), at(8, "2025-01-01T12:00:00.000Z"), at(7, "2025-01-01T11:00:00Z")];
  assert.deepEqual(sortRows(tied, { column: "time", dir: "desc" }).map((f) => f.id), ["9", "8", "7"]);
  assert.equal(timeSortKey("2025-01-01T12:00:00.12Z"), "2025-01-01T12:00:00.120000000Z");
  assert.equal(timeSortKey("not a time"), "");
});

test("numeric columns sort as numbers and empty text sorts last", () => {
  const rows = [stored(1, { source: { identity: 10 } }), stored(2, { source: { identity: 9 } }), stored(3, { source: { identity: 100 } })];
  assert.deepEqual(sortRows(rows, { column: "srcIdentity", dir: "asc" }).map((f) => f.id), ["2", "1", "3"]);
  const withEmpty = [stored(1, { l7: undefined }), stored(2, { l7: { type: "REQUEST", http: { method: "GET", url: "/a" } } })];
  assert.deepEqual(sortRows(withEmpty, { column: "l7", dir: "asc" }).map((f) => f.id), ["2", "1"]);
});

test("column lists from storage drop unknown ids and fall back to defaults", () => {
  assert.deepEqual(parseColumns("time,bogus,verdict,time"), ["time", "verdict"]);
  assert.ok(parseColumns("bogus").includes("policy"));
  assert.ok(parseColumns(null).includes("time"));
});

test("a sliding window drops the rows stamped before its start from the oldest end, without counting them as evicted", () => {
  const s = new FlowStore(100);
  const at = (id: number, ms: number) => stored(id, { time: new Date(ms).toISOString() });
  s.add([at(1, 1000), at(2, 2000), at(3, 3000), at(4, 4000)]);
  const v = s.version;
  assert.equal(s.dropOlderThan(2500), 2);
  assert.deepEqual(s.toArray().map((f) => f.id), ["4", "3"]);
  assert.equal(s.get("1"), undefined);
  assert.equal(s.evicted, 0);
  assert.ok(s.version > v);
  assert.equal(s.dropOlderThan(2500), 0, "nothing more to drop");
  s.add([at(5, 5000)]);
  assert.equal(s.dropOlderThan(10_000), 3);
  assert.equal(s.size, 0);
  s.add([at(6, 6000)]);
  assert.deepEqual(s.toArray().map((f) => f.id), ["6"], "the store works on after being emptied");
});

test("columns that do not fit give way in a fixed order, never time, source, destination or verdict", () => {
  // the default columns' smallest widths add up to 950 px
  assert.deepEqual(fitColumns(DEFAULT_COLUMNS, 1200), { shown: [...DEFAULT_COLUMNS], hidden: [] });
  assert.deepEqual(fitColumns(DEFAULT_COLUMNS, 950), { shown: [...DEFAULT_COLUMNS], hidden: [] });
  assert.deepEqual(fitColumns(DEFAULT_COLUMNS, undefined).hidden, []);
  // 949 px: Type (110) goes
  assert.deepEqual(fitColumns(DEFAULT_COLUMNS, 949), { shown: ["time", "source", "destination", "port", "l7", "verdict", "policy"], hidden: ["type"] });
  // the width beside a details panel in a 1024 px window
  const beside = fitColumns(DEFAULT_COLUMNS, 644);
  assert.deepEqual(beside.shown, ["time", "source", "destination", "verdict", "policy"]);
  assert.deepEqual(beside.hidden, ["type", "port", "l7"]);
  // the column the rows are sorted by stays
  assert.deepEqual(fitColumns(DEFAULT_COLUMNS, 644, "l7").shown, ["time", "source", "destination", "l7", "verdict"]);
  // and is shown when this browser's choice leaves it out (a shared link sorted by it)
  assert.equal(DEFAULT_COLUMNS.includes("node"), false);
  assert.deepEqual(fitColumns(DEFAULT_COLUMNS, 5000, "node").shown, [...DEFAULT_COLUMNS, "node"]);
  assert.ok(fitColumns(DEFAULT_COLUMNS, 644, "node").shown.includes("node"));
  // far too narrow: the four that stay, in the chosen order
  assert.deepEqual(fitColumns(["verdict", "node", "time", "destination", "srcIp", "source"], 100).shown, ["verdict", "time", "destination", "source"]);
});

test("the store knows whether its stored order is time order: imports break it, eviction and clearing mend it", () => {
  const at = (id: number, sec: number) => stored(id, { time: new Date(Date.UTC(2025, 0, 1, 12, 0, sec)).toISOString() });
  const s = new FlowStore(4);
  s.add([at(1, 1), at(2, 2), at(3, 3)]);
  assert.equal(s.inTimeOrder(), true);
  // an older flow stored after newer ones (an import)
  s.add([at(4, 0)]);
  assert.equal(s.inTimeOrder(), false);
  // a history page merged in below re-checks every neighbour
  s.add([at(5, 5)]); // evicts 1; 3→4 is still backwards
  assert.equal(s.inTimeOrder(), false);
  s.add([at(6, 6), at(7, 7), at(8, 8)]); // evicts 2, 3 and 4: the backwards pair is gone
  assert.deepEqual(s.toArray().map((f) => f.id), ["8", "7", "6", "5"]);
  assert.equal(s.inTimeOrder(), true);
  // the sliding window's drop mends it too
  const w = new FlowStore(10);
  w.add([at(1, 10), at(2, 1), at(3, 11)]);
  assert.equal(w.inTimeOrder(), false);
  w.dropOlderThan(Date.UTC(2025, 0, 1, 12, 0, 10, 500)); // drops 1 and 2, both before 10.5 s: the backwards pair 1 → 2 leaves with them
  assert.equal(w.inTimeOrder(), true, w.toArray().map((f) => f.id).join());
  w.clear();
  assert.equal(w.inTimeOrder(), true);
  // out of time order, the window still drops every row before it, wherever it is stored
  w.add([at(10, 20), at(11, 5), at(12, 21), at(13, 6), at(14, 22)]);
  assert.equal(w.inTimeOrder(), false);
  assert.equal(w.dropOlderThan(Date.UTC(2025, 0, 1, 12, 0, 10)), 2);
  assert.deepEqual(w.toArray().map((f) => f.id), ["14", "12", "10"]);
  assert.equal(w.get("11"), undefined);
  assert.equal(w.inTimeOrder(), true);
  assert.equal(w.dropOlderThan(Date.UTC(2025, 0, 1, 12, 0, 10)), 0);
});

test("sorting by time with the store's own order hint gives what walking the rows gives, in and out of time order", () => {
  const at = (id: number, sec: number) => stored(id, { time: new Date(Date.UTC(2025, 0, 1, 12, 0, sec)).toISOString() });
  const s = new FlowStore(10);
  s.add([at(1, 1), at(2, 2), at(3, 3)]);
  const ids = (rows: { id: string }[]) => rows.map((f) => f.id).join();
  for (const dir of ["desc", "asc"] as const) {
    assert.equal(ids(sortRows(s.toArray(), { column: "time", dir }, s.size, s.inTimeOrder())), ids(sortRows(s.toArray(), { column: "time", dir })));
  }
  // an import stores older flows after newer ones: the hint says so, and the rows are sorted by time
  s.add([at(4, 0), at(5, 2)]);
  assert.equal(s.inTimeOrder(), false);
  const hinted = sortRows(s.toArray(), { column: "time", dir: "desc" }, s.size, s.inTimeOrder());
  assert.equal(ids(hinted), ids(sortRows(s.toArray(), { column: "time", dir: "desc" })));
  assert.equal(ids(hinted), "3,5,2,1,4");
});
