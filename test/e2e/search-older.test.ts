// A filter decided row by row (a trace id) over a long history: the server answers each page after
// its search budget (FLOWSCOPE_SCAN_MS, 1 ms here) with what it found and a cursor. The table must
// search further back on its own while it holds less than a page, stop after a bounded number of
// pages and offer Load older, and find the one match at the far end of history.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowsPage } from "../../lib/api-types";
import { makeFlow } from "../helpers/flows";
import { startE2E } from "./harness";
import { rowCount, until } from "./ui-helpers";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const FLOWS = 1_000;

test("a page that stopped early is followed by older ones without a click, then Load older", async () => {
  const e2e = await startE2E({ simulate: false, env: { FLOWSCOPE_SCAN_MS: "1" } });
  try {
    const { page, server } = e2e;
    const t0 = Date.parse("2026-11-01T10:00:00Z");
    const lines: string[] = [];
    for (let i = 0; i < FLOWS; i++) {
      const env = makeFlow({ time: new Date(t0 + i * 10) });
      // the oldest flow alone carries the trace id
      if (i === 0) env.flow.trace_context = { parent: { trace_id: TRACE_ID } };
      lines.push(JSON.stringify(env));
    }
    const imported = (await (await fetch(`${server.url}/api/import`, { method: "POST", body: lines.join("\n") + "\n", headers: { "Content-Type": "application/x-ndjson" } })).json()) as { imported: number };
    assert.equal(imported.imported, FLOWS);

    const since = new Date(t0 - 60_000).toISOString();
    const untilIso = new Date(t0 + FLOWS * 10 + 60_000).toISOString();
    const q = `trace_id=${TRACE_ID}`;
    // the precondition: one page alone does not reach the match
    const alone = (await (await fetch(`${server.url}/api/flows?limit=2000&order=desc&since=${since}&until=${untilIso}&q=${encodeURIComponent(q)}`)).json()) as FlowsPage;
    assert.equal(alone.flows.length, 0);
    assert.equal(alone.scanStopped, true, "the server stopped the search early");

    const continued: string[] = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/api/flows" && u.searchParams.has("cursor")) continued.push(u.searchParams.get("cursor")!);
    });
    await page.goto(`${server.url}/?range=custom&since=${since}&until=${untilIso}&pane=table&filter=${encodeURIComponent(q)}`);
    // Either the automatic search found the flow, or it stopped at its bound and offers Load older.
    const loadOlder = page.locator('[data-testid="load-older"]');
    // found, or waiting for a click: Load older shown and not busy, nothing being fetched on its own
    const settled = async () =>
      (await rowCount(page)) === 1 ||
      ((await page.locator('[data-testid="searching"]').count()) === 0 && (await loadOlder.count()) === 1 && (await loadOlder.isEnabled()));
    await until("the automatic search to find the flow or stop", settled);
    if ((await rowCount(page)) === 0) assert.equal(await page.locator('[data-testid="scan-stopped"]').count(), 1, "the table says the search stopped early");
    const automatic = continued.length;
    assert.ok(automatic >= 1, "at least one older page was fetched without a click");
    assert.ok(automatic <= 12, `the automatic search is bounded (${automatic} pages)`);
    assert.equal(new Set(continued).size, continued.length, "no page was fetched twice");

    // Load older goes on from where the automatic search stopped, one page a click (each short page
    // is followed automatically again while the table holds less than a page).
    for (let clicks = 0; (await rowCount(page)) === 0; clicks++) {
      assert.ok(clicks < 400, "Load older reaches the oldest flow");
      const before = continued.length;
      await loadOlder.click();
      await until("the next page", async () => continued.length > before && (await settled()));
    }
    assert.equal(await rowCount(page), 1);
    const row = page.locator('[data-testid="flow-row"]');
    assert.equal(await row.count(), 1);
    const oldest = (await (await fetch(`${server.url}/api/flows?limit=1&order=asc`)).json()) as FlowsPage;
    assert.equal(await row.first().getAttribute("data-id"), oldest.flows[0]!.id, "the row is the traced flow");
    await e2e.screenshot("search-older");
  } finally {
    await e2e.close();
  }
});
