// The service map on the default scenario: it draws the workloads readably, edges carry their verdict
// colour, clicking an edge filters the table to that edge; then the policies page.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceMap } from "../../lib/api-types";
import { startE2E } from "./harness";
import { pause, shownRows, until } from "./ui-helpers";

test("the map draws the default scenario, and clicking an edge filters the table; the policies page lists policies", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    // Wait until the scenario's workloads have all talked (the map is built from observed flows).
    const map = await until("the default scenario's service map", async () => {
      const m = (await (await fetch(`${server.url}/api/service-map`)).json()) as ServiceMap;
      return m.nodes.length >= 15 && m.edges.length >= 15 ? m : undefined;
    }, 60_000);
    await page.goto(server.url + "/");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="map-node"]').length >= n, map.nodes.length, { timeout: 30_000 });
    const drawn = await page.locator('[data-testid="map-node"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    for (const n of map.nodes) assert.ok(drawn.includes(n.id), `node ${n.id} drawn`);
    const namespaces = new Set(map.nodes.flatMap((n) => (n.namespace ? [n.namespace] : [])));
    const groups = await page.locator('[data-testid="map-group"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    for (const ns of namespaces) assert.ok(groups.includes(`ns:${ns}`), `namespace ${ns} has a group`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-edge"]').length > 0);
    // Readable at Fit: node labels are drawn at least 9 px tall on screen.
    await page.waitForTimeout(500);
    const labelPx = await page.locator(".map-node .node-label").first().evaluate((e) => e.getBoundingClientRect().height);
    assert.ok(labelPx >= 9, `node labels are ${labelPx.toFixed(1)} px tall at Fit`);
    // Every edge has a verdict tone the API's verdict counts imply.
    const tones = await page.locator('[data-testid="map-edge"]').evaluateAll((els) => els.map((e) => [e.getAttribute("data-id"), e.getAttribute("data-tone")]));
    for (const [id, tone] of tones) {
      const e = map.edges.find((x) => x.id === id);
      if (!e) continue; // appeared after our snapshot
      const v = e.verdicts;
      const ok = (v.FORWARDED ?? 0) + (v.REDIRECTED ?? 0) > 0;
      const bad = (v.DROPPED ?? 0) > 0;
      if (ok && !bad && !v.AUDIT && !v.ERROR) assert.ok(tone === "forwarded" || tone === "mixed", `${id}: ${tone}`);
      if (bad && !ok && !v.AUDIT) assert.ok(tone === "dropped" || tone === "mixed", `${id}: ${tone}`);
    }
    await e2e.screenshot("service-map-default");

    // Click the busiest edge between two workloads.
    const edge = [...map.edges]
      .filter((e) => e.source.includes("/") && e.target.includes("/") && e.source !== e.target)
      .sort((a, b) => b.flows - a.flows)[0]!;
    await page.locator(`[data-testid="map-edge"][data-id="${edge.id}"]`).dispatchEvent("click");
    await page.waitForURL((u) => u.searchParams.get("edge") === edge.id);
    await page.locator('[data-testid="edge-panel"]').waitFor();
    await page.locator('[data-testid="edge-filter"]').waitFor();
    await pause(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="flow-row"]').length > 0, undefined, { timeout: 30_000 });
    const rows = await shownRows(page);
    // Source and destination columns hold "namespace/pod"; the edge's ends are "namespace/workload".
    const [src, dst] = [edge.source, edge.target];
    for (const r of rows) {
      const [, from, to] = r.cells;
      const fwd = from!.startsWith(src + "-") && to!.startsWith(dst + "-");
      const back = from!.startsWith(dst + "-") && to!.startsWith(src + "-");
      assert.ok(fwd || back, `row ${r.id} (${from} → ${to}) is not on edge ${edge.id}`);
    }
    const panel = await page.locator('[data-testid="edge-panel"]').innerText();
    for (const p of edge.policies) assert.ok(panel.includes(p), `edge panel lists ${p}`);
    await e2e.screenshot("edge-selected");

    // A node: its panel shows identity and the policies that select it.
    await page.locator(`[data-testid="map-node"][data-id="${edge.target}"]`).dispatchEvent("click");
    const nodePanel = page.locator('[data-testid="node-panel"]');
    await nodePanel.waitFor();
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('[data-testid="node-panel"]')?.textContent ?? "Loading"));
    assert.match(await nodePanel.innerText(), /Identity/);

    // Policies page: every policy the API lists is drawn.
    const policies = (await (await fetch(`${server.url}/api/policies`)).json()) as { policies: unknown[] };
    await page.goto(server.url + "/policies");
    await page.locator('[data-testid="policies-page"]').waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="policy-panel"]').length >= n, policies.policies.length, { timeout: 20_000 });
    await e2e.screenshot("policies-page");
  } finally {
    await e2e.close();
  }
});
