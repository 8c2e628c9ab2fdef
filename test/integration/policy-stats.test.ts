// GET /api/policies/stats through the real server: per deciding policy and verdict, every flow of the
// window (not a sample), matching what /api/flows lists; bad times are refused naming the field; the
// counting runs on the aggregate thread, so the server keeps answering while it runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { FlowsPage, StoredFlow } from "../../lib/api-types";
import type { Flow, FlowscopeExtension, Policy } from "../../lib/flow/types";
import type { PolicyStatsResponse } from "../../lib/api-types";
import { countsOf } from "../../lib/ui/policy-view";
import { makeFlow } from "../helpers/flows";
import { getJson, startTestServer, waitFor, type TestServer } from "../helpers/server";

const API = "CiliumNetworkPolicy/production/api";

/** every stored flow of the window, newest first, paged through /api/flows */
async function allFlows(s: TestServer, params: Record<string, string>): Promise<StoredFlow[]> {
  const out: StoredFlow[] = [];
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ ...params, limit: "10000", ...(cursor ? { cursor } : {}) });
    const page = await getJson<FlowsPage>(`${s.url}/api/flows?${q}`);
    assert.equal(page.status, 200);
    out.push(...page.body.flows);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

/** the deciding policies of a record, read from its fields (not from the store's column) */
function policiesOf(f: Flow): Set<string> {
  const ext = f.extensions as FlowscopeExtension | undefined;
  const lists: (Policy[] | undefined)[] = [f.egress_allowed_by, f.ingress_allowed_by, f.egress_denied_by, f.ingress_denied_by, ext?.default_deny_by, ext?.denied_by, ext?.l7_decided_by, ext?.l7_allow_all_by];
  // Cilium's own map entries (allow-any-*, allow-localhost-ingress) carry no name: they are no policy
  return new Set(lists.flatMap((l) => l ?? []).filter((p) => p.name).map((p) => `${p.kind ?? ""}/${p.namespace ?? ""}/${p.name ?? ""}`));
}

function tally(flows: StoredFlow[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const s of flows) {
    for (const ref of policiesOf(s.flow)) {
      const v = out.get(ref) ?? {};
      v[s.flow.verdict!] = (v[s.flow.verdict!] ?? 0) + 1;
      out.set(ref, v);
    }
  }
  return out;
}

test("policy stats count every flow of the window by deciding policy and verdict, as /api/flows lists them", async () => {
  const s = await startTestServer({ rate: 400 });
  try {
    // More than the 1,000 flows the page used to sample for one policy.
    await waitFor(
      "over 1,500 flows decided by the api policy",
      async () => ((await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats`)).body.policies.find((p) => p.policy === API)?.flows ?? 0) > 1500 || undefined,
      60_000,
      250,
    );
    s.ctx.simulator!.stop();
    await new Promise((r) => setTimeout(r, 200));
    // Two hours old: outside the default hour, inside since=3h.
    const old = Array.from({ length: 30 }, (_, i) => {
      const f = makeFlow({ time: new Date(Date.now() - 2 * 3600_000), verdict: i % 3 ? "FORWARDED" : "DROPPED", srcNs: "production", dstNs: "production" });
      f.flow.ingress_allowed_by = [{ name: "api", namespace: "production", kind: "CiliumNetworkPolicy", labels: [], revision: "1" }];
      return f;
    });
    s.ctx.bus.publish(old);
    s.ctx.store.flush();

    const until = new Date().toISOString();
    const since = new Date(Date.now() - 3600_000).toISOString();
    const window = { since, until };
    const res = await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?${new URLSearchParams(window)}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.since, since);
    assert.equal(res.body.until, until);
    const stats = res.body;

    const flows = await allFlows(s, window);
    const expected = tally(flows);
    assert.deepEqual(stats.policies.map((p) => p.policy), [...expected.keys()].sort(), "the policies that decided flows in the window");
    for (const p of stats.policies) {
      assert.deepEqual(p.verdicts, expected.get(p.policy), `${p.policy} by verdict`);
      assert.equal(p.flows, Object.values(p.verdicts).reduce((a, b) => a + b, 0), `${p.policy} total`);
    }
    const api = stats.policies.find((p) => p.policy === API)!;
    assert.ok(api.flows > 1500, `api decided ${api.flows} flows`);

    // What the page's links open: policy=<ref> and a verdict over the same window lists exactly the count.
    for (const p of [...stats.policies].sort((a, b) => b.flows - a.flows).slice(0, 3)) {
      const mine = await allFlows(s, { ...window, policy: p.policy });
      assert.equal(mine.length, p.flows, `policy=${p.policy}`);
      const counts = countsOf(stats, p.policy);
      assert.equal(mine.filter((f) => f.flow.verdict === "FORWARDED").length, counts.allowed, `${p.policy} allowed`);
      assert.equal(mine.filter((f) => f.flow.verdict === "DROPPED").length, counts.denied, `${p.policy} denied`);
    }
    assert.deepEqual(countsOf(stats, "CiliumNetworkPolicy/nowhere/none"), { flows: 0, allowed: 0, denied: 0, redirected: 0, audit: 0 });

    // Default window: the last hour, so the two-hour-old flows count only with since=3h.
    const byDefault = (await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats`)).body;
    assert.ok(Math.abs(Date.parse(byDefault.until) - Date.parse(byDefault.since) - 3600_000) < 1, "default window is one hour");
    assert.equal(byDefault.policies.find((p) => p.policy === API)!.flows, api.flows);
    const longer = (await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?since=3h`)).body;
    const apiLonger = longer.policies.find((p) => p.policy === API)!;
    assert.equal(apiLonger.flows, api.flows + 30);
    assert.equal(apiLonger.verdicts.DROPPED, (api.verdicts.DROPPED ?? 0) + 10);
  } finally {
    await s.close();
  }
});

test("policy stats refuse bad times and unknown parameters with a 400 naming the field", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["since=2024-13-45T00:00:00Z", "since"],
      ["until=soon", "until"],
      ["since=1h&until=2h", "since"],
      ["verdict=DROPPED", "verdict"],
    ] as const) {
      const r = await getJson<{ error: string; field?: string }>(`${s.url}/api/policies/stats?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.field, field, query);
      assert.match(r.body.error, new RegExp(field), query);
    }
    const empty = await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?since=`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.policies, []);
    const post = await getJson<{ error: string }>(`${s.url}/api/policies/stats`, { method: "POST" });
    assert.equal(post.status, 405);
  } finally {
    await s.close();
  }
});

const LOAD_ROWS = 300_000;
const LOAD_POLICIES = 7;
/** the loaded rows' times: LOAD_BASE + (x % 100) seconds for row x */
const LOAD_BASE = Date.parse("2026-01-01T00:00:00Z");

/**
 * Loads LOAD_ROWS minimal flows straight into the database (hundreds of times faster than through the
 * bus): row x is decided by CiliumNetworkPolicy/load/p<x % 7>, DROPPED when x % 3 == 0, else FORWARDED.
 * Counting them reads every row, as at ~500k flows an hour: hundreds of milliseconds of SQLite.
 */
function loadRows(dbPath: string): void {
  const conn = new Database(dbPath);
  try {
    conn.pragma("busy_timeout = 5000");
    conn
      .prepare(
        `WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ?)
         INSERT INTO flows (uuid, time_ms, node_name, verdict, event_type, flow_type, policies, body)
         SELECT 'load-' || x, ? + (x % 100) * 1000, 'node-1', CASE x % 3 WHEN 0 THEN 'DROPPED' ELSE 'FORWARDED' END, 4, 'L3_L4',
                char(10) || 'CiliumNetworkPolicy/load/p' || (x % ${LOAD_POLICIES}) || char(10), '{}'
         FROM seq`,
      )
      .run(LOAD_ROWS, LOAD_BASE);
  } finally {
    conn.close();
  }
}

/** what the stats must say for the loaded rows with time in [LOAD_BASE + fromS s, LOAD_BASE + toS s] */
function expectedLoad(fromS: number, toS: number): PolicyStatsResponse["policies"] {
  const out = new Map<string, Record<string, number>>();
  for (let x = 1; x <= LOAD_ROWS; x++) {
    const t = x % 100;
    if (t < fromS || t > toS) continue;
    const ref = `CiliumNetworkPolicy/load/p${x % LOAD_POLICIES}`;
    const v = out.get(ref) ?? {};
    const verdict = x % 3 === 0 ? "DROPPED" : "FORWARDED";
    v[verdict] = (v[verdict] ?? 0) + 1;
    out.set(ref, v);
  }
  return [...out.keys()].sort().map((policy) => ({ policy, flows: Object.values(out.get(policy)!).reduce((a, b) => a + b, 0), verdicts: out.get(policy)! }));
}

function loadWindow(fromS: number, toS: number): string {
  return new URLSearchParams({ since: new Date(LOAD_BASE + fromS * 1000).toISOString(), until: new Date(LOAD_BASE + toS * 1000).toISOString() }).toString();
}

/** resolves once the stats route has checked its parameters and handed the query on (it flushes just before) */
function statsDispatched(s: TestServer): Promise<void> {
  const store = s.ctx.store;
  const flush = store.flush;
  return new Promise<void>((resolve) => {
    store.flush = () => {
      flush.call(store);
      store.flush = flush;
      resolve();
    };
  });
}

test("the server keeps answering while policy stats are counted, and concurrent stats each get their own window", async () => {
  const s = await startTestServer({ simulate: false });
  try {
    // Start the aggregate thread first, so what follows measures the counting, not the thread's start.
    const warm = await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?${loadWindow(0, 99)}`);
    assert.equal(warm.status, 200);
    assert.deepEqual(warm.body.policies, []);
    loadRows(s.dbPath);

    // Order, not time: /api/status is asked only once the stats query has been handed on. Counting on the
    // main thread would answer the stats before the status request is even sent (the same process runs
    // this client), so the status answer arrives first only if the main thread is free meanwhile.
    const order: string[] = [];
    const dispatched = statsDispatched(s);
    const stats = getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?${loadWindow(0, 99)}`).then((r) => (order.push("stats"), r));
    await dispatched;
    const status = await getJson<{ storedFlows: number }>(`${s.url}/api/status`);
    order.push("status");
    assert.equal(status.status, 200);
    const res = await stats;
    assert.deepEqual(order, ["status", "stats"], "/api/status answered while the stats were being counted");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.policies, expectedLoad(0, 99));

    // Several at once, each over its own window: every answer is its own request's.
    const windows: [number, number][] = [[0, 99], [0, 49], [50, 99], [10, 10], [200, 300]];
    const answers = await Promise.all(windows.map(([a, b]) => getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?${loadWindow(a, b)}`)));
    answers.forEach((r, i) => {
      const [a, b] = windows[i]!;
      assert.equal(r.status, 200, `window ${a}-${b}`);
      assert.equal(r.body.since, new Date(LOAD_BASE + a * 1000).toISOString());
      assert.deepEqual(r.body.policies, expectedLoad(a, b), `window ${a}-${b}`);
    });

    // The thread dies mid-query: that request is refused saying so, and the next one starts a new thread.
    const aggregator = (s.ctx.store.aggregator as unknown as { thread: { worker?: Worker } }).thread;
    const beforeDeath = statsDispatched(s);
    const doomed = getJson<{ error: string }>(`${s.url}/api/policies/stats?${loadWindow(0, 99)}`);
    await beforeDeath;
    assert.ok(aggregator.worker, "the aggregate thread is running");
    await aggregator.worker.terminate();
    const refused = await doomed;
    assert.equal(refused.status, 500);
    assert.match(refused.body.error, /aggregate query thread exited/);
    const again = await getJson<PolicyStatsResponse>(`${s.url}/api/policies/stats?${loadWindow(0, 49)}`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.policies, expectedLoad(0, 49));
  } finally {
    await s.close();
  }
});
