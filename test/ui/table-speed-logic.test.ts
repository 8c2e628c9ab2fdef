// The pure logic behind the table's speed work: the flush pacer, the cached-key sort, the client-side
// view filter (checked against lib/filter's own matcher), and the endpoint links.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlushPacer, type PacerClock } from "../../lib/ui/flush-pacer";
import { asciiSortKey, compareKeys, sortRows } from "../../lib/ui/columns";
import { viewPredicate } from "../../lib/ui/client-filter";
import { compileQuery, fromSearchParams } from "../../lib/filter";
import { endpointHref, nodeEndpointsFromApi, nodeEndpointsFromFlows, podEndpoint } from "../../lib/ui/endpoint-links";
import { node, stored } from "./fixtures";

function fakeClock(): PacerClock & { t: number; timers: { at: number; fn: () => void }[]; advance: (ms: number) => void } {
  const c = {
    t: 0,
    timers: [] as { at: number; fn: () => void }[],
    now: () => c.t,
    setTimer: (fn: () => void, ms: number) => {
      const h = { at: c.t + ms, fn };
      c.timers.push(h);
      return h;
    },
    clearTimer: (h: unknown) => {
      c.timers = c.timers.filter((x) => x !== h);
    },
    advance: (ms: number) => {
      c.t += ms;
      for (;;) {
        const due = c.timers.filter((x) => x.at <= c.t).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        c.timers = c.timers.filter((x) => x !== due);
        due.fn();
      }
    },
  };
  return c;
}

test("the pacer flushes the first request at once, then at most once per interval", () => {
  const clock = fakeClock();
  let flushes = 0;
  const p = new FlushPacer(250, () => flushes++, clock);
  p.request();
  clock.advance(0);
  assert.equal(flushes, 1, "first batch after a quiet spell goes out immediately");
  for (let i = 0; i < 10; i++) {
    p.request();
    clock.advance(20);
  }
  // 200 ms later, still inside the interval: coalesced, not flushed
  assert.equal(flushes, 1);
  clock.advance(50);
  assert.equal(flushes, 2, "one flush for ten requests once the interval elapsed");
  p.request();
  p.flushNow();
  assert.equal(flushes, 3, "flushNow drains at once");
  clock.advance(1000);
  assert.equal(flushes, 3, "and cancels the pending timer");
  assert.throws(() => new FlushPacer(Number.NaN, () => {}, clock), /interval/);
});

test("ASCII sort keys order like the numeric, case-insensitive collator", () => {
  const words = ["svc-10", "svc-9", "Svc-2", "api", "API-1", "team-03/db-0", "team-3/db-1", "a"];
  const byKey = [...words].sort((a, b) => (asciiSortKey(a) < asciiSortKey(b) ? -1 : asciiSortKey(a) > asciiSortKey(b) ? 1 : 0));
  const byCollator = [...words].sort(compareKeys);
  assert.deepEqual(byKey, byCollator);
  assert.equal(asciiSortKey("svc-007"), asciiSortKey("SVC-7"));
});

test("sorting by text reuses cached keys and stays stable, newest first among equals", () => {
  const mk = (id: number, pod: string) => stored(id, { source: { namespace: "shop", pod_name: pod, identity: 1 } });
  // row 1 has no pod name, so its source shows (and sorts) as its IP, 10.0.0.1
  const rows = [mk(6, "web-10"), mk(5, "web-9"), mk(4, "Web-9"), mk(3, "api"), mk(2, "web-10"), mk(1, "")];
  assert.deepEqual(sortRows(rows, { column: "source", dir: "asc" }).map((r) => r.id), ["1", "3", "5", "4", "6", "2"]);
  assert.deepEqual(sortRows(rows, { column: "source", dir: "desc" }).map((r) => r.id), ["6", "2", "5", "4", "3", "1"]);
  // a second sort over a different subset (cached keys) gives the same relative order
  assert.deepEqual(sortRows(rows.slice(0, 3), { column: "source", dir: "asc" }).map((r) => r.id), ["5", "4", "6"]);
  // non-ASCII text falls back to the collator
  const intl = [mk(3, "zeta"), mk(2, "Émile"), mk(1, "eve")];
  assert.deepEqual(sortRows(intl, { column: "source", dir: "asc" }).map((r) => r.id), ["2", "1", "3"]);
});

test("the client-side view filter keeps exactly what lib/filter's matcher keeps", () => {
  const rows = [
    stored(1),
    stored(2, { verdict: "DROPPED" }),
    stored(3, { source: { namespace: "pay", pod_name: "ledger-1", identity: 3000, labels: ["k8s:app=ledger"], workloads: [{ name: "ledger", kind: "Deployment" }] } }),
    stored(4, { destination: { namespace: "pay", pod_name: "ledger-2", identity: 3000, labels: ["k8s:app=ledger"] }, IP: { source: "10.0.0.9", destination: "10.0.0.3", ipVersion: "IPv4" } }),
    stored(5, { source_names: ["api.github.com"] }),
    stored(6, { ingress_allowed_by: [{ name: "allow-api", namespace: "shop", kind: "CiliumNetworkPolicy", revision: "1", labels: [] }] }),
  ];
  const views = [
    { namespaces: [], filters: ["label=k8s:app=ledger"] },
    { namespaces: ["pay"], filters: [] },
    { namespaces: [], verdict: "DROPPED" as const, filters: [] },
    { namespaces: [], filters: ["from:identity=3000", "ip=10.0.0.9"] },
    { namespaces: [], filters: ["!pod=pay/"] },
    { namespaces: [], filters: ["dns=api.github.com"] },
    { namespaces: [], filters: ["workload=ledger"] },
    { namespaces: [], filters: ["policy=allow-api"] },
  ];
  for (const v of views) {
    const pred = viewPredicate(v)!;
    const q = new URLSearchParams();
    for (const ns of v.namespaces) q.append("namespace", ns);
    if (v.verdict) q.append("verdict", v.verdict);
    if (v.filters.length) q.set("q", v.filters.join(" "));
    const direct = compileQuery(fromSearchParams(q));
    const want = rows.filter((r) => direct(r.flow)).map((r) => r.id);
    // twice: the second pass answers from the memo
    assert.deepEqual(rows.filter(pred).map((r) => r.id), want, JSON.stringify(v));
    assert.deepEqual(rows.filter(pred).map((r) => r.id), want, JSON.stringify(v));
  }
  assert.equal(viewPredicate({ namespaces: [], filters: [] }), undefined);
});

test("endpoint links only for pods with an endpoint ID", () => {
  assert.deepEqual(podEndpoint({ ID: 12, namespace: "shop", pod_name: "api-1" }), { id: 12, namespace: "shop", pod: "api-1" });
  assert.equal(podEndpoint({ ID: 12, labels: ["reserved:world"] }), undefined, "world has no endpoint page");
  assert.equal(podEndpoint({ namespace: "shop", pod_name: "api-1" }), undefined, "no ID");
  assert.equal(podEndpoint(undefined), undefined);
  assert.equal(endpointHref(12), "/endpoints?id=12");

  const api = node("shop/api");
  const fromApi = nodeEndpointsFromApi(api, [
    { id: 3, pod: "api-7f-b", namespace: "shop" },
    { id: 2, pod: "api-7f-a", namespace: "shop" },
    { id: 4, pod: "api-7f-a", namespace: "other" },
    { id: 5, pod: "apigw-1", namespace: "shop" },
    { id: 6, pod: "api-canary-1", namespace: "shop", workload: "api-canary" },
    { id: 7, pod: "x-1", namespace: "shop", workload: "api" },
  ]);
  assert.deepEqual(fromApi.map((e) => e.id), [2, 3, 7], "the server's workload name decides when it is given");
  assert.deepEqual(nodeEndpointsFromApi(node("reserved:world"), [{ id: 1, pod: "x", namespace: "shop" }]), []);

  const rows = [
    stored(3, { destination: { ID: 41, identity: 2000, namespace: "shop", pod_name: "api-5f6b-xyz12", labels: ["k8s:app=api"], workloads: [{ name: "api", kind: "Deployment" }] } }),
    stored(2, { destination: { ID: 41, identity: 2000, namespace: "shop", pod_name: "api-5f6b-xyz12", labels: ["k8s:app=api"], workloads: [{ name: "api", kind: "Deployment" }] } }),
    stored(1, { source: { ID: 40, identity: 2000, namespace: "shop", pod_name: "api-5f6b-aaaaa", labels: ["k8s:app=api"], workloads: [{ name: "api", kind: "Deployment" }] } }),
  ];
  const seen = nodeEndpointsFromFlows(api, (i) => rows[i], 10);
  assert.deepEqual(seen.map((e) => [e.id, e.pod]), [[40, "api-5f6b-aaaaa"], [41, "api-5f6b-xyz12"]]);
  assert.deepEqual(nodeEndpointsFromFlows(api, (i) => rows[i], 1).map((e) => e.id), [41], "reads at most `scan` rows");
});
