// A server that only holds imported flows has no datapath: its Policies page says so plainly, offers
// no editor that could not work, and leads from a policy named in a flow to the flows it decided.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2E } from "./harness";
import { until } from "./ui-helpers";

test("without the simulator, the Policies page explains itself and links to the flows a policy decided", async () => {
  const e2e = await startE2E({ simulate: false });
  try {
    const { page, server } = e2e;
    const ref = "CiliumNetworkPolicy/shop/allow-web";
    await page.goto(`${server.url}/policies?policy=${encodeURIComponent(ref)}`);
    await until("the explanation", async () => (await page.locator('[data-testid="no-simulator"]').count()) === 1);
    assert.equal(await page.locator(".policies-page .error").count(), 0, "no error shown");
    assert.equal(await page.locator('[data-testid="policy-preview"]').count(), 0, "no editor that cannot work");
    const link = page.locator('[data-testid="policy-flows-link"]');
    assert.equal(await link.innerText(), `Flows decided by ${ref}`);
    await link.click();
    await until("the flows page filtered by the policy", async () => new URL(page.url()).searchParams.get("filter") === `policy=${ref}`);
  } finally {
    await e2e.close();
  }
});
