// Paging through stored flows gives exactly the flows the in-memory filter selects, in order, for
// queries SQL answers alone, queries split into per-side branches, and queries with a residual.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { tempDir } from "../helpers/tmp";
import { FlowBus, type SequencedFlow } from "../../server/bus";
import { FlowStore } from "../../server/store/flow-store";
import { parseSearchParams } from "../../lib/filter/params";
import { compileQuery } from "../../lib/filter/match";
import type { FlowQuery } from "../../lib/filter/types";
import { makeFlow } from "../helpers/flows";

const QUERIES = [
  "",
  "namespace=ns-1",
  "namespace=ns-1&verdict=DROPPED",
  "namespace=ns-1&namespace=ns-2",
  "from_pod=ns-3/client-1",
  "to_pod=ns-2/&not.verdict=FORWARDED",
  "verdict=DROPPED",
  "ip=10.0.0.0/24",
  "label=k8s:app=client-2",
  // one node, ANDed with the rest (what observe asks each node for)
  "node=node-2",
  "node=node-2&namespace=ns-1&namespace=ns-2",
  "node=node-1&label=k8s:app=client-2&not.verdict=DROPPED",
  "node=node-3",
  // CEL is decided row by row
  "cel_expression=_flow.source.pod_name.startsWith('client-1')&namespace=ns-1",
];

/** A store holding 3,000 flows of which one in 97 (31) comes from pod "rare"; `body` runs with it, then it closes. */
async function withRareFlows(prefix: string, body: (store: FlowStore, bus: FlowBus, rare: SequencedFlow[]) => Promise<void> | void): Promise<void> {
  const store = await FlowStore.open(path.join(tempDir(prefix), "flows.db"), { maxFlows: 1_000_000 });
  try {
    const bus = new FlowBus(0);
    bus.subscribe((b) => store.ingest(b));
    const published = bus.publish(Array.from({ length: 3000 }, (_, i) => makeFlow({ srcNs: "shop", srcPod: i % 97 === 0 ? "rare" : "common" })));
    store.flush();
    await body(store, bus, published.filter((f) => f.envelope.flow.source?.pod_name === "rare"));
  } finally {
    await store.close();
  }
}

test("pages of every query, both orders, equal the in-memory filter's answer", async () => {
  const dir = tempDir("reader-");
  const store = await FlowStore.open(path.join(dir, "flows.db"), { maxFlows: 1_000_000 });
  try {
    const bus = new FlowBus(0);
    bus.subscribe((b) => store.ingest(b));
    const published = bus.publish(
      Array.from({ length: 1200 }, (_, i) =>
        makeFlow({ srcNs: `ns-${i % 5}`, dstNs: `ns-${(i * 3) % 7}`, srcPod: `client-${i % 4}`, dstPod: `server-${i % 3}`, verdict: i % 6 === 0 ? "DROPPED" : "FORWARDED", node: i % 11 < 3 ? "node-2" : "node-1" }),
      ),
    );
    store.flush();
    for (const q of QUERIES) {
      const query = parseSearchParams(new URLSearchParams(q));
      const match = compileQuery(query);
      const want = published.filter((f) => match(f.envelope.flow)).map((f) => String(f.id));
      for (const order of ["desc", "asc"] as const) {
        const got: string[] = [];
        let cursor: number | undefined;
        for (let guard = 0; guard < 1000; guard++) {
          const page = store.reader.page(query, { limit: 37, order, cursor });
          got.push(...page.flows.map((f) => f.id));
          if (page.nextCursor === undefined) break;
          cursor = page.nextCursor;
        }
        assert.deepEqual(got, order === "desc" ? [...want].reverse() : want, `${q || "(all)"} ${order}`);
        if (q.startsWith("node=node-2")) assert.ok(want.length > 0 && want.length < published.length / 2, `${q}: a part of the flows`);
      }
    }
  } finally {
    await store.close();
  }
});

test("a row-by-row scan that runs out of time ends its page early with a cursor, and paging on still finds every match", async () => {
  const dir = tempDir("reader-");
  const store = await FlowStore.open(path.join(dir, "flows.db"), { maxFlows: 1_000_000 });
  try {
    const bus = new FlowBus(0);
    bus.subscribe((b) => store.ingest(b));
    const published = bus.publish(Array.from({ length: 3000 }, (_, i) => makeFlow({ srcNs: `ns-${i % 5}`, dstNs: `ns-${i % 7}`, srcPod: `client-${i % 9}` })));
    store.flush();
    // an HTTP header is checked row by row (a residual filter: no column holds headers), so SQL hands
    // over every row of this OR and the check keeps one in nine; a zero time budget stops after the first chunk
    const query: FlowQuery = { whitelist: [{ source_label: ["app in (client-3)"] }, { http_header: [{ key: "x-none", value: "1" }] }], blacklist: [] };
    const match = compileQuery(query);
    const want = published.filter((f) => match(f.envelope.flow)).map((f) => String(f.id));
    assert.ok(store.reader.page(query, { limit: 50, order: "asc" }).flows.length === 50, "the query matches rows");
    const first = store.reader.page(query, { limit: 400, order: "asc", scanMs: 0 });
    assert.ok(first.nextCursor !== undefined && first.flows.length < want.length, "the page ended early with a cursor");
    assert.equal(first.scanStopped, true, "and says it stopped scanning, so a count of its rows is not read as all matches");
    assert.equal(store.reader.page(query, { limit: 50, order: "asc" }).scanStopped, undefined, "a full page did not stop early");
    const got = first.flows.map((f) => f.id);
    let cursor: number | undefined = first.nextCursor;
    for (let guard = 0; cursor !== undefined && guard < 1000; guard++) {
      const page = store.reader.page(query, { limit: 400, order: "asc", cursor, scanMs: 0 });
      got.push(...page.flows.map((f) => f.id));
      cursor = page.nextCursor;
    }
    assert.deepEqual(got, want);
  } finally {
    await store.close();
  }
});

test("a search SQL decides alone also stops on time, one window of ids at a time, and paging on finds every match in order", () =>
  // one flow in 97 matches the label; SQL decides it (no residual), reading every row it is given
  withRareFlows("reader-window-", (store, _bus, rare) => {
    const query = parseSearchParams(new URLSearchParams("from_label=app%3Drare"));
    const want = rare.map((f) => String(f.id));
    for (const order of ["desc", "asc"] as const) {
      const expected = order === "desc" ? [...want].reverse() : want;
      // a whole page when time allows
      assert.deepEqual(store.reader.page(query, { limit: 1000, order }).flows.map((f) => f.id), expected, order);
      // no time at all and windows of 200 ids: each page is one window's matches, with a cursor
      const first = store.reader.page(query, { limit: 1000, order, scanMs: 0, scanWindow: 200 });
      assert.equal(first.scanStopped, true, `${order}: stopped`);
      assert.ok(first.flows.length <= 3, `${order}: one window's matches, got ${first.flows.length}`);
      const got = first.flows.map((f) => f.id);
      let cursor = first.nextCursor;
      for (let guard = 0; cursor !== undefined && guard < 100; guard++) {
        const page = store.reader.page(query, { limit: 1000, order, cursor, scanMs: 0, scanWindow: 200 });
        got.push(...page.flows.map((f) => f.id));
        cursor = page.nextCursor;
      }
      assert.deepEqual(got, expected, `${order}: paging on`);
    }
  }));

test("export's chunks come one window of ids at a time, with empty chunks between, and hold every match, whether SQL or the row-by-row check decides", () =>
  withRareFlows("reader-export-", (store, _bus, rare) => {
    const scan = store.openScanReader();
    try {
      for (const q of ["from_label=app%3Drare", "ip_version=IPv4&from_label=app%3Drare"]) {
        const query = parseSearchParams(new URLSearchParams(q));
        const want = rare.map((f) => `${f.json}\n`).join("");
        const chunks = [...scan.reader.iterateNdjsonChunks(query, { extensions: true, scanWindow: 200, heartbeatMs: 0 })];
        assert.equal(Buffer.concat(chunks).toString("utf8"), want, q);
        // one empty chunk per window of 200 ids: the export route yields to the event loop on each
        assert.equal(chunks.filter((c) => c.length === 0).length, 15, q);
      }
    } finally {
      scan.close();
    }
  }));

test("the evidence bundle's scan comes one window of ids at a time with heartbeats between, whether SQL or the row-by-row check decides, and holds only what was stored when it began", () =>
  withRareFlows("reader-scan-json-", (store, bus, rareFlows) => {
    const rare = rareFlows.map((f) => f.id);
    assert.equal(rare.length, 31);
    const scan = store.openScanReader();
    try {
      // 3,000 ids in windows of 200: a heartbeat after each statement (15), and when rows are checked one
      // by one, also every 16 rows of a statement (12 more in each window of 200 rows)
      const cases: [string, number[], number][] = [
        ["from_label=app%3Drare", rare, 15], // SQL alone
        ["ip_version=IPv4&from_label=app%3Drare", rare, 15], // SQL, then the IP version row by row (a few rows a window)
        ["ip_version=IPv6", [], 15 + 15 * 12], // every row checked one by one, none matches
      ];
      for (const [q, want, beats] of cases) {
        const items = [...scan.reader.scanJson(parseSearchParams(new URLSearchParams(q)), { scanWindow: 200, heartbeatMs: 0 })];
        assert.deepEqual(items.flatMap((r) => (r === null ? [] : [r.id])), want, q);
        assert.equal(items.filter((r) => r === null).length, beats, q);
        for (const r of items) if (r !== null) assert.equal(JSON.parse(r.json).flow.source.pod_name, "rare");
      }
      // rows committed while the scan runs are left out: it ends at the newest id it saw at its start
      const it = scan.reader.scanJson(parseSearchParams(new URLSearchParams("from_label=app%3Drare")), { scanWindow: 200, heartbeatMs: 0 });
      const got: number[] = [];
      let r = it.next();
      bus.publish(Array.from({ length: 50 }, () => makeFlow({ srcNs: "shop", srcPod: "rare" })));
      store.flush();
      for (; !r.done; r = it.next()) if (r.value !== null) got.push(r.value.id);
      assert.deepEqual(got, rare);
      assert.equal([...scan.reader.iterateJson(parseSearchParams(new URLSearchParams("from_label=app%3Drare")))].length, 81);
    } finally {
      scan.close();
    }
  }));

test("a page checked row by row reads the clock within a chunk: with no time left it stops after 16 rows, not a chunk of 500", async () => {
  await withRareFlows("reader-clock-", (store) => {
    // a CEL expression is checked on each record (no SQL for it) and matches nothing here
    const query: FlowQuery = { whitelist: [{ experimental: { cel_expression: ["_flow.source.pod_name == 'nobody'"] } }], blacklist: [] };
    const hi = store.reader.lastId();
    const page = store.reader.page(query, { limit: 100, order: "desc", scanMs: 0 });
    assert.equal(page.flows.length, 0);
    assert.equal(page.scanStopped, true);
    assert.equal(page.nextCursor, hi - 15, "stopped at the 16th row checked");
    // paging on from there still gets to the end and finds nothing
    let cursor: number | undefined = page.nextCursor;
    for (let guard = 0; cursor !== undefined && guard < 1000; guard++) cursor = store.reader.page(query, { limit: 100, order: "desc", cursor }).nextCursor;
    assert.equal(cursor, undefined);
  });
});
