// The policies page: each policy's counts are the whole last hour (GET /api/policies/stats), not a
// sample, and its links open exactly those flows; the preview names the policy whose L7 rules refused a
// request, and Apply clears a preview whose "Now" column it made stale.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PoliciesResponse, PolicyStatsResponse } from "../../lib/api-types";
import { startE2E } from "./harness";
import { rowCount, shownRows, until } from "./ui-helpers";

const API = "CiliumNetworkPolicy/production/api";

// production/api as loaded, plus DELETE on orders: frontend's DELETE /api/orders/17 is refused by its L7 rules today
const API_WITH_DELETE = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: api, namespace: production }
spec:
  endpointSelector: { matchLabels: { app: api } }
  ingress:
    - fromEndpoints: [{ matchLabels: { app: frontend } }]
      toPorts:
        - ports: [{ port: "8080", protocol: TCP }]
          rules:
            http:
              - { method: GET, path: "/api/.*" }
              - { method: POST, path: "/api/orders" }
              - { method: DELETE, path: "/api/orders/.*" }
  egress:
    - toEndpoints: [{ matchLabels: { app: postgres } }]
      toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
    - toEndpoints: [{ matchLabels: { app: redis } }]
      toPorts: [{ ports: [{ port: "6379", protocol: TCP }] }]
    - toEndpoints: [{ matchLabels: { app: checkout } }]
      toPorts: [{ ports: [{ port: "50051", protocol: TCP }] }]
    - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: payments, app: ledger-db } }]
      toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
`;

const num = (s: string) => Number(s.replace(/,/g, ""));

test("policy counts cover the whole hour and link to those flows; the preview names the L7 denier and clears after Apply", async () => {
  const e2e = await startE2E({ rate: 300 });
  try {
    const { page, server } = e2e;
    const stats = async () => (await (await fetch(`${server.url}/api/policies/stats`)).json()) as PolicyStatsResponse;
    // more flows for one policy than the 1,000 the page used to sample
    await until("over 1,200 flows decided by the api policy", async () => ((await stats()).policies.find((p) => p.policy === API)?.flows ?? 0) > 1200, 60_000);
    server.ctx.simulator!.stop();
    await new Promise((r) => setTimeout(r, 300));
    const api = (await stats()).policies.find((p) => p.policy === API)!;

    await page.goto(server.url + "/policies");
    const panel = page.locator(`[data-testid="policy-panel"][data-policy="${API}"]`);
    const stat = (name: string) => panel.locator(`[data-stat="${name}"] b`);
    await page.waitForFunction((sel) => /\d/.test(document.querySelector(sel)?.textContent ?? ""), `[data-policy="${API}"] [data-stat="flows"] b`, { timeout: 20_000 });
    assert.equal(num(await stat("flows").innerText()), api.flows);
    assert.equal(num(await stat("allowed").innerText()), api.verdicts.FORWARDED ?? 0);
    assert.equal(num(await stat("denied").innerText()), api.verdicts.DROPPED ?? 0);
    assert.doesNotMatch(await panel.locator('[data-testid="policy-stats"]').innerText(), /\+/, "exact counts, no '+'");
    await e2e.screenshot("policies-counts");

    // The denied count opens the table on exactly those flows.
    await panel.locator('[data-stat="denied"]').click();
    await page.waitForURL(/verdict=DROPPED/);
    const url = new URL(page.url());
    assert.deepEqual(url.searchParams.getAll("filter"), [`policy=${API}`]);
    assert.equal(url.searchParams.get("range"), "1h");
    await until("the policy's denied flows in the table", async () => (await rowCount(page)) === (api.verdicts.DROPPED ?? 0), 20_000);
    for (const r of await shownRows(page)) assert.equal(r.verdict, "DROPPED");

    // Preview: today's refusal of DELETE is the api policy's L7 rules, named as the denier.
    await page.goto(server.url + "/policies");
    const policies = async () => (await (await fetch(`${server.url}/api/policies`)).json()) as PoliciesResponse;
    const box = page.getByLabel("Policy YAML");
    await box.waitFor();
    await box.fill(API_WITH_DELETE);
    await page.getByRole("button", { name: "Preview" }).click();
    const result = page.locator('[data-testid="preview-result"]');
    await result.waitFor();
    const row = page.locator('[data-testid="preview-row"][data-change="verdict"]', { hasText: "DELETE /api/orders/17" });
    const now = await row.locator("td").nth(1).innerText();
    assert.match(now, /DROPPED[\s\S]*L7 denied \(403\)/);
    assert.match(now, /ingress: denied by CiliumNetworkPolicy\/production\/api \(L7 rules\)/);
    assert.doesNotMatch(now, /ingress: allowed by/);
    assert.match(await row.locator("td").nth(2).innerText(), /FORWARDED[\s\S]*ingress: allowed by CiliumNetworkPolicy\/production\/api/);

    // Apply: the preview's "Now" is stale, so it goes, and the note names the new revision.
    await page.getByRole("button", { name: "Apply" }).click();
    const note = page.locator('[data-testid="apply-result"]');
    await note.waitFor();
    await result.waitFor({ state: "detached" });
    const revision = (await policies()).revision;
    assert.match(await note.innerText(), new RegExp(`Applied CiliumNetworkPolicy production/api as revision ${revision}\\b`));
    // Previewing again compares with the applied policy: nothing changes.
    await page.getByRole("button", { name: "Preview" }).click();
    await result.waitFor();
    assert.match(await result.innerText(), /\b0 of \d+ requests change outcome/);
    assert.equal(await note.count(), 0, "the apply note goes with a new preview");
  } finally {
    await e2e.close();
  }
});
