// UI benchmark in headless Chromium against the mock API (test/e2e/mock-api.ts: 300 workloads in 20
// namespaces, the production Next build; run `npx next build` first):
//   - time to the first complete service-map render (all 303 nodes and the edges drawn), from navigation;
//   - frames per second (requestAnimationFrame count in the page) while 2,000 flows/s stream in;
//   - filtering 100,000 table rows the way clicking a map edge does (edge predicate + the table's
//     sort), running the UI's own modules bundled into the page.
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

/** The table's filter path (lib/ui) bundled for the page, with 100k synthetic rows built there. */
async function filterBundle(): Promise<string> {
  const entry = `
    import { syntheticFlow, syntheticMap } from "./test/e2e/synthetic";
    import { FlowStore } from "./lib/ui/flow-store";
    import { edgePredicate } from "./lib/ui/map-model";
    import { sortRows, DEFAULT_SORT } from "./lib/ui/columns";
    const store = new FlowStore(${TABLE_ROWS});
    const rows = [];
    for (let i = 0; i < ${TABLE_ROWS}; i++) rows.push(syntheticFlow());
    store.add(rows);
    const map = syntheticMap();
    window.__filterBench = (runs) => {
      const times = [];
      let kept = 0;
      for (let r = 0; r < runs; r++) {
        // an edge that has traffic: the two workloads of one of the rows
        const f = store.at((r * 7919) % store.size).flow;
        const id = (ep) => ep.namespace + "/" + ep.workloads[0].name;
        const edge = { ...map.edges[0], id: id(f.source) + "->" + id(f.destination), source: id(f.source), target: id(f.destination) };
        const t0 = performance.now();
        const pred = edgePredicate(edge, map.nodes);
        const all = [];
        for (let i = 0; i < store.size; i++) all.push(store.at(i));
        const shown = sortRows(all.filter(pred), DEFAULT_SORT);
        times.push(performance.now() - t0);
        kept += shown.length;
      }
      times.sort((a, b) => a - b);
      return { median: times[Math.floor(times.length / 2)], max: times[times.length - 1], rows: store.size, kept: kept / runs };
    };`;
  const out = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: "ts" }, bundle: true, format: "iife", platform: "browser", write: false, logLevel: "silent" });
  return out.outputFiles[0]!.text;
}

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

    // 3. Filtering 100,000 rows in the page.
    const filterPage = await context.newPage();
    await filterPage.goto("about:blank");
    await filterPage.addScriptTag({ content: await filterBundle() });
    await filterPage.evaluate(() => (window as unknown as { __filterBench: (n: number) => unknown }).__filterBench(2)); // warm-up
    const filter = (await filterPage.evaluate(() => (window as unknown as { __filterBench: (n: number) => unknown }).__filterBench(7))) as { median: number; max: number; rows: number; kept: number };
    await filterPage.close();

    const result = {
      map_first_render_ms: Math.round(mapMs),
      stream_fps: Math.round(fps.fps * 10) / 10,
      stream_worst_frame_ms: Math.round(fps.worstFrameMs),
      stream_rows_per_s: Math.round((fps.rows * 1000) / FPS_WINDOW_MS),
      filter_100k_ms: Math.round(filter.median * 10) / 10,
      filter_100k_max_ms: Math.round(filter.max * 10) / 10,
    };
    console.log(`map: first complete render of 303 nodes / 20 namespaces in ${result.map_first_render_ms} ms (from navigation)`);
    console.log(`stream: ${result.stream_fps} fps (target >= 30) at ${STREAM_RATE} flows/s sent, ${result.stream_rows_per_s} rows/s shown, worst frame ${result.stream_worst_frame_ms} ms`);
    console.log(`filter: ${filter.rows.toLocaleString()} rows by a map edge + sort, median ${result.filter_100k_ms} ms, max ${result.filter_100k_max_ms} ms (target < 100 ms), ~${Math.round(filter.kept)} rows kept`);
    return result;
  } finally {
    await browser?.close().catch(() => undefined);
    mock.child.kill();
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
