// Pause freezes the whole view: while the table is paused the live map is not refreshed either, so its
// counts do not drift from the rows on screen; Resume refreshes it again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2E } from "./harness";
import { pause, resume } from "./ui-helpers";

test("while paused the service map is not refetched; after Resume it is", async () => {
  const e2e = await startE2E({ rate: 30 });
  try {
    const { page, server } = e2e;
    let mapRequests = 0;
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/api/service-map") mapRequests++;
    });
    await page.goto(server.url + "/");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-edge"]').length > 0, undefined, { timeout: 30_000 });
    await pause(page);
    const atPause = mapRequests;
    // the live map refreshes every 5 s: wait for more than two of its periods
    await new Promise((r) => setTimeout(r, 11_000));
    assert.equal(mapRequests, atPause, "no service-map request while paused");
    await resume(page);
    await page.waitForFunction(() => /pause/i.test(document.querySelector('[data-testid="pause-button"]')?.textContent ?? ""));
    const deadline = Date.now() + 15_000;
    while (mapRequests === atPause && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(mapRequests > atPause, "the map is fetched again after Resume");
  } finally {
    await e2e.close();
  }
});
