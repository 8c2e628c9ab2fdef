// A laptop-width window: the details panel stays on screen (the map and table give way, the table
// leaves out its least-read columns so Verdict stays in sight), and Escape closes an open menu.
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
    // the table gives up its least-read columns to fit beside the panel: Verdict stays in sight
    const fit = await page.evaluate(() => {
      const pane = (document.querySelector(".table-pane") as HTMLElement).getBoundingClientRect();
      const heads = [...document.querySelectorAll<HTMLElement>('.ft-header [role="columnheader"]')].map((h) => {
        const r = h.getBoundingClientRect();
        return { title: h.textContent ?? "", left: r.left, right: r.right };
      });
      const marker = document.querySelector<HTMLElement>('[data-testid="columns-hidden"]');
      return { pane: { left: pane.left, right: pane.right }, heads, marker: marker ? { text: marker.textContent, title: marker.title } : null };
    });
    const verdictHead = fit.heads.find((h) => h.title.startsWith("Verdict"));
    assert.ok(verdictHead, `a Verdict column among ${fit.heads.map((h) => h.title).join(", ")}`);
    assert.ok(verdictHead.right <= fit.pane.right + 1 && verdictHead.left >= fit.pane.left, `Verdict at ${verdictHead.left}..${verdictHead.right}, pane ${fit.pane.left}..${fit.pane.right}`);
    for (const h of fit.heads) assert.ok(h.right <= fit.pane.right + 1, `${h.title} ends at ${h.right}, inside the pane (${fit.pane.right})`);
    assert.ok(fit.marker, "the header says columns were left out");
    assert.match(fit.marker.title, /^Not shown at this width: .*(Type|L7|Port)/);
    assert.equal(fit.marker.text, `+${8 - fit.heads.length}`, "the marker counts the default columns left out");
    await e2e.screenshot("narrow-details");
    await close.click();
    await details.waitFor({ state: "detached" });
    // with the panel closed there is room again: every default column is back, and no marker
    await page.locator('[data-testid="columns-hidden"]').waitFor({ state: "detached" });
    assert.equal(await page.locator('.ft-header [role="columnheader"]').count(), 8);

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
