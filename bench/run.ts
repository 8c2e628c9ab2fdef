// `npm run bench`: every benchmark in one run, figures printed as they come, then one JSON line with
// all of them. BENCH_ONLY=datapath,l7 runs a subset.
type Bench = { name: string; load: () => Promise<{ main(): Promise<Record<string, number>> }> };

const BENCHES: Bench[] = [
  { name: "datapath", load: () => import("./datapath.bench") },
  { name: "l7", load: () => import("./l7.bench") },
  { name: "filter", load: () => import("./filter.bench") },
  { name: "store", load: () => import("./store.bench") },
  { name: "stream", load: () => import("./stream.bench") },
  { name: "inspect", load: () => import("./inspect.bench") },
  { name: "ui", load: () => import("./ui.bench") },
];

async function runAll(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
  const all: Record<string, number | string> = {};
  for (const b of BENCHES) {
    if (only && !only.includes(b.name)) continue;
    console.log(`\n== ${b.name}`);
    const t0 = performance.now();
    try {
      const mod = await b.load();
      const figures = await mod.main();
      for (const [k, v] of Object.entries(figures)) all[k.startsWith(b.name) ? k : `${b.name}_${k}`] = v;
    } catch (err) {
      console.log(`${b.name}: FAILED: ${(err as Error).stack ?? err}`);
      all[`${b.name}_error`] = String((err as Error).message ?? err).slice(0, 200);
    }
    console.log(`(${b.name} took ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  console.log(JSON.stringify(all));
}

runAll().then(() => process.exit(0));
