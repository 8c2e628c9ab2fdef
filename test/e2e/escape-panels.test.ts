// Escape closes the flow details panel from anywhere on the page (the page body, the panel's own
// Close button, the table), not while typing in a text field, and not while a menu is open (the menu
// closes first); with the details closed, Escape closes the map's node panel.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startE2E } from "./harness";
import { pause } from "./ui-helpers";

async function openDetails(page: Page): Promise<void> {
  await page.locator('[data-testid="flow-row"]').first().click();
  await page.locator('[data-testid="flow-details"]').waitFor();
  await page.waitForURL((u) => u.searchParams.has("flow"));
}

async function detailsClosed(page: Page): Promise<void> {
  await page.locator('[data-testid="flow-details"]').waitFor({ state: "detached" });
  await page.waitForURL((u) => !u.searchParams.has("flow"));
}

test("Escape closes the details panel from anywhere but a text field, then the map's node panel", async () => {
  const e2e = await startE2E({ rate: 30 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    await pause(page);

    // focus on the page body
    await openDetails(page);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    assert.equal(await page.evaluate(() => document.activeElement === document.body), true);
    await page.keyboard.press("Escape");
    await detailsClosed(page);

    // focus on the panel's Close button: closed, and the keyboard carries on in the table
    await openDetails(page);
    await page.getByRole("button", { name: "Close details" }).focus();
    await page.keyboard.press("Escape");
    await detailsClosed(page);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("ft-body")), true, "focus is back in the table");

    // the table body (as before)
    await openDetails(page);
    await page.locator(".ft-body").focus();
    await page.keyboard.press("Escape");
    await detailsClosed(page);

    // typing in the filter box: Escape is the field's, the panel stays
    await openDetails(page);
    await page.locator('[data-testid="filter-input"]').focus();
    await page.keyboard.type("app=");
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="flow-details"]').waitFor();
    assert.ok(new URL(page.url()).searchParams.has("flow"));
    await page.locator('[data-testid="filter-input"]').fill("");

    // an open menu closes first, the panel on the next Escape
    await page.locator('[data-testid="export-button"]').click();
    await page.locator('[role="menu"]').waitFor();
    await page.keyboard.press("Escape");
    await page.locator('[role="menu"]').waitFor({ state: "detached" });
    assert.equal(await page.locator('[data-testid="flow-details"]').count(), 1, "the menu's Escape leaves the panel open");
    await page.keyboard.press("Escape");
    await detailsClosed(page);

    // the map's node panel
    const card = page.locator('[data-testid="map-node"]').first();
    await card.waitFor({ timeout: 30_000 });
    const nodeId = (await card.getAttribute("data-id"))!;
    await card.dispatchEvent("click");
    await page.locator('[data-testid="node-panel"]').waitFor();
    await page.waitForURL((u) => u.searchParams.get("node") === nodeId);
    // with a flow's details open as well, Escape closes the details first, then the node panel
    await openDetails(page);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("Escape");
    await detailsClosed(page);
    assert.equal(await page.locator('[data-testid="node-panel"]').count(), 1, "the node panel stays for the next Escape");
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="node-panel"]').waitFor({ state: "detached" });
    await page.waitForURL((u) => !u.searchParams.has("node"));

    // from inside the node panel (its Close button): closed, focus back on the card
    await card.dispatchEvent("click");
    await page.locator('[data-testid="node-panel"]').waitFor();
    await page.locator('[data-testid="node-panel"] button[aria-label="Close"]').focus();
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="node-panel"]').waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-id")), nodeId, "focus is back on the card");
  } finally {
    await e2e.close();
  }
});
