// At 1024 px (the narrowest width narrow-layout.test.ts covers) the top bar keeps to one row on every
// page, with the "Forget token" button too, and nothing in it is cut off, overlapped or out of reach:
// what the narrow bar hides from view (the brand's name, the live rate) is still in its tooltip or name.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startE2E } from "./harness";

const TOKEN = "t0pbar-e2e-Token";

interface BarGeometry {
  width: number;
  height: number;
  minHeight: number;
  top: number;
  bottom: number;
  items: { what: string; top: number; bottom: number; left: number; right: number }[];
  controls: { what: string; left: number; right: number; top: number; bottom: number; hidden: boolean }[];
}

async function bar(page: Page): Promise<BarGeometry> {
  return page.evaluate(() => {
    const el = document.querySelector(".topbar") as HTMLElement;
    const r = el.getBoundingClientRect();
    const name = (e: Element) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}${e.getAttribute("data-testid") ? `[${e.getAttribute("data-testid")}]` : ""} "${(e.textContent ?? "").trim().slice(0, 30)}"`;
    // (an empty spacer has no height and no row)
    const items = [...el.children].filter((c) => c.getBoundingClientRect().height > 0).map((c) => {
      const b = c.getBoundingClientRect();
      return { what: name(c), top: b.top, bottom: b.bottom, left: b.left, right: b.right };
    });
    const controls = [...el.querySelectorAll("a, button, select, input, [role=status]")].map((c) => {
      const b = c.getBoundingClientRect();
      return { what: name(c), left: b.left, right: b.right, top: b.top, bottom: b.bottom, hidden: b.width === 0 || b.height === 0 };
    });
    return { width: window.innerWidth, height: r.height, minHeight: parseFloat(getComputedStyle(el).minHeight) || 0, top: r.top, bottom: r.bottom, items, controls };
  });
}

/** Every control in the window, inside the bar, and clear of the others. */
function assertReachable(g: BarGeometry, where: string): void {
  // no control slides under another
  for (const [i, c] of g.controls.entries())
    for (const d of g.controls.slice(i + 1)) {
      const overlap = Math.min(c.right, d.right) - Math.max(c.left, d.left);
      const rows = Math.min(c.bottom, d.bottom) - Math.max(c.top, d.top);
      assert.ok(overlap <= 0.5 || rows <= 0.5, `${where}: ${c.what} (x=${c.left.toFixed(0)}..${c.right.toFixed(0)}) overlaps ${d.what} (x=${d.left.toFixed(0)}..${d.right.toFixed(0)})`);
    }
  for (const c of g.controls) {
    assert.ok(!c.hidden, `${where}: ${c.what} is shown`);
    assert.ok(c.left >= 0 && c.right <= g.width + 0.5, `${where}: ${c.what} at x=${c.left.toFixed(0)}..${c.right.toFixed(0)} is inside the ${g.width} px window`);
    assert.ok(c.top >= g.top && c.bottom <= g.bottom, `${where}: ${c.what} is inside the bar`);
  }
}

function assertOneRow(g: BarGeometry, where: string): void {
  assert.ok(g.items.length >= 2, `${where}: the bar has items`);
  // one row: every item's vertical span overlaps every other's, and the bar is one control tall
  const lowestTop = Math.max(...g.items.map((i) => i.top));
  const highestBottom = Math.min(...g.items.map((i) => i.bottom));
  assert.ok(
    lowestTop < highestBottom,
    `${where}: items on more than one row: ${g.items.map((i) => `${i.what} y=${i.top.toFixed(0)}..${i.bottom.toFixed(0)}`).join("; ")}`,
  );
  const tallest = Math.max(...g.items.map((i) => i.bottom - i.top));
  // its min-height, or 8 px padding above and below and a 1 px border around a single row of the tallest item
  assert.ok(g.height <= Math.max(g.minHeight, tallest + 16 + 1) + 1, `${where}: bar ${g.height} px tall for items at most ${tallest} px tall`);
  assertReachable(g, where);
}

test("at 1024×768 the top bar is one row on every page, with nothing cut off or out of reach", async () => {
  const e2e = await startE2E({ rate: 30 });
  try {
    const { page, server } = e2e;
    // tsx names the helper functions inside page.evaluate callbacks with its own `__name`
    await page.addInitScript("globalThis.__name = (f) => f");
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.goto(server.url + "/");
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor({ timeout: 30_000 });
    assertOneRow(await bar(page), "flows");
    await e2e.screenshot("topbar-1024");
    // hidden from view at this width, still there to read
    assert.equal(await page.locator(".topbar .brand").getAttribute("aria-label"), "Flowscope home");
    assert.equal(await page.locator(".topbar .brand").getAttribute("title"), "Flowscope");
    assert.match((await page.locator('[data-testid="stream-status"]').getAttribute("title")) ?? "", /Live, [\d.K]+ flows\/s/);
    // every control still works: the namespace menu opens within the window
    await page.locator('[data-testid="namespace-select"] button').first().click();
    const menu = (await page.locator('[data-testid="namespace-select"] .menu').boundingBox())!;
    assert.ok(menu.x >= 0 && menu.x + menu.width <= 1024, "namespace menu on screen");
    await page.keyboard.press("Escape");

    // a chosen filter chip and a long namespace choice do not break the row
    await page.goto(server.url + "/?filter=app%3Dfrontend&ns=a-rather-long-namespace-name-that-is-cut&verdict=DROPPED&range=5m");
    await page.locator('[data-testid="filter-chip"]').first().waitFor();
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor({ timeout: 30_000 });
    // (these widest choices together may take a second row at 1024 px: still every control in reach)
    assertReachable(await bar(page), "flows with a filter and a long namespace");
    const ns = page.locator('[data-testid="namespace-select"] button').first();
    assert.match((await ns.getAttribute("title")) ?? "", /a-rather-long-namespace-name-that-is-cut/, "the cut namespace is whole in the tooltip");

    await page.goto(server.url + "/policies");
    await page.locator('[data-testid="policies-page"]').waitFor();
    assertOneRow(await bar(page), "policies");
    await page.goto(server.url + "/endpoints");
    await page.locator('[data-testid="endpoint-page"]').waitFor();
    assertOneRow(await bar(page), "endpoints");
  } finally {
    await e2e.close();
  }
});

test("at 1024×768 the top bar stays one row with the Forget token button", async () => {
  const e2e = await startE2E({ rate: 20, env: { FLOWSCOPE_TOKEN: TOKEN } });
  try {
    const { page, server } = e2e;
    // tsx names the helper functions inside page.evaluate callbacks with its own `__name`
    await page.addInitScript("globalThis.__name = (f) => f");
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.goto(`${server.url}/?token=${TOKEN}`);
    await page.locator('[data-testid="forget-token"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor({ timeout: 30_000 });
    assertOneRow(await bar(page), "flows with a token");
    // the token is kept for the tab: the widest everyday choices too
    await page.goto(`${server.url}/?filter=to%3Adns%3Dapi.github.com&range=5m&verdict=REDIRECTED`);
    await page.locator('[data-testid="filter-chip"]').first().waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="forget-token"]').waitFor();
    // (with the token button as well these may take a second row: still every control in reach)
    assertReachable(await bar(page), "flows with a token, a filter and the last 5 minutes");
    // a chip cut to fit keeps its remove button
    await page.getByRole("button", { name: "Remove filter to:dns=api.github.com" }).click();
    await page.locator('[data-testid="filter-chip"]').waitFor({ state: "detached" });
    await e2e.screenshot("topbar-1024-token");
  } finally {
    await e2e.close();
  }
});

// Several chips, a long namespace, a verdict and a time range (a preset, or a custom window with its
// two date fields) at the common widths: the bar may take a second row, but no control ever lies over
// another (at 1440 px two chips used to push the time range under the Export button), and every chip
// still shows some of its text beside its remove button.
test("at 1024, 1280, 1440 and 1920 px, chips, a long namespace and a time range never make controls overlap", async () => {
  const e2e = await startE2E({ rate: 5 });
  try {
    const { page, server } = e2e;
    await page.addInitScript("globalThis.__name = (f) => f");
    const views = [
      "/?filter=app%3Dfrontend&filter=to%3Adns%3Dapi.github.com&filter=dns_query%3Dpayments.internal.example.com&ns=a-rather-long-namespace-name-that-is-cut&verdict=REDIRECTED&range=5m",
      "/?filter=app%3Dfrontend&filter=label%3Dtier%3Dfront-end-web&ns=a-rather-long-namespace-name-that-is-cut&verdict=DROPPED&range=custom&since=2026-11-27T10%3A00%3A00Z&until=2026-11-27T11%3A00%3A00Z",
      "/?filter=app%3Dfrontend&filter=to%3Adns%3Dapi.github.com&verdict=DROPPED&range=1h",
    ];
    for (const width of [1024, 1280, 1440, 1920]) {
      await page.setViewportSize({ width, height: 800 });
      for (const [i, v] of views.entries()) {
        await page.goto(server.url + v);
        const chips = page.locator('[data-testid="filter-chip"]');
        await chips.first().waitFor({ timeout: 30_000 });
        await page.locator('[data-testid="stream-status"]:not([data-state="loading"])').waitFor({ timeout: 30_000 });
        const where = `${width} px, view ${i + 1}`;
        assertReachable(await bar(page), where);
        const texts = await page.locator('[data-testid="filter-chip"] .chip-text').evaluateAll((els) => els.map((e) => [e.textContent ?? "", e.getBoundingClientRect().width] as const));
        for (const [text, w] of texts) assert.ok(w >= 24, `${where}: chip ${text} shows its text (${w.toFixed(0)} px)`);
        if (i === 0) await e2e.screenshot(`topbar-chips-${width}`);
      }
    }
  } finally {
    await e2e.close();
  }
});
