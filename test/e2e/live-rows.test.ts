// The thin path end to end: simulator → datapath → bus → WebSocket → rows in a real browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowsPage } from "../../lib/api-types";
import { startE2E } from "./harness";

test("the page shows flows arriving live", async () => {
  const e2e = await startE2E({ rate: 20 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/");
    const rows = page.locator('[data-testid="flow-row"]');
    await rows.first().waitFor({ timeout: 30_000 });
    const before = await rows.count();
    // New flows keep arriving over the socket without a reload.
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="flow-row"]').length > n, before, { timeout: 30_000 });
    await page.locator('[data-testid="stream-status"]').waitFor();
    const text = (await rows.first().innerText()).trim();
    assert.ok(text.length > 0, "a row has content");
    // What the browser shows is what the API has.
    const api = (await (await fetch(`${server.url}/api/flows?limit=1`)).json()) as FlowsPage;
    assert.ok(api.flows.length === 1);
    await e2e.screenshot("live-rows");
  } finally {
    await e2e.close();
  }
});
