// The table opens on the newest page of history; "Load older" pages back through the same window and
// filters (as `hubble observe --since … --last N` would), and a bad verdict in a hand-edited URL is
// named instead of silently showing everything.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServerStatus } from "../../lib/api-types";
import { startE2E } from "./harness";
import { rowCount, until } from "./ui-helpers";

test("Load older pages back through history; a bad URL verdict is named", async () => {
  const e2e = await startE2E({ rate: 250 });
  try {
    const { page, server } = e2e;
    await until("more than two pages of flows", async () => {
      const s = (await (await fetch(`${server.url}/api/status`)).json()) as ServerStatus;
      return s.storedFlows > 4_500;
    });
    // A closed window (no live rows), so the counts are exact.
    const untilIso = new Date().toISOString();
    const since = new Date(Date.now() - 3_600_000).toISOString();
    await page.goto(`${server.url}/?range=custom&since=${since}&until=${untilIso}&pane=table`);
    await page.locator('[data-testid="load-older"]').waitFor();
    assert.equal(await rowCount(page), 2_000, "the first page");
    // the count says it is the newest of more, not the number of flows that match
    assert.match(await page.locator('[data-testid="row-count"]').innerText(), /^2,000 flows \(the newest; older ones may match\)/);
    const before = await page.locator('[data-testid="flow-row"]').count();
    assert.ok(before > 0);
    await page.locator('[data-testid="load-older"]').click();
    await until("the second page", async () => (await rowCount(page)) === 4_000);
    // the older rows went below: the top row is still the newest
    const firstId = await page.locator('[data-testid="flow-row"]').first().getAttribute("data-id");
    const newest = (await (await fetch(`${server.url}/api/flows?limit=1`)).json()) as { flows: { id: string }[] };
    assert.ok(BigInt(firstId ?? "0") <= BigInt(newest.flows[0]!.id), "top row is from the first page");
    await e2e.screenshot("load-older");

    await page.goto(`${server.url}/?verdict=BOGUS&pane=table`);
    const alert = page.locator(".filter-error");
    await alert.waitFor();
    assert.match(await alert.innerText(), /verdict "BOGUS" ignored: not a Hubble verdict/);
  } finally {
    await e2e.close();
  }
});
