// The endpoint view (cilium-dbg style inspection) end to end: reached from a service-map node and from
// a dropped flow's destination; identity, labels, enforcement and a policy-map table that agrees with
// GET /api/endpoints/:id/policy-map, unused allows marked, entries linked to their policies.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { EndpointSummary, EndpointsResponse, PolicyMapResponse, PolicyMapRow } from "../../lib/inspect-types";
import { policyRefKey } from "../../lib/inspect-types";
import type { ServiceMap } from "../../lib/api-types";
import { startE2E } from "./harness";
import { apiFlows, pause, until } from "./ui-helpers";

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const entryKey = (r: Pick<PolicyMapRow, "direction" | "identity" | "port" | "protocol" | "action">) => `${r.direction}|${r.identity}|${r.port}|${r.protocol}|${r.action}`;
const workloadOf = (e: EndpointSummary) => `${e.namespace}/${e.workload}`;

test("the endpoint view from the map and from a dropped flow: identity, enforcement, policy map with hits, unused allows, policy links", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    // An endpoint whose map has an allow entry hit by traffic and an allow entry never hit, drawn on the map.
    const { ep, map } = await until("an endpoint with a hit allow entry and an unused one", async () => {
      const m = await getJson<ServiceMap>(`${server.url}/api/service-map`);
      const nodes = new Set(m.nodes.map((n) => n.id));
      for (const e of (await getJson<EndpointsResponse>(`${server.url}/api/endpoints`)).endpoints) {
        if (!nodes.has(workloadOf(e))) continue;
        const pm = await getJson<PolicyMapResponse>(`${server.url}/api/endpoints/${e.id}/policy-map`);
        const hit = pm.rows.some((r) => r.action === "allow" && r.packets > 0 && r.policies.length > 0);
        const idle = pm.rows.some((r) => r.action === "allow" && r.packets === 0 && r.lastHit === null);
        if (hit && idle) return { ep: e, map: pm };
      }
      return undefined;
    }, 90_000);

    // 1. Map node → its panel → the endpoint link.
    await page.goto(`${server.url}/?pane=map`);
    const card = page.locator(`[data-testid="map-node"][data-id="${workloadOf(ep)}"]`);
    await card.waitFor({ timeout: 30_000 });
    await card.dispatchEvent("click");
    const panel = page.locator('[data-testid="node-panel"]');
    await panel.waitFor();
    const link = panel.locator(`[data-testid="endpoint-link"][href="/endpoints?id=${ep.id}"]`);
    await link.waitFor({ timeout: 15_000 });
    await e2e.screenshot("endpoint-from-map-node-panel");
    await link.click();
    await page.waitForURL((u) => u.pathname === "/endpoints" && u.searchParams.get("id") === String(ep.id));
    const rows = page.locator('[data-testid="policy-map-row"]');
    await rows.first().waitFor({ timeout: 15_000 });

    // 2. Identity, labels, enforcement.
    assert.match(await page.locator('[data-testid="endpoint-title"]').innerText(), new RegExp(`${ep.namespace}/${ep.pod}`));
    assert.equal((await page.locator('[data-testid="endpoint-identity"]').innerText()).trim(), String(ep.identity));
    const labels = (await page.locator('[data-testid="endpoint-label"]').allInnerTexts()).map((l) => l.trim());
    assert.deepEqual([...labels].sort(), [...ep.labels].sort());
    assert.match(await page.locator('[data-testid="enforcement-ingress"]').innerText(), new RegExp(`ingress\\s+${map.endpoint.ingress.enforcement}`));
    assert.match(await page.locator('[data-testid="enforcement-egress"]').innerText(), new RegExp(`egress\\s+${map.endpoint.egress.enforcement}`));

    // 3. The table holds exactly the API's entries (the page refreshes every 3 s; compare one snapshot
    //    taken right after the page's), with hits where the API has them.
    const shown = await rows.evaluateAll((els) =>
      els.map((e) => {
        const d = (e as HTMLElement).dataset;
        return { direction: d.direction!, identity: d.identity!, port: d.port!, protocol: d.protocol!, action: d.action!, packets: Number(d.packets), unused: d.unused === "true", text: e.textContent ?? "" };
      }),
    );
    const api = await getJson<PolicyMapResponse>(`${server.url}/api/endpoints/${ep.id}/policy-map`);
    assert.equal(shown.length, api.rows.length, "one table row per policy-map entry");
    assert.deepEqual(shown.map((r) => entryKey(r as never)).sort(), api.rows.map((r) => entryKey({ ...r, identity: String(r.identity) as never })).sort());
    const apiByKey = new Map(api.rows.map((r) => [entryKey({ ...r, identity: String(r.identity) as never }), r]));
    const hit = shown.filter((r) => r.action === "allow" && r.packets > 0);
    assert.ok(hit.length > 0, "an allow entry with packets is shown");
    for (const r of hit) assert.ok(apiByKey.get(entryKey(r as never))!.packets > 0, `${entryKey(r as never)} has hits in the API too`);
    // Counters only grow: what the page shows is at most what the API says now.
    for (const r of shown) assert.ok(r.packets <= apiByKey.get(entryKey(r as never))!.packets, `${entryKey(r as never)}: ${r.packets} packets shown`);

    // 4. An allow never hit is marked as unused; a hit one is not.
    const idle = shown.filter((r) => r.action === "allow" && r.packets === 0);
    assert.ok(idle.length > 0, "an allow entry without hits is shown");
    for (const r of idle) {
      assert.ok(r.unused, `${entryKey(r as never)} is marked unused`);
      assert.match(r.text, /unused allow/);
    }
    for (const r of hit) assert.ok(!r.unused, `${entryKey(r as never)} has hits and is not marked unused`);
    await e2e.screenshot("endpoint-policy-map");

    // 5. A contributing policy's link opens the policies page on that policy.
    // (from an entry with hits: the policy that let this traffic through)
    const policyLink = page.locator('[data-testid="policy-map-row"][data-action="allow"]:not([data-packets="0"]) [data-testid="entry-policy"]').first();
    const ref = (await policyLink.getAttribute("data-policy"))!;
    assert.ok(api.rows.some((r) => r.policies.some((p) => policyRefKey(p) === ref)), `${ref} contributes an entry in the API`);
    await policyLink.click();
    await page.waitForURL((u) => u.pathname === "/policies" && u.searchParams.get("policy") === ref);
    const policyPanel = page.locator(`[data-testid="policy-panel"][data-policy="${ref}"]`);
    await policyPanel.waitFor({ timeout: 15_000 });
    assert.match((await policyPanel.getAttribute("class")) ?? "", /highlight/);
    await policyPanel.scrollIntoViewIfNeeded();
    await e2e.screenshot("endpoint-policy-link-policies-page");

    // 6. A dropped flow to a pod: its details link to the destination's endpoint view.
    const drop = await until("a dropped flow to a pod with an endpoint ID", async () => {
      const flows = await apiFlows(server.url, { verdict: "DROPPED" }, 200);
      return flows.find((f) => f.flow.destination?.ID !== undefined && f.flow.destination.pod_name && !(f.flow.destination.labels ?? []).some((l) => l.startsWith("reserved:")));
    }, 60_000);
    const dst = drop.flow.destination!;
    await page.goto(`${server.url}/?pane=table&verdict=DROPPED&flow=${drop.id}`);
    await pause(page);
    const details = page.locator('[data-testid="flow-details"]');
    await details.waitFor({ timeout: 30_000 });
    const dstLink = details.locator('[data-testid="details-destination"] [data-testid="endpoint-link"]');
    assert.equal(await dstLink.getAttribute("href"), `/endpoints?id=${dst.ID}`);
    await dstLink.scrollIntoViewIfNeeded();
    await e2e.screenshot("dropped-flow-destination-endpoint-link");
    await dstLink.click();
    await page.waitForURL((u) => u.pathname === "/endpoints" && u.searchParams.get("id") === String(dst.ID));
    await page.locator('[data-testid="policy-map-row"]').first().waitFor({ timeout: 15_000 });
    assert.match(await page.locator('[data-testid="endpoint-title"]').innerText(), new RegExp(`${dst.namespace}/${dst.pod_name}`));
    assert.equal((await page.locator('[data-testid="endpoint-identity"]').innerText()).trim(), String(dst.identity));
    await e2e.screenshot("endpoint-from-dropped-flow");
  } finally {
    await e2e.close();
  }
});

test("the endpoints page lists every endpoint, host endpoints included, each opening its policy map", async () => {
  const e2e = await startE2E({ rate: 0 });
  try {
    const { page, server } = e2e;
    const all = (await getJson<EndpointsResponse>(`${server.url}/api/endpoints`)).endpoints;
    await page.goto(`${server.url}/endpoints`);
    const rows = page.locator('[data-testid="endpoint-list-row"]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), all.length);
    const host = all.find((e) => e.labels.includes("reserved:host"))!;
    assert.ok(host, "a host endpoint");
    await page.locator('[data-testid="endpoint-list-row"]', { hasText: host.pod }).first().getByRole("link", { name: String(host.id), exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get("id") === String(host.id));
    await page.locator('[data-testid="policy-map"]').waitFor();
    assert.equal(await page.locator('[data-testid="endpoint-identity"]').textContent(), String(host.identity));
  } finally {
    await e2e.close();
  }
});
