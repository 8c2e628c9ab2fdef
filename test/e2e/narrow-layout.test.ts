// A laptop-width window: the details panel stays on screen (the map and table give way, the table
// scrolls sideways), and Escape closes an open menu.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2E } from "./harness";

test("at 1024×700 the details panel and its close button are on screen; Escape closes the export menu", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(server.url + "/");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="flow-row"]').first().click();
    const details = page.locator('[data-testid="flow-details"]');
    await details.waitFor();
    const close = details.getByRole("button", { name: "Close details" });
    const box = (await close.boundingBox())!;
    assert.ok(box && box.x >= 0 && box.x + box.width <= 1024, `close button at x=${box?.x}..${(box?.x ?? 0) + (box?.width ?? 0)}, window 1024 wide`);
    const panel = (await details.boundingBox())!;
    assert.ok(panel.x + panel.width <= 1024 + 1, `details panel ends at ${panel.x + panel.width}`);
    // the table keeps its columns and scrolls sideways inside its pane instead of pushing the panel out
    const pane = await page.evaluate(() => {
      const el = document.querySelector(".table-pane") as HTMLElement;
      return { scroll: el.scrollWidth, client: el.clientWidth };
    });
    assert.ok(pane.scroll > pane.client, `the table pane scrolls sideways (${pane.scroll} > ${pane.client})`);
    await e2e.screenshot("narrow-details");
    await close.click();
    await details.waitFor({ state: "detached" });

    const exportButton = page.locator('[data-testid="export-button"]');
    await exportButton.click();
    await page.locator('[data-testid="export-ndjson"]').waitFor();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="export-ndjson"]').waitFor({ state: "detached" });
    assert.equal(await exportButton.getAttribute("aria-expanded"), "false");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "export-button", "focus returns to the menu's button");
    // the keyboard opens the menu onto its first item, and the arrows move between items, wrapping
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
    await page.keyboard.press("ArrowDown");
    await page.locator('[data-testid="export-ndjson"]').waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "export-ndjson");
    await page.keyboard.press("ArrowDown");
    assert.equal(await focused(), "export-bundle");
    await page.keyboard.press("ArrowDown");
    assert.equal(await focused(), "export-ndjson");
    await page.keyboard.press("ArrowUp");
    assert.equal(await focused(), "export-bundle");
    await page.keyboard.press("Home");
    assert.equal(await focused(), "export-ndjson");
    await page.keyboard.press("Escape");
  } finally {
    await e2e.close();
  }
});
