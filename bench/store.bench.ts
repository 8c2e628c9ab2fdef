// Flow history at scale. (0) The producing thread's ceiling with no storage: the datapath alone, and
// with the stored-row encoding. (1) Sustained end-to-end ingest as the server runs it: the live simulator → datapath → bus → SQLite,
// beside a bare prepared-INSERT loop over the same rows. (2) With 1,000,000 stored flows: p95 latency
// of "namespace=X, verdict=DROPPED, newest 100" and of a policy-name filter through the REST handler's
// code path. (3) Export of all 1,000,000 flows as NDJSON: throughput and peak RSS. (4) Import of the
// first 200,000 exported lines into a fresh server through POST /api/import, as `import FILE` sends them.
import fs from "node:fs";
import net from "node:net";
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import os from "node:os";
import path from "node:path";
import { openDatabase } from "../server/store/database";
import { FlowBus } from "../server/bus";
import { Datapath } from "../server/datapath";
import { FlowStore } from "../server/store/flow-store";
import Database from "better-sqlite3";
import { flowToRow, INSERT_ROW_SQL, ROW_COLUMNS } from "../server/store/row";
import { FragmentRegistry, INSERT_FRAGMENT_SQL } from "../server/store/fragments";
import { parseSearchParams } from "../lib/filter/params";
import type { FlowEnvelope } from "../lib/flow/types";
import { DEFAULT_SCENARIO } from "../server/config";
import { Simulator } from "../server/traffic/simulator";

const TOTAL = Number(process.env.BENCH_STORE_FLOWS ?? 1_000_000);
const INGEST_S = Number(process.env.BENCH_INGEST_SECONDS ?? 10);
const IMPORT_LINES = Number(process.env.BENCH_IMPORT_LINES ?? 200_000);
/** asked of the simulator: several times what this machine can make (it skips what it cannot send) */
const INGEST_REQUESTS_PER_S = Number(process.env.BENCH_INGEST_REQUESTS_PER_S ?? 50_000);

// The bench's databases (a gigabyte each) go in one folder removed when the process exits.
let benchDir: string | undefined;
function tmpDb(name: string): string {
  if (benchDir === undefined) {
    const made = fs.mkdtempSync(path.join(os.tmpdir(), "flowscope-bench-"));
    benchDir = made;
    process.on("exit", () => fs.rmSync(made, { recursive: true, force: true }));
  }
  return path.join(fs.mkdtempSync(path.join(benchDir, "db-")), name);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** a server process on `dbPath` serving the API only (no simulator, no UI), once it listens */
async function startServer(dbPath: string): Promise<{ child: ReturnType<typeof spawn>; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: { ...process.env, FLOWSCOPE_DB: dbPath, FLOWSCOPE_SIMULATE: "0", FLOWSCOPE_UI: "0", PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("listening") && resolve());
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, port };
}

function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

export async function main(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const datapath = Datapath.fromScenarioFile(DEFAULT_SCENARIO);
  const entries = datapath.trafficEntries();

  // (0) what the producing thread can do with no storage at all, measured in this run beside (1):
  // the datapath alone, then the datapath plus the stored-row encoding the writer is handed. The
  // second is the ceiling for (1), whose datapath runs on the same thread.
  const producer = (encode: boolean): number => {
    const fragments = new FragmentRegistry(scratchDb.sqlite);
    let n = 0;
    let k = 0;
    const t = performance.now();
    while (performance.now() - t < 3000) {
      for (let j = 0; j < 200; j++) {
        for (const env of datapath.process(entries[k++ % entries.length]!, new Date(), { explain: false }).flows) {
          if (encode) flowToRow(n, env, fragments);
          n++;
        }
      }
    }
    return n / ((performance.now() - t) / 1000);
  };
  const scratchDb = await openDatabase(tmpDb("producer.db"));
  producer(true); // warm-up: JIT, FQDN cache, connection tracking
  const datapathRate = producer(false);
  const producerRate = producer(true);
  await scratchDb.close();
  console.log(`producer (one thread, no storage): datapath alone ${datapathRate.toFixed(0)} flows/s; datapath + stored-row encoding ${producerRate.toFixed(0)} flows/s`);
  results.producer_datapath_flows_per_s = Math.round(datapathRate);
  results.producer_datapath_and_encoding_flows_per_s = Math.round(producerRate);

  // (1) end-to-end ingest as the server runs it: the live simulator (its ticks, time ordering and
  // 256-flow bus batches) asked for more traffic than this machine can make, the datapath, the bus, and
  // the store (rows encoded on this thread, written by the writer thread). The rate counted is flows
  // committed to SQLite, over INGEST_S seconds after a warm-up, up to the commit of the last one; the
  // simulator's backpressure (it pauses while the store is more than 100,000 flows behind) applies.
  const ingestPath = tmpDb("ingest.db");
  const store = await FlowStore.open(ingestPath, { maxFlows: 10_000_000 });
  const bus = new FlowBus(store.reader.lastId());
  bus.subscribe((b) => store.ingest(b));
  const simulator = new Simulator(datapath, bus, { rate: INGEST_REQUESTS_PER_S, backlog: () => store.writer.lag, watchPolicies: false });
  simulator.start();
  await new Promise((r) => setTimeout(r, 2000));
  store.flush();
  const written0 = store.writer.written;
  const requests0 = simulator.requests;
  const cpu0 = process.cpuUsage();
  let t0 = performance.now();
  await new Promise((r) => setTimeout(r, INGEST_S * 1000));
  simulator.stop();
  store.flush();
  const ingestS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const flows = store.writer.written - written0;
  const e2eRate = flows / ingestS;
  const cpuPerFlow = (cpu.user + cpu.system) / flows;
  const requestsPerS = (simulator.requests - requests0) / ingestS;
  await store.close();
  let i = 0;

  // Bare prepared INSERT of the same rows: the first SAMPLE rows the store wrote, read back from its
  // database (so byte for byte what ingest inserted, as flat strings like the writer thread receives),
  // into a database opened exactly as the store opens it (same schema, page size, cache, WAL).
  const SAMPLE = 200_000;
  const written = new Database(ingestPath, { readonly: true });
  const rows = written.prepare(`SELECT ${ROW_COLUMNS.join(", ")} FROM flows ORDER BY id LIMIT ?`).raw().all(SAMPLE) as unknown[][];
  const fragmentRows = written.prepare("SELECT id, kind, json, labels FROM fragments").raw().all() as unknown[][];
  written.close();
  const bare = await openDatabase(tmpDb("bare.db"));
  const bareDb = bare.sqlite;
  const insertFragment = bareDb.prepare(INSERT_FRAGMENT_SQL);
  for (const f of fragmentRows) insertFragment.run(f);
  const insert = bareDb.prepare(INSERT_ROW_SQL);
  const tx = bareDb.transaction((rs: typeof rows) => {
    for (const r of rs) insert.run(r);
  });
  t0 = performance.now();
  for (let k = 0; k < rows.length; k += 5000) tx(rows.slice(k, k + 5000));
  const bareRate = rows.length / ((performance.now() - t0) / 1000);
  await bare.close();
  rows.length = 0;
  // envelopes for the later stages, made after the timed part
  const sample: FlowEnvelope[] = [];
  while (sample.length < SAMPLE) sample.push(...datapath.process(entries[i++ % entries.length]!, new Date(), { explain: false }).flows);
  console.log(`ingest: simulator → datapath → bus → SQLite ${e2eRate.toFixed(0)} flows/s committed over ${ingestS.toFixed(1)} s (target ≥ 50,000; ${requestsPerS.toFixed(0)} requests/s; process CPU ${cpuPerFlow.toFixed(1)} µs per flow, both threads); bare prepared INSERT of the same rows ${bareRate.toFixed(0)} rows/s; ratio ${(e2eRate / bareRate).toFixed(2)}`);
  results.ingest_e2e_flows_per_s = Math.round(e2eRate);
  results.ingest_bare_insert_rows_per_s = Math.round(bareRate);
  results.ingest_e2e_over_bare = Math.round((e2eRate / bareRate) * 100) / 100;
  results.ingest_e2e_cpu_us_per_flow = Math.round(cpuPerFlow * 10) / 10;
  results.ingest_e2e_over_producer = Math.round((e2eRate / producerRate) * 100) / 100;
  console.log(`ingest end to end / producer with no storage: ${(e2eRate / producerRate).toFixed(2)}`);

  // (2) 1M stored flows: fill by replaying the datapath's flows with fresh uuids and spread-out times
  const big = await FlowStore.open(tmpDb("big.db"), { maxFlows: 10_000_000 });
  const bigBus = new FlowBus(0);
  bigBus.subscribe((b) => big.ingest(b));
  const start = Date.now() - TOTAL * 10;
  t0 = performance.now();
  for (let n = 0; n < TOTAL; n += 5000) {
    const batch: FlowEnvelope[] = [];
    for (let k = 0; k < 5000 && n + k < TOTAL; k++) {
      const src = sample[(n + k) % sample.length]!;
      const time = new Date(start + (n + k) * 10).toISOString();
      batch.push({ ...src, time, flow: { ...src.flow, uuid: `${(n + k).toString(16).padStart(12, "0")}-bench`, time } });
    }
    bigBus.publish(batch);
    big.flush();
  }
  console.log(`store: filled ${TOTAL} flows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const nsCounts = new Map<string, number>();
  for (const s of sample) if (s.flow.verdict === "DROPPED" && s.flow.destination?.namespace) nsCounts.set(s.flow.destination.namespace, (nsCounts.get(s.flow.destination.namespace) ?? 0) + 1);
  const ns = [...nsCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "default";
  const policyName = sample.map((s) => s.flow.ingress_allowed_by?.[0]?.name ?? s.flow.egress_allowed_by?.[0]?.name).find(Boolean) ?? "none";
  const time = (q: string) => {
    const query = parseSearchParams(new URLSearchParams(q));
    const lat: number[] = [];
    let got = 0;
    for (let k = 0; k < 60; k++) {
      const t = performance.now();
      got = big.reader.page(query, { limit: 100, order: "desc" }).flows.length;
      lat.push(performance.now() - t);
    }
    return { p95: quantile(lat.slice(10), 0.95), p50: quantile(lat.slice(10), 0.5), got };
  };
  const q1 = time(`namespace=${ns}&verdict=DROPPED`);
  const q2 = time(`policy=${policyName}`);
  console.log(`query (${TOTAL} flows): namespace=${ns}&verdict=DROPPED newest 100: p50 ${q1.p50.toFixed(1)} ms, p95 ${q1.p95.toFixed(1)} ms (${q1.got} rows); policy=${policyName}: p50 ${q2.p50.toFixed(1)} ms, p95 ${q2.p95.toFixed(1)} ms (${q2.got} rows) (target p95 < 50 ms)`);
  results.query_ns_dropped_p95_ms = Math.round(q1.p95 * 10) / 10;
  results.query_policy_p95_ms = Math.round(q2.p95 * 10) / 10;
  // Filters no SQL operator expresses, decided inside SQLite by the store's SQL functions: a label
  // selector (per endpoint fragment) and a CIDR (per row). Before those, both were checked row by row.
  const appCounts = new Map<string, number>();
  for (const s of sample) {
    const app = s.flow.destination?.labels?.find((l) => l.startsWith("k8s:app="));
    if (app && s.flow.verdict === "DROPPED") appCounts.set(app.slice(8), (appCounts.get(app.slice(8)) ?? 0) + 1);
  }
  const app = [...appCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "none";
  const q3 = time(`to_label=${encodeURIComponent(`app=${app}`)}&verdict=DROPPED`);
  const q4 = time(`to_ip=${encodeURIComponent("10.0.0.0/8")}&verdict=DROPPED`);
  console.log(`query (${TOTAL} flows): to_label=app=${app}&verdict=DROPPED: p50 ${q3.p50.toFixed(1)} ms, p95 ${q3.p95.toFixed(1)} ms (${q3.got} rows); to_ip=10.0.0.0/8&verdict=DROPPED: p50 ${q4.p50.toFixed(1)} ms, p95 ${q4.p95.toFixed(1)} ms (${q4.got} rows)`);
  results.query_label_dropped_p95_ms = Math.round(q3.p95 * 10) / 10;
  results.query_cidr_dropped_p95_ms = Math.round(q4.p95 * 10) / 10;
  // The map's selection as the table asks for it: a workload edge (namespace and workload columns)
  // and the world node (the map's own node function, row by row inside SQLite).
  const edgeCounts = new Map<string, number>();
  for (const s of sample) {
    const src = s.flow.source?.workloads?.[0]?.name;
    const dst = s.flow.destination?.workloads?.[0]?.name;
    if (src && dst && s.flow.source?.namespace && s.flow.destination?.namespace && !s.flow.is_reply) {
      const id = `${s.flow.source.namespace}/${src}->${s.flow.destination.namespace}/${dst}`;
      edgeCounts.set(id, (edgeCounts.get(id) ?? 0) + 1);
    }
  }
  const busiestEdge = [...edgeCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "a/b->c/d";
  const q5 = time(`map_edge=${encodeURIComponent(busiestEdge)}`);
  const q6 = time(`map_node=reserved:world`);
  console.log(`query (${TOTAL} flows): map_edge=${busiestEdge}: p50 ${q5.p50.toFixed(1)} ms, p95 ${q5.p95.toFixed(1)} ms (${q5.got} rows); map_node=reserved:world: p50 ${q6.p50.toFixed(1)} ms, p95 ${q6.p95.toFixed(1)} ms (${q6.got} rows)`);
  results.query_map_edge_p95_ms = Math.round(q5.p95 * 10) / 10;
  results.query_map_node_world_p95_ms = Math.round(q6.p95 * 10) / 10;
  // the service map over the whole history, unfiltered and with the label selector, side by side
  const mapMs = async (q: string) => {
    const t = performance.now();
    const m = await big.serviceMap(parseSearchParams(new URLSearchParams(q)), start, start + TOTAL * 10);
    return { ms: performance.now() - t, edges: m.edges.length };
  };
  await mapMs(""); // warm-up: the aggregate thread's statements and page cache
  const mapAll = await mapMs("");
  const mapLabel = await mapMs(`from_label=${encodeURIComponent(`app=${app}`)}`);
  console.log(`service map (${TOTAL} flows): unfiltered ${mapAll.ms.toFixed(0)} ms (${mapAll.edges} edges); from_label=app=${app} ${mapLabel.ms.toFixed(0)} ms (${mapLabel.edges} edges); ratio ${(mapLabel.ms / mapAll.ms).toFixed(2)}`);
  results.service_map_all_ms = Math.round(mapAll.ms);
  results.service_map_label_ms = Math.round(mapLabel.ms);

  // (3) export everything through a real server process (API only), reading its RSS from /proc
  const bigPath = big.db.path;
  await big.close();
  const { child, port } = await startServer(bigPath);
  const rssOf = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  };
  const before = rssOf();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf())), 25);
  t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/export`);
  let lines = 0;
  const reader = res.body!.getReader();
  // the first IMPORT_LINES lines are kept for (4)
  const importFile = tmpDb("import.ndjson");
  const importOut = fs.openSync(importFile, "w");
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const before = lines;
    let cut = -1;
    for (let i = 0; i < value.length; i++) {
      if (value[i] !== 10) continue;
      lines++;
      if (lines === IMPORT_LINES) cut = i + 1;
    }
    if (before < IMPORT_LINES) fs.writeSync(importOut, cut >= 0 ? value.subarray(0, cut) : value);
  }
  fs.closeSync(importOut);
  clearInterval(timer);
  peak = Math.max(peak, rssOf());
  const exportS = (performance.now() - t0) / 1000;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  console.log(`export: ${lines} flows over HTTP in ${exportS.toFixed(1)} s (${(lines / exportS).toFixed(0)} flows/s); server peak RSS ${(peak / 1e6).toFixed(0)} MB (${(before / 1e6).toFixed(0)} MB before the export) (target < 300 MB)`);
  results.export_flows = lines;
  results.export_flows_per_s = Math.round(lines / exportS);
  results.export_server_peak_rss_mb = Math.round(peak / 1e6);
  results.export_server_rss_before_mb = Math.round(before / 1e6);

  // (4) import those lines into an empty database through a fresh server, the way `import FILE` does
  const imp = await startServer(tmpDb("import.db"));
  const importLines = Math.min(IMPORT_LINES, lines);
  t0 = performance.now();
  const ir = await fetch(`http://127.0.0.1:${imp.port}/api/import`, {
    method: "POST",
    headers: { "Content-Type": "application/x-ndjson" },
    body: Readable.toWeb(fs.createReadStream(importFile)) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  const answer = (await ir.json()) as { imported: number; lines: number };
  const importS = (performance.now() - t0) / 1000;
  imp.child.kill("SIGTERM");
  await new Promise((r) => imp.child.once("exit", r));
  if (answer.lines !== importLines) throw new Error(`import read ${answer.lines} lines of ${importLines}`);
  console.log(`import: ${answer.imported} of ${importLines} exported lines through POST /api/import in ${importS.toFixed(1)} s (${(answer.imported / importS).toFixed(0)} flows/s; end-to-end ingest above: ${e2eRate.toFixed(0)} flows/s)`);
  results.import_flows_per_s = Math.round(answer.imported / importS);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((r) => console.log(JSON.stringify(r)));
}
