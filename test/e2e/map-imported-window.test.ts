// Flows imported from an old export are in the table but outside the map's live window: the map says
// its window is empty and offers to go to the newest flow's hour, where it draws them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeFlow } from "../helpers/flows";
import { startE2E } from "./harness";
import { rowCount, until } from "./ui-helpers";

test("an empty live map offers the hour of the table's newest (imported) flow, and draws it there", async () => {
  const e2e = await startE2E({ simulate: false });
  try {
    const { page, server } = e2e;
    const t0 = Date.parse("2021-11-10T10:40:00Z");
    const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify(makeFlow({ srcNs: "bookinfo", srcPod: "productpage-v1-6b746f74dc-9rcxx", dstNs: "bookinfo", dstPod: "ratings-v1-b6994bb9-jgqxb", time: new Date(t0 + i * 1000) })));
    const res = await fetch(`${server.url}/api/import`, { method: "POST", body: lines.join("\n") + "\n", headers: { "Content-Type": "application/x-ndjson" } });
    assert.equal(res.status, 200);
    await page.goto(`${server.url}/`);
    await until("the imported rows", async () => (await rowCount(page)) === 12);
    const go = page.locator('[data-testid="map-go-to-flows"]');
    await until("the offer to go to the flows", async () => (await go.count()) === 1);
    await go.click();
    await until("a custom window ending at the newest flow", async () => {
      const u = new URL(page.url()).searchParams;
      return u.get("range") === "custom" && Date.parse(u.get("until") ?? "") === t0 + 11_000 + 1000;
    });
    await until("the map's cards", async () => (await page.locator('[data-testid="map-node"]').count()) >= 2);
    assert.equal(await go.count(), 0);

    // a second import of flows older than the first: stored after them, yet the Time column still reads
    // newest first, and oldest first when flipped
    const older = Array.from({ length: 5 }, (_, i) => JSON.stringify(makeFlow({ srcNs: "bookinfo", srcPod: "productpage-v1-6b746f74dc-9rcxx", dstNs: "bookinfo", dstPod: "reviews-v2-7bf8c9648f-7xbzx", time: new Date(t0 - 60_000 + i * 1000) })));
    assert.equal((await fetch(`${server.url}/api/import`, { method: "POST", body: older.join("\n") + "\n", headers: { "Content-Type": "application/x-ndjson" } })).status, 200);
    await page.goto(`${server.url}/?pane=table&range=custom&since=2021-11-10T10:00:00Z&until=2021-11-10T11:00:00Z`);
    await until("both imports", async () => (await rowCount(page)) === 17);
    const times = () => page.locator('[data-testid="flow-row"]').evaluateAll((els) => els.map((e) => e.querySelector('[role="gridcell"]')?.getAttribute("title") ?? ""));
    const desc = await times();
    assert.deepEqual(desc, [...desc].sort().reverse(), `newest first: ${desc.join(", ")}`);
    assert.ok(desc[0]!.startsWith("2021-11-10T10:40:11"), desc[0]);
    await page.locator('[role="columnheader"]', { hasText: "Time" }).click();
    await until("oldest first", async () => (await times())[0]?.startsWith("2021-11-10T10:39:00") || undefined);
    const asc = await times();
    assert.deepEqual(asc, [...asc].sort());
    // the sort is in the URL: a reload keeps it
    await page.waitForURL((u) => u.searchParams.get("sort") === "time.asc");
    await page.reload();
    await until("both imports again", async () => (await rowCount(page)) === 17);
    assert.equal(await page.locator('[role="columnheader"]', { hasText: "Time" }).getAttribute("aria-sort"), "ascending");
    assert.deepEqual(await times(), asc);
  } finally {
    await e2e.close();
  }
});
