import { test } from "node:test";
import assert from "node:assert/strict";
import { filterParams, streamFilter } from "../../lib/ui/api-query";
import { defaultView, parseView, serializeView, timeWindow, toggleFilter, viewHref, type ViewState } from "../../lib/ui/view-state";

test("a view survives the URL round trip", () => {
  const v: ViewState = {
    ...defaultView(),
    namespaces: ["shop", "kube-system"],
    verdict: "DROPPED",
    filters: ["from:label=app=frontend", "!to:dns=api.github.com", "policy=CiliumNetworkPolicy/shop/allow-web"],
    range: "custom",
    since: "2025-01-01T10:00:00.000Z",
    until: "2025-01-01T11:00:00.000Z",
    pane: "table",
    hide: { host: true, kubeDns: true, world: false, remoteNode: false },
    edge: "shop/frontend->shop/api",
    flow: "42",
    sort: { column: "source", dir: "asc" },
  };
  const back = parseView(new URLSearchParams(serializeView(v).toString()));
  assert.deepEqual(back, { ...v, namespaces: ["kube-system", "shop"] });
  assert.equal(serializeView(v).get("sort"), "source.asc");
});

test("the table's sort is in the URL unless it is the default; a bad one is named and ignored", () => {
  assert.equal(serializeView({ ...defaultView(), sort: { column: "time", dir: "desc" } }).get("sort"), null);
  assert.equal("sort" in parseView(new URLSearchParams("sort=time.desc")), false, "the default is no sort in the view");
  assert.deepEqual(parseView(new URLSearchParams("sort=time.asc")).sort, { column: "time", dir: "asc" });
  for (const bad of ["nosuchcolumn.asc", "source", "source.up", "__proto__.asc", "constructor.asc", "toString.desc"]) {
    const v = parseView(new URLSearchParams({ sort: bad }));
    assert.equal(v.sort, undefined, bad);
    assert.deepEqual(v.problems, [`sort ${JSON.stringify(bad)} ignored: expected COLUMN.asc or COLUMN.desc with a column of the table`]);
  }
});

test("the default view has an empty URL and equal views give equal URLs", () => {
  assert.equal(viewHref(defaultView()), "/");
  const a = serializeView({ ...defaultView(), namespaces: ["b", "a"] }).toString();
  const b = serializeView({ ...defaultView(), namespaces: ["a", "b"] }).toString();
  assert.equal(a, b);
});

test("hand-edited URLs fall back field by field instead of failing", () => {
  const v = parseView(new URLSearchParams("verdict=sometimes&range=forever&pane=x&ns=a,,a&hide=world,bogus&since=2025-01-01"));
  assert.equal(v.verdict, undefined);
  assert.equal(v.range, "live");
  assert.equal(v.since, undefined, "since only applies to custom ranges");
  assert.equal(v.pane, "split");
  assert.deepEqual(v.namespaces, ["a"]);
  assert.equal(v.hide.world, true);
  assert.equal(v.hide.host, false);
  assert.equal(parseView(new URLSearchParams("verdict=dropped")).verdict, "DROPPED");
  // what was ignored is said, not silently dropped, and never written back
  assert.deepEqual(v.problems, [
    'verdict "sometimes" ignored: not a Hubble verdict (FORWARDED, DROPPED, AUDIT, ERROR, REDIRECTED, TRACED, TRANSLATED)',
    'range "forever" ignored (live, 5m, 1h, custom)',
  ]);
  assert.equal(serializeView(v).get("verdict"), null);
  assert.equal(parseView(new URLSearchParams("verdict=REDIRECTED")).verdict, "REDIRECTED");
  assert.equal("problems" in parseView(new URLSearchParams("verdict=traced")), false);
});

test("relative ranges resolve against now; live has no window", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  assert.deepEqual(timeWindow(defaultView(), now), {});
  assert.deepEqual(timeWindow({ ...defaultView(), range: "5m" }, now), { since: "2025-01-01T11:55:00.000Z" });
  assert.deepEqual(timeWindow({ ...defaultView(), range: "1h" }, now), { since: "2025-01-01T11:00:00.000Z" });
});

test("the API query carries namespaces, verdict, free text and window in lib/filter's parameter names", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  const v: ViewState = { ...defaultView(), namespaces: ["a", "b"], verdict: "DROPPED", filters: ["from:pod=a/x", "!ip=1.2.3.4"], range: "5m" };
  const p = filterParams(v, now);
  assert.deepEqual(p.getAll("namespace"), ["a", "b"]);
  assert.equal(p.get("verdict"), "DROPPED");
  assert.equal(p.get("q"), "from:pod=a/x !ip=1.2.3.4");
  assert.equal(p.get("since"), "2025-01-01T11:55:00.000Z");
  assert.equal(new URLSearchParams(streamFilter(v)).get("since"), null, "a live subscription has no window");
});

test("the API query parses with lib/filter", async () => {
  const { fromSearchParams } = await import("../../lib/filter/parse-params");
  const v: ViewState = { ...defaultView(), namespaces: ["shop"], verdict: "DROPPED", filters: ["to:label=app=api"] };
  const q = fromSearchParams(filterParams(v, Date.now()));
  assert.ok(q.whitelist.length > 0);
  for (const f of q.whitelist) assert.deepEqual(f.verdict, ["DROPPED"]);
});

test("clicking a value toggles its filter entry", () => {
  const v = toggleFilter(defaultView(), "from:ip=10.0.0.1");
  assert.deepEqual(v.filters, ["from:ip=10.0.0.1"]);
  assert.deepEqual(toggleFilter(v, "from:ip=10.0.0.1").filters, []);
});
