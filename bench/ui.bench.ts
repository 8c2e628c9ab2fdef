// UI benchmark in headless Chromium against the real server (datapath, SQLite, stream and the
// production Next build; run `npx next build` first) simulating a 300-workload, 20-namespace cluster
// (bench/ui-cluster.ts) at 2,000 flows/s:
//   - time to the first complete service-map render (every node and edge the API has), from navigation;
//   - frames per second (requestAnimationFrame count in the page) while 2,000 flows/s stream in;
//   - filtering 100,000 table rows the way clicking a map edge does (edge predicate + the table's
//     sort), by a free-text filter, and sorting all rows, running the UI's own modules bundled into
//     the page, each next to the code it replaced; and what preparing rows as they arrive costs.
// Prints the figures and ends with one JSON line.  tsx bench/ui.bench.ts
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { Datapath } from "../server/datapath";
import type { ServerStatus } from "../lib/api-types";
import { NAMESPACES, WORKLOADS, writeUiCluster } from "./ui-cluster";

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

/** Simulator requests per second that make `flowsPerS` flows per second on this scenario (measured on
 * the same datapath the server runs: an allowed call makes more records than a dropped one). */
function requestRateFor(scenarioFile: string, flowsPerS: number): number {
  const dp = Datapath.fromScenarioFile(scenarioFile);
  const entries = dp.trafficEntries();
  let flows = 0;
  for (let round = 0; round < 3; round++) for (const e of entries) flows += dp.process(e, new Date(), { explain: false }).flows.length;
  return Math.round(flowsPerS / (flows / (3 * entries.length)));
}

/** The real server (datapath, SQLite, stream, UI) on the bench cluster, simulating at `requestsPerS`. */
async function startFlowscope(dir: string, scenarioFile: string, requestsPerS: number): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      PORT: String(port),
      FLOWSCOPE_DB: path.join(dir, "flows.db"),
      FLOWSCOPE_SCENARIO: scenarioFile,
      FLOWSCOPE_RATE: String(requestsPerS),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d) => (err += String(d)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start in 60 s: ${err.slice(-500)}`)), 60_000);
    child.stdout!.on("data", (d) => {
      if (String(d).includes("listening on")) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${err.slice(-500)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stopFlowscope(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** The live map's node and edge counts as the API has them now (the page asks for the last 5 minutes). */
async function apiMapSize(url: string): Promise<{ nodes: number; edges: number }> {
  const since = new Date(Date.now() - 5 * 60_000).toISOString();
  const res = await fetch(`${url}/api/service-map?since=${encodeURIComponent(since)}`);
  const map = (await res.json()) as { nodes: unknown[]; edges: unknown[] };
  return { nodes: map.nodes.length, edges: map.edges.length };
}

/**
 * The table's filter path (lib/ui) bundled for the page, with 100k synthetic rows built there. Each
 * case runs the current code ("now") and, in the same page and run, the code it replaced ("before":
 * per-row node matching, and a sort that compares with the collator and recomputes every key).
 */
async function filterBundle(): Promise<string> {
  const entry = `
    import { syntheticFlow, syntheticMap } from "./bench/ui-synthetic-rows";
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flowscope-ui-bench-"));
  const scenarioFile = writeUiCluster(dir);
  const requestsPerS = requestRateFor(scenarioFile, STREAM_RATE);
  const server = await startFlowscope(dir, scenarioFile, requestsPerS);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });

    // 1. First complete map render: 300 workloads + 3 peers, edges drawn, measured from navigation start.
    // Every call has been made a few times before the page opens, so the map is complete from the start.
    let size = await apiMapSize(server.url);
    for (const deadline = Date.now() + 60_000; size.nodes < WORKLOADS || size.edges < WORKLOADS; size = await apiMapSize(server.url)) {
      if (Date.now() > deadline) throw new Error(`the service map reached only ${size.nodes} nodes and ${size.edges} edges in 60 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const mapPage = await context.newPage();
    await mapPage.goto(`${server.url}/?pane=map`, { waitUntil: "commit" });
    await mapPage.waitForFunction(
      ([nodes, edges]) => document.querySelectorAll('[data-testid="map-node"]').length >= nodes! && document.querySelectorAll('[data-testid="map-edge"]').length >= edges!,
      [size.nodes, size.edges],
      { polling: "raf", timeout: 60_000 },
    );
    const mapMs = await mapPage.evaluate(() => performance.now());
    await mapPage.close();

    // 2. Frames per second in the default view (map + table) while 2,000 flows/s arrive.
    const live = await context.newPage();
    await live.goto(`${server.url}/`);
    await live.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 60_000 });
    await live.waitForTimeout(1500);
    // A string, not a function: tsx's transform would wrap the inner functions in a helper the page lacks.
    const stored = async () => ((await (await fetch(`${server.url}/api/status`)).json()) as ServerStatus).storedFlows;
    const stored0 = await stored();
    const fpsT0 = performance.now();
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
    const serverFlowsPerS = ((await stored()) - stored0) / ((performance.now() - fpsT0) / 1000);
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
      map_nodes: size.nodes,
      map_edges: size.edges,
      server_flows_per_s: Math.round(serverFlowsPerS),
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
    console.log(`map: first complete render of ${size.nodes} nodes and ${size.edges} edges (${WORKLOADS} workloads in ${NAMESPACES} namespaces) in ${result.map_first_render_ms} ms (from navigation)`);
    console.log(`stream: ${result.stream_fps} fps (target >= 30) with the server making ${result.server_flows_per_s} flows/s (${requestsPerS} requests/s), ${result.stream_rows_per_s} rows/s shown, worst frame ${result.stream_worst_frame_ms} ms`);
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
    await stopFlowscope(server.child);
    fs.rmSync(dir, { recursive: true, force: true });
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
