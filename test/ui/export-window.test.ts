// An export from the UI holds the flows of a stated window: a live view's ends at the click, a paused
// view's at the pause (not later flows the frozen table never showed), a custom window is kept as is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exportParams, exportWindowText } from "../../lib/ui/api-query";
import { localDateTime, localZone } from "../../lib/ui/flow-view";
import { defaultView } from "../../lib/ui/view-state";
import { compileQuery, fromSearchParams } from "../../lib/filter";
import { makeFlow } from "../helpers/flows";

const at = Date.parse("2026-11-27T10:00:00.000Z");

test("live view: all stored flows up to the moment given, with the filters", () => {
  const p = exportParams({ ...defaultView(), verdict: "DROPPED", namespaces: ["shop"] }, at);
  assert.equal(p.get("until"), "2026-11-27T10:00:00.000Z");
  assert.equal(p.get("since"), null);
  assert.deepEqual(p.getAll("namespace"), ["shop"]);
  assert.equal(p.get("verdict"), "DROPPED");
  // the server's filter keeps a flow of the pause's millisecond and drops one a millisecond later
  const keep = compileQuery(fromSearchParams(p));
  const flowAt = (ms: number) => {
    const env = makeFlow({ srcNs: "shop", dstNs: "shop" });
    const time = new Date(ms).toISOString();
    return { ...env.flow, time, verdict: "DROPPED" as const };
  };
  assert.equal(keep(flowAt(at)), true);
  assert.equal(keep(flowAt(at + 1)), false);
});

test("relative view paused: the window ends at the pause and starts its length before it", () => {
  const p = exportParams({ ...defaultView(), range: "5m" }, at);
  assert.equal(p.get("since"), "2026-11-27T09:55:00.000Z");
  assert.equal(p.get("until"), "2026-11-27T10:00:00.000Z");
});

test("custom window: exported as chosen", () => {
  const v = { ...defaultView(), range: "custom" as const, since: "2026-11-27T08:00:00.000Z", until: "2026-11-27T09:00:00.000Z" };
  const p = exportParams(v, at);
  assert.equal(p.get("since"), v.since);
  assert.equal(p.get("until"), v.until);
});

test("the export menu says which flows the file will hold", () => {
  assert.match(exportWindowText(defaultView(), undefined), /^all stored flows up to the click$/);
  assert.match(exportWindowText(defaultView(), at), /^all stored flows up to the pause at /);
  assert.match(exportWindowText({ ...defaultView(), range: "1h" }, at), /^flows of the hour before the pause at /);
  // in the zone the rows and the range inputs use, and naming it: not UTC beside local rows
  const custom = exportWindowText({ ...defaultView(), range: "custom", since: "2026-11-27T08:00:00.000Z", until: "2026-11-27T09:00:00.000Z" }, undefined);
  const end = (iso: string) => `${localDateTime(iso)} (${localZone(new Date(iso))})`;
  assert.equal(custom, `flows from ${end("2026-11-27T08:00:00.000Z")} to ${end("2026-11-27T09:00:00.000Z")}`);
  // each end with its own offset (a summer window seen in winter), a zone-less time read as the server
  // reads it (UTC), and the other forms the server takes
  const summer = exportWindowText({ ...defaultView(), range: "custom", since: "2026-07-01T10:00:00Z", until: "2026-01-10T08:00:00" }, undefined);
  assert.equal(summer, `flows from ${end("2026-07-01T10:00:00.000Z")} to ${end("2026-01-10T08:00:00.000Z")}`);
  assert.match(exportWindowText({ ...defaultView(), range: "custom", since: "1h" }, undefined), /^flows from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC[+-]\d\d:\d\d\) to the click$/);
  assert.match(exportWindowText(defaultView(), at), / \(UTC[+-]\d\d:\d\d\)$/);
});

test("local times name their zone by its offset", () => {
  const d = new Date("2026-06-01T12:00:00Z");
  const off = -d.getTimezoneOffset();
  assert.match(localZone(d), /^UTC[+-]\d\d:\d\d$/);
  assert.equal(localZone(d), `UTC${off < 0 ? "-" : "+"}${String(Math.floor(Math.abs(off) / 60)).padStart(2, "0")}:${String(Math.abs(off) % 60).padStart(2, "0")}`);
  const local = new Date(d.getTime());
  assert.equal(localDateTime(d.toISOString()), `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, "0")}-${String(local.getDate()).padStart(2, "0")} ${String(local.getHours()).padStart(2, "0")}:${String(local.getMinutes()).padStart(2, "0")}:00`);
});
