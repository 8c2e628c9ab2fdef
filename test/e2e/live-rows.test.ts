// The thin path end to end: simulator → datapath → bus → WebSocket → rows in a real browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowsPage } from "../../lib/api-types";
import { startE2E } from "./harness";
import { rowCount } from "./ui-helpers";

test("the page shows flows arriving live", async () => {
  const e2e = await startE2E({ rate: 20 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/");
    const rows = page.locator('[data-testid="flow-row"]');
    await rows.first().waitFor({ timeout: 30_000 });
    // The table keeps only on-screen rows in the DOM, so "more rows" is read from the total and the
    // newest row, not from the number of row elements.
    const before = await rowCount(page);
    const newestBefore = await rows.first().getAttribute("data-id");
    await page.waitForFunction(
      ([n, id]) => {
        const total = Number(/^[\d,]+/.exec(document.querySelector('[data-testid="row-count"]')?.textContent?.trim() ?? "")?.[0]?.replace(/,/g, "") ?? 0);
        const top = document.querySelector('[data-testid="flow-row"]')?.getAttribute("data-id");
        return total > (n as number) && top !== id;
      },
      [before, newestBefore] as const,
      { timeout: 30_000 },
    );
    await page.locator('[data-testid="stream-status"]').waitFor();
    const text = (await rows.first().innerText()).trim();
    assert.ok(text.length > 0, "a row has content");
    // Newest first: the time column (HH:MM:SS.mmm) never increases down the table.
    const times = await rows.evaluateAll((els) => els.slice(0, 15).map((e) => e.querySelector('[role="gridcell"]')?.textContent ?? ""));
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! >= times[i]!, `row ${i}: ${times[i - 1]} before ${times[i]}`);
    // What the browser shows is what the API has.
    const api = (await (await fetch(`${server.url}/api/flows?limit=1`)).json()) as FlowsPage;
    assert.ok(api.flows.length === 1);
    const shown = await rows.first().getAttribute("data-id");
    const stored = (await (await fetch(`${server.url}/api/flows?limit=1&cursor=${BigInt(shown!) + 1n}`)).json()) as FlowsPage;
    assert.equal(stored.flows[0]?.id, shown, "the top row is a stored flow");
    await e2e.screenshot("live-rows");
  } finally {
    await e2e.close();
  }
});
