// The table's first page fails while the server cannot be reached (here: the browser's requests for
// flows are refused, as when the server is down or restarting). The table says so, offers a retry,
// does not blame the user's filter, and fills by itself once the server answers again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeFlow } from "../helpers/flows";
import { startE2E } from "./harness";
import { rowCount, until } from "./ui-helpers";

test("the table recovers by itself after the server was unreachable, and never shows that as a filter error", async () => {
  const e2e = await startE2E({ simulate: false });
  try {
    const { page, server } = e2e;
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify(makeFlow({ srcNs: "shop", verdict: i % 3 === 0 ? "DROPPED" : "FORWARDED", time: new Date(Date.now() - 60_000 + i) })));
    const res = await fetch(`${server.url}/api/import`, { method: "POST", body: lines.join("\n") + "\n", headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(res.status, 200);

    let down = false;
    let refused = 0;
    await page.route(/\/api\/flows\?/, (route) => {
      if (!down) return route.continue();
      refused++;
      return route.abort("connectionrefused");
    });
    await page.goto(`${server.url}/?pane=table&range=1h`);
    await until("the imported flows", async () => (await rowCount(page)) === 30);

    // the server goes away, and the user narrows the view meanwhile
    down = true;
    await page.goto(`${server.url}/?pane=table&range=1h&filter=${encodeURIComponent("verdict=DROPPED")}`);
    const empty = page.locator('[data-testid="table-empty"]');
    await until("the table to say it cannot reach the server", async () => /Could not load flows: cannot reach the Flowscope server.*trying again/s.test(await empty.innerText().catch(() => "")));
    assert.equal(await page.locator('[data-testid="retry-flows"]').count(), 1, "a retry button");
    assert.equal(await page.locator(".filter-error").count(), 0, "the filter is not blamed for the outage");
    const triesWhileDown = refused;
    await until("a second automatic try", async () => refused > triesWhileDown);

    // back: the table fills without a click or a reload
    down = false;
    await until("the table to recover", async () => (await rowCount(page)) === 10, 20_000);
    assert.equal(await page.locator('[data-testid="retry-flows"]').count(), 0);

  } finally {
    await e2e.close();
  }
});
