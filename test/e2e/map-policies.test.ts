// The service map on the default scenario: it draws the workloads readably, edges carry their verdict
// colour, clicking an edge filters the table to that edge; then the policies page.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import type { ServiceMap } from "../../lib/api-types";
import type { Flow } from "../../lib/flow/types";
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
      // allowed out by the source, dropped by the destination every time: blocked, not mixed
      if (ok && bad && !v.AUDIT && !v.ERROR && e.delivered === 0) assert.equal(tone, "dropped", `${id} reached its destination never`);
    }
    // Against the counts the page drew each edge from (its tooltip): audited (and forwarded) with
    // nothing dropped is the audit colour, not "mixed"; "mixed" is allowed and dropped together.
    const drawnTones = await page.locator('[data-testid="map-edge"]').evaluateAll((els) =>
      els.map((e) => ({ id: e.getAttribute("data-id"), tone: e.getAttribute("data-tone"), counts: e.querySelector("title")?.textContent?.split("\n").pop() ?? "" })),
    );
    for (const { id, tone, counts } of drawnTones) {
      const v = Object.fromEntries(counts.split(", ").map((kv) => kv.split(": ")).map(([k, n]) => [k, Number(n)])) as Record<string, number>;
      if (v.AUDIT && !v.DROPPED) assert.equal(tone, "audit", `${id}: ${counts}`);
      if (tone === "mixed") assert.ok(v.DROPPED && (v.FORWARDED || v.REDIRECTED || v.AUDIT), `${id} is mixed: ${counts}`);
    }
    // the legend names each colour, with what it means in its tooltip
    assert.match((await page.locator('[data-testid="map-legend"] [data-tone="audit"]').getAttribute("title")) ?? "", /audit mode/);
    assert.match((await page.locator('[data-testid="map-legend"] [data-tone="mixed"]').getAttribute("title")) ?? "", /allowed, some dropped/);
    await e2e.screenshot("service-map-default");

    // A blocked edge says why it is red although some of its flows were forwarded.
    const blocked = map.edges.find((e) => e.verdicts.FORWARDED && e.verdicts.DROPPED && e.delivered === 0);
    if (blocked) {
      await page.locator(`[data-testid="map-edge"][data-id="${blocked.id}"]`).dispatchEvent("click");
      await page.waitForURL((u) => u.searchParams.get("edge") === blocked.id);
      await page.locator('[data-testid="edge-blocked"]').waitFor();
      assert.equal(await page.locator('[data-testid="edge-delivered"]').innerText(), "0");
    }

    // Click the busiest edge between two workloads.
    const edge = [...map.edges]
      .filter((e) => e.source.includes("/") && e.target.includes("/") && e.source !== e.target)
      .sort((a, b) => b.flows - a.flows)[0]!;
    await page.locator(`[data-testid="map-edge"][data-id="${edge.id}"]`).dispatchEvent("click");
    await page.waitForURL((u) => u.searchParams.get("edge") === edge.id);
    await page.locator('[data-testid="edge-panel"]').waitFor();
    await page.locator('[data-testid="edge-filter"]').waitFor();
    // the map (not moved by hand) fits itself into what the panel leaves: no card sits under the panel
    await until("the map refitted beside the edge panel", () =>
      page.evaluate(() => {
        const panel = document.querySelector('[data-testid="edge-panel"]')!.getBoundingClientRect();
        const cards = [...document.querySelectorAll('[data-testid="map-node"]')].map((n) => n.getBoundingClientRect());
        return cards.length > 0 && cards.every((c) => c.right <= panel.left + 1 || c.top >= panel.bottom) ? true : undefined;
      }),
    );
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
    // what the panel is opened for, the deciding policies, is in its first screen (it scrolls inside a small overlay)
    const inView = await page.evaluate(() => {
      const panel = document.querySelector('[data-testid="edge-panel"]')!;
      const heading = [...panel.querySelectorAll("h4")].find((h) => h.textContent === "Deciding policies")!;
      const p = panel.getBoundingClientRect();
      const h = heading.getBoundingClientRect();
      return { top: h.top - p.top, bottom: h.bottom - p.top, visible: panel.clientHeight };
    });
    assert.ok(inView.bottom <= inView.visible, `the deciding policies heading is within the panel's first screen: ${JSON.stringify(inView)}`);
    // each deciding policy by its name, linked to it, with its kind and namespace beside: not the raw key
    const refs = await page.locator('[data-testid="edge-panel"] [data-testid="policy-ref"]').evaluateAll((els) =>
      els.map((e) => ({ ref: e.getAttribute("data-ref"), text: e.textContent, href: e.getAttribute("href"), after: e.nextElementSibling?.textContent ?? "" })),
    );
    for (const p of edge.policies) {
      const [kind, ns, name] = p.split("/");
      const shownRef = refs.find((r) => r.ref === p);
      assert.ok(shownRef, `edge panel lists ${p}`);
      assert.equal(shownRef.text, name);
      assert.equal(shownRef.href, `/policies?policy=${encodeURIComponent(p)}`);
      assert.equal(shownRef.after, ns ? `${kind} · ${ns}` : kind);
    }
    await e2e.screenshot("edge-selected");

    // The edge is a server filter (map_edge): the count is the table's own, and the NDJSON export holds
    // every stored flow of the edge up to the pause, as Hubble JSON lines, at least the rows shown.
    const countText = await until("a settled row count", async () => {
      const a = await page.locator('[data-testid="row-count"]').innerText();
      await new Promise((r) => setTimeout(r, 1500));
      return a === (await page.locator('[data-testid="row-count"]').innerText()) ? a : undefined;
    });
    const m = /^([\d,]+) flows/.exec(countText);
    assert.ok(m, `row count: ${countText}`);
    const shown = Number(m![1]!.replace(/,/g, ""));
    assert.ok(shown >= rows.length && shown > 0, `${countText} counts the ${rows.length} rows drawn`);
    await page.locator('[data-testid="export-button"]').click();
    assert.match(await page.locator('[data-testid="export-window"]').innerText(), new RegExp(`map edge ${src} → ${dst}`));
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="export-ndjson"]').click()]);
    const lines = fs.readFileSync((await download.path())!, "utf8").split("\n").filter((l) => l.trim());
    assert.ok(lines.length >= shown && shown > 0, `${lines.length} exported lines for ${shown} rows shown`);
    const onEdge = (pod: string | undefined, workload: string) => pod !== undefined && pod.startsWith(workload.split("/")[1] + "-");
    for (const line of lines) {
      const rec = JSON.parse(line) as { flow: Flow; node_name?: string; time?: string };
      assert.ok(rec.node_name && rec.time && rec.flow.uuid, "a hubble observe -o json record");
      assert.equal("extensions" in rec.flow, false, "Hubble-readable: no Flowscope extension");
      const f = rec.flow;
      const fwd = onEdge(f.source?.pod_name, src) && onEdge(f.destination?.pod_name, dst) && f.is_reply !== true;
      const back = onEdge(f.source?.pod_name, dst) && onEdge(f.destination?.pod_name, src) && f.is_reply === true;
      assert.ok(fwd || back, `exported flow ${f.uuid} is on edge ${edge.id}`);
    }
    // the API takes the same selection
    const viaApi = (await (await fetch(`${server.url}/api/flows?limit=200&map_edge=${encodeURIComponent(edge.id)}`)).json()) as { flows: { flow: Flow }[] };
    assert.ok(viaApi.flows.length > 0, "GET /api/flows?map_edge= finds the edge's flows");
    for (const { flow: f } of viaApi.flows) {
      const fwd = onEdge(f.source?.pod_name, src) && onEdge(f.destination?.pod_name, dst) && f.is_reply !== true;
      const back = onEdge(f.source?.pod_name, dst) && onEdge(f.destination?.pod_name, src) && f.is_reply === true;
      assert.ok(fwd || back, `API flow ${f.uuid} is on edge ${edge.id}`);
    }

    // A node: its panel shows identity and the policies that select it. A flow open in the details
    // closes, as it does for an edge: the table it came from is about to narrow to the node's flows.
    await page.locator('[data-testid="flow-row"]').first().click();
    await page.waitForURL((u) => u.searchParams.has("flow"));
    await page.locator(`[data-testid="map-node"][data-id="${edge.target}"]`).dispatchEvent("click");
    await page.waitForURL((u) => u.searchParams.get("node") === edge.target && !u.searchParams.has("flow"));
    const nodePanel = page.locator('[data-testid="node-panel"]');
    await nodePanel.waitFor();
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('[data-testid="node-panel"]')?.textContent ?? "Loading"));
    assert.match(await nodePanel.innerText(), /Identity/);
    // its L7 endpoints say which of them its L7 rules refused
    const deniedBefore = map.nodes.find((n) => n.id === edge.target)?.l7_denied ?? [];
    const l7Items = await nodePanel.locator('[data-testid="node-l7"]').evaluateAll((els) => els.map((e) => ({ code: e.querySelector("code")?.textContent ?? "", denied: !!e.querySelector(".verdict-pill.v-dropped") })));
    const nodeNow = ((await (await fetch(`${server.url}/api/service-map`)).json()) as ServiceMap).nodes.find((n) => n.id === edge.target);
    for (const d of deniedBefore) assert.ok(l7Items.some((i) => i.code === d && i.denied), `${d} is marked denied in the node panel`);
    for (const i of l7Items) if (i.denied) assert.ok(nodeNow?.l7_denied?.includes(i.code), `${i.code} is marked denied only if the map says so`);
    // ... and the table narrows to the node's flows, as Hubble UI's card click does
    await page.locator('[data-testid="node-filter"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="flow-row"]').length > 0, undefined, { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    for (const r of await shownRows(page)) {
      const [, from, to] = r.cells;
      assert.ok(from!.startsWith(dst + "-") || to!.startsWith(dst + "-"), `row ${r.id} (${from} → ${to}) touches node ${dst}`);
    }

    // The hide toggles are filters for the table too: with kube-dns hidden, no row involves coredns,
    // although the busiest traffic of the scenario is DNS.
    const withDns = (rs: Awaited<ReturnType<typeof shownRows>>) => rs.filter((r) => r.cells.some((c) => c.startsWith("kube-system/coredns-")));
    await page.goto(server.url + "/?pane=table");
    await until("DNS rows in the table", async () => withDns(await shownRows(page)).length > 0 || undefined, 30_000);
    await page.goto(server.url + "/?pane=split");
    // a controlled checkbox: its state follows the URL, which the click changes (check() would read
    // the state before the router has applied it)
    await page.locator('[data-testid="hide-kube-dns"]').click();
    await page.waitForURL((u) => u.searchParams.get("hide") === "kube-dns");
    await page.waitForFunction(() => (document.querySelector('[data-testid="hide-kube-dns"]') as HTMLInputElement | null)?.checked === true);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="flow-row"]').length > 0, undefined, { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(withDns(await shownRows(page)).map((r) => r.cells.join(" ")), [], "no coredns row once kube-dns is hidden");
    assert.equal(await page.locator('[data-testid="map-node"][data-id="kube-system/coredns"]').count(), 0, "nor a coredns node");

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
