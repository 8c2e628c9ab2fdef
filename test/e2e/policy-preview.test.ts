// Trying a policy change on the policies page: Preview lists the scenario's requests whose outcome would
// change (and applies nothing); Apply puts the policy in force and the page lists it.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { PoliciesResponse } from "../../lib/api-types";
import { startE2E } from "./harness";

const NO_XWING = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: tiefighters-only, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: deathstar } }
  ingressDeny:
  - fromEndpoints: [{ matchLabels: { class: tiefighter } }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }] }]
`;

test("the policies page previews a change against the scenario's traffic, then applies it", async () => {
  const e2e = await startE2E({ scenario: path.resolve("server/scenarios/star-wars/scenario.yaml"), rate: 0 });
  try {
    const { page, server } = e2e;
    const policies = async () => (await (await fetch(`${server.url}/api/policies`)).json()) as PoliciesResponse;
    const revision = (await policies()).revision;
    await page.goto(server.url + "/policies");
    const box = page.getByLabel("Policy YAML");
    await box.waitFor();

    // Invalid YAML: the problem is named and nothing is previewed.
    await box.fill("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: broken, namespace: default }\nspec:\n  endpointSelector: {}\n  ingress: [{ fromEndpoints: 3 }]\n");
    await page.getByRole("button", { name: "Preview" }).click();
    const alert = page.locator('[data-testid="policy-preview"] [role="alert"]');
    await alert.waitFor();
    assert.match(await alert.innerText(), /doc 1 · line 6 · spec\.ingress\[0\]\.fromEndpoints/, "document, line (as pasted) and field");

    await box.fill(NO_XWING);
    await page.getByRole("button", { name: "Preview" }).click();
    const result = page.locator('[data-testid="preview-result"]');
    await result.waitFor();
    assert.match(await result.innerText(), /2 of 3 requests change outcome · 0 keep their outcome/);
    const changed = page.locator('[data-testid="preview-row"][data-change="verdict"]');
    assert.equal(await changed.count(), 2);
    const first = await changed.first().innerText();
    assert.match(first, /default\/tiefighter → service default\/deathstar 80\/TCP/);
    assert.match(first, /FORWARDED[\s\S]*DROPPED[\s\S]*POLICY_DENY[\s\S]*denied by CiliumNetworkPolicy\/default\/tiefighters-only/);
    assert.equal((await policies()).revision, revision, "a preview applies nothing");
    await e2e.screenshot("policy-preview");

    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-testid="apply-result"]').waitFor();
    assert.match(await page.locator('[data-testid="apply-result"]').innerText(), /Applied CiliumNetworkPolicy default\/tiefighters-only/);
    await page.locator('[data-testid="policy-panel"][data-policy*="tiefighters-only"]').waitFor({ timeout: 15_000 });
    // the note links to the applied policy: its panel, highlighted, with its YAML open
    await page.locator('[data-testid="applied-policy"]').click();
    await page.waitForURL((u) => (u.searchParams.get("policy") ?? "").endsWith("/default/tiefighters-only"));
    await page.locator('[data-testid="policy-panel"].highlight[data-policy*="tiefighters-only"]').waitFor();
    assert.match(await page.locator('[data-testid="policy-panel"].highlight').innerText(), /applied through the API/);
    const now = await policies();
    assert.ok(now.revision > revision);
    assert.ok(now.policies.some((p) => p.name === "tiefighters-only"));
  } finally {
    await e2e.close();
  }
});
