// Small things a daily user hits: a custom time range with From after Until is refused at the date
// inputs (no query goes out and the filter box shows no error), the Columns menu closes on Escape and
// on a click outside, a text column sorts A→Z on its first click, and `verdict=DROPPED` typed in the
// filter box filters by verdict (it used to become a label selector matching nothing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2E } from "./harness";
import { until as waitUntil } from "./ui-helpers";

test("custom range, Columns menu, first sort and verdict= in the filter box", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/?pane=table");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });

    // From after Until: said at the inputs, and nothing with since > until is requested
    const inverted: string[] = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      const since = u.searchParams.get("since");
      const until = u.searchParams.get("until");
      if (since && until && Date.parse(since) > Date.parse(until)) inverted.push(u.pathname);
    });
    await page.locator('[data-testid="time-range"]').selectOption("custom");
    const until = page.getByLabel("Until");
    await until.waitFor();
    const fromValue = await page.getByLabel("From").inputValue();
    // an Until an hour before From
    const earlier = new Date(new Date(`${fromValue}Z`).getTime() - 3600_000).toISOString().slice(0, 19);
    await until.fill(earlier);
    await page.locator('[data-testid="range-error"]').waitFor();
    assert.equal(await until.getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator(".filter-error").count(), 0, "the filter box shows no error");
    await page.waitForTimeout(500);
    assert.deepEqual(inverted, [], "no query with since after until");
    // back to Live: the half-made range goes
    await page.locator('[data-testid="time-range"]').selectOption("live");
    assert.equal(await page.locator('[data-testid="range-error"]').count(), 0);

    // the Columns menu closes on Escape and on a click elsewhere
    const columnsButton = page.locator('[data-testid="columns-button"]');
    await columnsButton.click();
    await page.locator(".columns-menu").waitFor();
    await page.keyboard.press("Escape");
    await page.locator(".columns-menu").waitFor({ state: "detached" });
    await columnsButton.click();
    await page.locator(".columns-menu").waitFor();
    await page.locator('[data-testid="stream-status"]').click();
    await page.locator(".columns-menu").waitFor({ state: "detached" });

    // a text column's first click sorts A→Z, the second Z→A; time starts newest first
    // (the sort lives in the URL, so each click lands once the router has replaced it)
    const source = page.locator('[role="columnheader"]', { hasText: "Source" });
    await source.click();
    await page.waitForURL((u) => u.searchParams.get("sort") === "source.asc");
    await waitUntil("Source A→Z", async () => (await source.getAttribute("aria-sort")) === "ascending" || undefined);
    await source.click();
    await page.waitForURL((u) => u.searchParams.get("sort") === "source.desc");
    await waitUntil("Source Z→A", async () => (await source.getAttribute("aria-sort")) === "descending" || undefined);
    const time = page.locator('[role="columnheader"]', { hasText: "Time" });
    await time.click();
    // the default sort is no sort parameter at all
    await page.waitForURL((u) => !u.searchParams.has("sort"));
    await waitUntil("Time newest first", async () => (await time.getAttribute("aria-sort")) === "descending" || undefined);

    // verdict= in the filter box is a verdict filter
    await page.locator('[data-testid="filter-input"]').fill("verdict=DROPPED");
    await page.locator('[data-testid="filter-input"]').press("Enter");
    await page.locator('[data-testid="filter-chip"]', { hasText: "verdict=DROPPED" }).waitFor();
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="flow-row"]')];
        return rows.length > 0 && rows.every((r) => r.getAttribute("data-verdict") === "DROPPED");
      },
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(new URL(page.url()).searchParams.get("filter"), "verdict=DROPPED", page.url());
  } finally {
    await e2e.close();
  }
});
