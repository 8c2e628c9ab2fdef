// After a filter change the table and the map never show the previous filters' data as if it were the
// new view's: the table empties at once and says it is loading, live flows still arriving for the old
// subscription are not added, and the old map is greyed out under a loading notice until the new one
// arrives. The new view's first page and map are held back (page.route) so the in-between state lasts
// as long as the test needs, with live flows for the old filter still streaming in meanwhile.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Route } from "playwright-core";
import { startE2E } from "./harness";

declare global {
  interface Window {
    __sampler?: { bad: string[]; frames: number; stop: boolean };
  }
}

test("a filter change never shows the previous filters' rows or map as current", async () => {
  const e2e = await startE2E({ rate: 80 });
  try {
    const { page, server } = e2e;
    // live "flows" messages received over the WebSocket (the old subscription keeps sending them)
    let flowFrames = 0;
    page.on("websocket", (ws) =>
      ws.on("framereceived", (f) => {
        if (typeof f.payload === "string" && f.payload.includes('"type":"flows"')) flowFrames++;
      }),
    );
    // tsx names the helper functions inside page.evaluate callbacks with its own `__name`
    await page.addInitScript("globalThis.__name = (f) => f");
    await page.goto(server.url + "/?hide=kube-dns");
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="flow-row"]')].some((r) => r.getAttribute("data-verdict") === "FORWARDED"), undefined, {
      timeout: 30_000,
    });
    await page.locator('[data-testid="service-map"]:not([data-nodes="0"])').waitFor({ timeout: 30_000 });

    // Hold back the new view's first page and map.
    const held: Route[] = [];
    let heldFlows!: () => void;
    const flowsHeld = new Promise<void>((r) => (heldFlows = r));
    await page.route(
      (u) => (u.pathname === "/api/flows" || u.pathname === "/api/service-map") && u.searchParams.get("verdict") === "DROPPED",
      (route) => {
        held.push(route);
        if (new URL(route.request().url()).pathname === "/api/flows") heldFlows();
      },
    );

    // From the moment the verdict control says Dropped, every frame: no row with another verdict.
    await page.evaluate(() => {
      const s = { bad: [] as string[], frames: 0, stop: false };
      window.__sampler = s;
      const tick = () => {
        const sel = document.querySelector('[data-testid="verdict-select"]') as HTMLSelectElement | null;
        if (sel?.value === "DROPPED") {
          s.frames++;
          for (const r of document.querySelectorAll('[data-testid="flow-row"]')) {
            const v = r.getAttribute("data-verdict");
            if (v !== "DROPPED" && s.bad.length < 20) s.bad.push(`${r.getAttribute("data-id")} ${v}`);
          }
        }
        if (!s.stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });

    await page.locator('[data-testid="verdict-select"]').selectOption("DROPPED");
    await page.waitForURL((u) => u.searchParams.get("verdict") === "DROPPED");
    await flowsHeld;
    // The old subscription goes on delivering flows of every verdict while the new page is held.
    const framesAtChange = flowFrames;
    await page.waitForFunction(() => (window.__sampler?.frames ?? 0) > 0);
    const deadline = Date.now() + 30_000;
    while (flowFrames < framesAtChange + 6) {
      assert.ok(Date.now() < deadline, "live flows kept arriving during the hold");
      await new Promise((r) => setTimeout(r, 100));
    }

    // Meanwhile: an empty table that says it is loading, and a greyed-out map under a loading notice.
    assert.equal(await page.locator('[data-testid="flow-row"]').count(), 0, "no row shown while the new filters' rows load");
    assert.equal(await page.locator('[data-testid="flow-table"]').getAttribute("data-loading"), "true");
    assert.match(await page.locator('[data-testid="table-empty"]').innerText(), /loading/i);
    assert.match(await page.locator('[data-testid="row-count"]').innerText(), /loading/i, "the count is not the old view's");
    assert.equal(await page.locator('[data-testid="service-map"]').getAttribute("data-stale"), "true", "the old map is marked stale");
    assert.ok(await page.locator('[data-testid="map-loading"]').isVisible(), "the map says it is loading");
    await e2e.screenshot("filter-change-loading");

    // Let the new view load: its rows (all dropped) appear, the map is current again.
    await page.unroute("**/*");
    for (const r of held) await r.continue().catch(() => undefined);
    await page.locator('[data-testid="service-map"]:not([data-stale])').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="flow-table"]:not([data-loading])').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    // and live dropped flows keep arriving on the new subscription (more frames), still none of another verdict
    const framesAfter = flowFrames;
    while (flowFrames < framesAfter + 6) {
      assert.ok(Date.now() < deadline + 30_000, "live flows keep arriving");
      await new Promise((r) => setTimeout(r, 100));
    }
    const { bad, frames } = await page.evaluate(() => {
      window.__sampler!.stop = true;
      return { bad: window.__sampler!.bad, frames: window.__sampler!.frames };
    });
    assert.ok(frames > 0);
    assert.deepEqual(bad, [], "rows of another verdict shown while the control said Dropped");
    await e2e.screenshot("filter-change-loaded");
  } finally {
    await e2e.close();
  }
});
