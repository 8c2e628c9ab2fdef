// UI benchmark in headless Chromium against the mock API (test/e2e/mock-api.ts: 300 workloads in 20
// namespaces, the production Next build; run `npx next build` first):
//   - time to the first complete service-map render (all 303 nodes and the edges drawn), from navigation;
//   - frames per second (requestAnimationFrame count in the page) while 2,000 flows/s stream in;
//   - filtering 100,000 table rows the way clicking a map edge does (edge predicate + the table's
//     sort), by a free-text filter, and sorting all rows, running the UI's own modules bundled into
//     the page, each next to the code it replaced; and what preparing rows as they arrive costs.
// Prints the figures and ends with one JSON line.  tsx bench/ui.bench.ts
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ROOT = path.resolve(import.meta.dirname, "..");
const STREAM_RATE = 2000;
const FPS_WINDOW_MS = 3000;
const TABLE_ROWS = 100_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startMock(rate: number): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["test/e2e/mock-api.ts", ".", String(port), String(rate)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    // its own process group: tsx runs the script in a child node that outlived a plain kill()
    detached: true,
  });
  let err = "";
  child.stderr!.on("data", (d) => (err += String(d)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`mock API did not start in 60 s: ${err.slice(-500)}`)), 60_000);
    child.stdout!.on("data", (d) => {
      if (String(d).includes("mock flowscope on")) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`mock API exited (${code}): ${err.slice(-500)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

function stopMock(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
  } catch {
    child.kill();
  }
}

/**
 * The table's filter path (lib/ui) bundled for the page, with 100k synthetic rows built there. Each
 * case runs the current code ("now") and, in the same page and run, the code it replaced ("before":
 * per-row node matching, and a sort that compares with the collator and recomputes every key).
 */
async function filterBundle(): Promise<string> {
  const entry = `
    import { syntheticFlow, syntheticMap } from "./test/e2e/synthetic";
    import { FlowStore } from "./lib/ui/flow-store";
    import { edgePredicate, endpointMatchesNode } from "./lib/ui/map-model";
    import { sortRows, compareKeys, COLUMN_BY_ID, DEFAULT_SORT, prepareSortKeys, sortKeyStats } from "./lib/ui/columns";
    import { viewPredicate, prepareRows } from "./lib/ui/client-filter";
    import { compileQuery, fromSearchParams } from "./lib/filter";
    const store = new FlowStore(${TABLE_ROWS});
    const rows = [];
    for (let i = 0; i < ${TABLE_ROWS}; i++) rows.push(syntheticFlow());
    // what the feed does as rows arrive (useFlowFeed: batches at 4 Hz), timed on its own
    let prepMs = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      store.add(batch);
      const t0 = performance.now();
      prepareRows(batch);
      prepareSortKeys(batch, store);
      prepMs += performance.now() - t0;
    }
    window.__prepMsPer1k = (prepMs * 1000) / rows.length;
    window.__sortKeyStats = sortKeyStats;
    const map = syntheticMap();

    function beforeEdgePredicate(edge, nodes) {
      const src = nodes.find((n) => n.id === edge.source);
      const dst = nodes.find((n) => n.id === edge.target);
      return ({ flow: f }) =>
        (endpointMatchesNode(f.source, f.source_names, f.IP?.source, src) && endpointMatchesNode(f.destination, f.destination_names, f.IP?.destination, dst)) ||
        (f.is_reply === true && endpointMatchesNode(f.source, f.source_names, f.IP?.source, dst) && endpointMatchesNode(f.destination, f.destination_names, f.IP?.destination, src));
    }
    function beforeSortRows(rowsNewestFirst, sort) {
      const col = COLUMN_BY_ID[sort.column];
      if (col.natural) return sort.dir === "desc" ? rowsNewestFirst.slice() : rowsNewestFirst.slice().reverse();
      const keyOf = col.key ?? col.text;
      const decorated = rowsNewestFirst.map((f, i) => ({ k: keyOf(f), i, f }));
      const sign = sort.dir === "asc" ? 1 : -1;
      decorated.sort((a, b) => { const c = compareKeys(a.k, b.k); return c !== 0 ? sign * c : a.i - b.i; });
      return decorated.map((d) => d.f);
    }
    function beforeViewPredicate(view) {
      const q = new URLSearchParams();
      if (view.filters.length) q.set("q", view.filters.join(" "));
      const match = compileQuery(fromSearchParams(q));
      return (row) => match(row.flow);
    }
    const impl = {
      now: { edge: edgePredicate, sort: sortRows, text: viewPredicate },
      before: { edge: beforeEdgePredicate, sort: beforeSortRows, text: beforeViewPredicate },
    };
    const BY_SOURCE = { column: "source", dir: "asc" };
    const edgeFor = (r) => {
      // an edge that has traffic: the two workloads of one of the rows
      const f = store.at((r * 7919) % store.size).flow;
      const id = (ep) => ep.namespace + "/" + ep.workloads[0].name;
      return { ...map.edges[0], id: id(f.source) + "->" + id(f.destination), source: id(f.source), target: id(f.destination) };
    };
    const cases = {
      // clicking a map edge, newest first (the default sort)
      edge: (m, r) => m.sort(store.toArray().filter(m.edge(edgeFor(r), map.nodes)), DEFAULT_SORT),
      // clicking a map edge with the table sorted by source
      edgeSorted: (m, r) => m.sort(store.toArray().filter(m.edge(edgeFor(r), map.nodes)), BY_SOURCE),
      // a free-text filter (Hubble UI syntax, the server's own matcher) sorted by source
      text: (m, r) => m.sort(store.toArray().filter(m.text({ namespaces: [], filters: ["label=k8s:app=svc-" + (r % 15)] })), BY_SOURCE),
      // no filter, all 100k rows sorted by a column no other case sorts by (its keys were interned as rows arrived, but never ordered: the first run orders them)
      sortAll: (m) => m.sort(store.toArray(), { column: "destination", dir: "asc" }),
    };
    window.__filterBench = (name, which, runs) => {
      const times = [];
      let kept = 0;
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        kept += cases[name](impl[which], r).length;
        times.push(performance.now() - t0);
      }
      const first = times[0];
      times.sort((a, b) => a - b);
      return { first, median: times[Math.floor(times.length / 2)], max: times[times.length - 1], rows: store.size, kept: kept / runs };
    };`;
  const out = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: "ts" }, bundle: true, format: "iife", platform: "browser", write: false, logLevel: "silent" });
  return out.outputFiles[0]!.text;
}

type FilterFigures = { first: number; median: number; max: number; rows: number; kept: number };
const FILTER_CASES = ["edge", "edgeSorted", "text", "sortAll"] as const;
const round1 = (x: number) => Math.round(x * 10) / 10;

export async function main(): Promise<Record<string, number>> {
  if (!fs.existsSync(path.join(ROOT, ".next/BUILD_ID"))) throw new Error("no production build: run `npx next build` first");
  const mock = await startMock(STREAM_RATE);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });

    // 1. First complete map render: 300 workloads + 3 peers, edges drawn, measured from navigation start.
    const mapPage = await context.newPage();
    await mapPage.goto(`${mock.url}/?pane=map`, { waitUntil: "commit" });
    await mapPage.waitForFunction(() => document.querySelectorAll('[data-testid="map-node"]').length >= 303 && document.querySelectorAll('[data-testid="map-edge"]').length >= 290, undefined, {
      polling: "raf",
      timeout: 60_000,
    });
    const mapMs = await mapPage.evaluate(() => performance.now());
    await mapPage.close();

    // 2. Frames per second in the default view (map + table) while 2,000 flows/s arrive.
    const live = await context.newPage();
    await live.goto(`${mock.url}/`);
    await live.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 60_000 });
    await live.waitForTimeout(1500);
    // A string, not a function: tsx's transform would wrap the inner functions in a helper the page lacks.
    const fps = (await live.evaluate(`new Promise((resolve) => {
      const count = () => Number((/^[\\d,]+/.exec(document.querySelector('[data-testid="row-count"]')?.textContent?.trim() ?? "")?.[0] ?? "0").replace(/,/g, ""));
      const rows0 = count();
      let frames = 0, worst = 0;
      const t0 = performance.now();
      let last = t0;
      const tick = (t) => {
        frames++;
        worst = Math.max(worst, t - last);
        last = t;
        if (t - t0 < ${FPS_WINDOW_MS}) requestAnimationFrame(tick);
        else resolve({ fps: (frames * 1000) / (t - t0), worstFrameMs: worst, rows: count() - rows0 });
      };
      requestAnimationFrame(tick);
    })`)) as { fps: number; worstFrameMs: number; rows: number };
    await live.close();

    // 3. Filtering 100,000 rows in the page, the new code first (keys interned as rows arrived, each
    //    column's key order not yet built, so the first run of a sorted case builds it), then the code
    //    it replaced.
    const filterPage = await context.newPage();
    await filterPage.goto("about:blank");
    await filterPage.addScriptTag({ content: await filterBundle() });
    const filters: Record<string, { now: FilterFigures; before: FilterFigures }> = {};
    for (const name of FILTER_CASES) {
      const now = (await filterPage.evaluate(`window.__filterBench(${JSON.stringify(name)}, "now", 7)`)) as FilterFigures;
      const before = (await filterPage.evaluate(`window.__filterBench(${JSON.stringify(name)}, "before", 5)`)) as FilterFigures;
      filters[name] = { now, before };
    }
    const prepPer1k = (await filterPage.evaluate("window.__prepMsPer1k")) as number;
    await filterPage.close();

    const result: Record<string, number> = {
      map_first_render_ms: Math.round(mapMs),
      stream_fps: round1(fps.fps),
      stream_worst_frame_ms: Math.round(fps.worstFrameMs),
      stream_rows_per_s: Math.round((fps.rows * 1000) / FPS_WINDOW_MS),
      filter_100k_ms: round1(filters.edge!.now.median),
      filter_100k_max_ms: round1(filters.edge!.now.max),
      row_prep_ms_per_1k: round1(prepPer1k),
    };
    for (const name of FILTER_CASES) {
      const f = filters[name]!;
      result[`filter_${name}_ms`] = round1(f.now.median);
      result[`filter_${name}_max_ms`] = round1(f.now.max);
      result[`filter_${name}_first_ms`] = round1(f.now.first);
      result[`filter_${name}_before_ms`] = round1(f.before.median);
    }
    console.log(`map: first complete render of 303 nodes / 20 namespaces in ${result.map_first_render_ms} ms (from navigation)`);
    console.log(`stream: ${result.stream_fps} fps (target >= 30) at ${STREAM_RATE} flows/s sent, ${result.stream_rows_per_s} rows/s shown, worst frame ${result.stream_worst_frame_ms} ms`);
    console.log(`row preparation as rows arrive (filter facets + every column's sort key): ${result.row_prep_ms_per_1k} ms per 1,000 rows`);
    for (const name of FILTER_CASES) {
      const f = filters[name]!;
      console.log(
        `filter ${name}: ${f.now.rows.toLocaleString()} rows → ~${Math.round(f.now.kept).toLocaleString()} kept + sort: median ${round1(f.now.median)} ms, max ${round1(f.now.max)} ms, first ${round1(f.now.first)} ms (target < 100 ms); before: median ${round1(f.before.median)} ms, max ${round1(f.before.max)} ms`,
      );
    }
    return result;
  } finally {
    await browser?.close().catch(() => undefined);
    stopMock(mock.child);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(`ui bench failed: ${(err as Error).message}`);
      process.exitCode = 1;
    },
  );
}
