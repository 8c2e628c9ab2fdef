// GET /api/policies/stats through the real server: per deciding policy and verdict, every flow of the
// window (not a sample), matching what /api/flows lists; bad times are refused naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
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
  const lists: (Policy[] | undefined)[] = [f.egress_allowed_by, f.ingress_allowed_by, f.egress_denied_by, f.ingress_denied_by, ext?.default_deny_by, ext?.l7_decided_by];
  return new Set(lists.flatMap((l) => l ?? []).map((p) => `${p.kind ?? ""}/${p.namespace ?? ""}/${p.name ?? ""}`));
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
