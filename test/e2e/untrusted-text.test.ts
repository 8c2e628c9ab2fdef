// Text from traffic is data, never markup or layout: hostile pod names, labels, namespaces, URLs and DNS
// names render as inert text in the table, the details panel and the service map, and bidirectional
// controls (RIGHT-TO-LEFT OVERRIDE) are shown as escapes instead of reordering what the user reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowEnvelope } from "../../lib/flow/types";
import { makeFlow } from "../helpers/flows";
import { startE2E } from "./harness";
import { shownRows, until } from "./ui-helpers";

const RLO = "\u202E";
const PDF = "\u202C";
const ZWSP = "\u200B";

function hostileFlows(): FlowEnvelope[] {
  const img = makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: `<img src=x onerror="window.__pwned=1">`, dstPod: "web-0" });
  img.flow.source!.labels = [...(img.flow.source!.labels ?? []), `k8s:note=<script>window.__pwned=2</script>`];
  const spoof = makeFlow({ srcNs: `ns${RLO}exe.txt${PDF}`, dstNs: "shop", srcPod: "client-0", dstPod: "web-0" });
  const l7 = makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: "client-0", dstPod: "web-0" });
  l7.flow.Type = "L7";
  l7.flow.event_type = { type: 129 };
  l7.flow.l7 = { type: "REQUEST", http: { method: "GET", url: `http://web/<svg onload=window.__pwned=3>`, protocol: "HTTP/1.1", headers: [{ key: "X-Evil", value: `"><iframe src=javascript:window.__pwned=4>` }] } };
  l7.flow.destination_names = [`evil${RLO}moc.example`];
  l7.flow.destination!.labels = [...(l7.flow.destination!.labels ?? []), `k8s:role=${RLO}nimda${PDF}`];
  // a DNS name that reads as google.com, and a forged deciding policy that reads as a real one
  const dns = makeFlow({ srcNs: "shop", dstNs: "shop", srcPod: "client-0", dstPod: "web-0" });
  dns.flow.Type = "L7";
  dns.flow.event_type = { type: 129 };
  dns.flow.l7 = { type: "REQUEST", dns: { query: `attacker.example${RLO}moc.elgoog${PDF}.` } };
  dns.flow.ingress_allowed_by = [{ name: "allow-web", namespace: `pay${ZWSP}ments`, kind: `CiliumNetwork${RLO}yciloP`, revision: "1" }];
  return [img, spoof, l7, dns];
}

test("hostile text from traffic renders as inert text; bidi overrides are made visible", async () => {
  const e2e = await startE2E({ simulate: false });
  try {
    const { page, server } = e2e;
    server.ctx.bus.publish(hostileFlows());
    server.ctx.store.flush();
    await page.goto(server.url + "/?range=1h");
    await until("four rows", async () => ((await shownRows(page)).length >= 4 ? true : undefined));
    const rows = await shownRows(page);
    const cells = rows.flatMap((r) => r.cells).join("\n");
    assert.match(cells, /shop\/<img src=x onerror="window\.__pwned=1">/, "the pod name is shown as typed");
    assert.ok(cells.includes(`ns<U+202E>exe.txt<U+202C>/client-0`), `the override is shown as an escape: ${cells}`);
    assert.ok(!cells.includes(RLO), "no raw override character is drawn");
    // open each row's details
    for (const r of rows) {
      await page.locator(`[data-testid="flow-row"][data-id="${r.id}"]`).click();
      await page.locator('[data-testid="flow-details"]').waitFor();
      const details = await page.locator('[data-testid="flow-details"]').innerText();
      assert.ok(!details.includes(RLO), `details draw no raw override: ${details}`);
      assert.ok(!details.includes(ZWSP), `details draw no raw zero-width space: ${details}`);
      // every tooltip too
      const titles = await page.locator('[data-testid="flow-details"] [title]').evaluateAll((els) => els.map((e) => e.getAttribute("title") ?? ""));
      assert.ok(!titles.some((t) => t.includes(RLO) || t.includes(ZWSP)), `tooltips draw no raw override: ${titles.join(" | ")}`);
    }
    const details = await page.locator('[data-testid="flow-details"]').innerText();
    assert.ok(details.length > 0);
    // the DNS query and the forged policy, as escapes
    const dnsRow = rows.find((r) => r.cells.some((c) => c.includes("attacker")));
    assert.ok(dnsRow, "the DNS flow is listed");
    await page.locator(`[data-testid="flow-row"][data-id="${dnsRow.id}"]`).click();
    await page.waitForURL((u) => u.searchParams.get("flow") === dnsRow.id);
    const dnsDetails = await page.locator('[data-testid="flow-details"]').innerText();
    assert.ok(dnsDetails.includes("attacker.example<U+202E>moc.elgoog<U+202C>."), dnsDetails);
    assert.ok(dnsDetails.includes("pay<U+200B>ments") && dnsDetails.includes("CiliumNetwork<U+202E>yciloP"), dnsDetails);
    // a label clicked into a filter chip keeps its escape
    const l7Row = rows.find((r) => r.cells.some((c) => c.includes("svg onload")))!;
    await page.locator(`[data-testid="flow-row"][data-id="${l7Row.id}"]`).click();
    await page.waitForURL((u) => u.searchParams.get("flow") === l7Row.id);
    await page.locator('[data-testid="details-destination"] .label-chip', { hasText: "nimda" }).click();
    const chip = page.locator('[data-testid="filter-chip"]', { hasText: "nimda" });
    await chip.waitFor();
    const chipText = await chip.innerText();
    assert.ok(chipText.includes("<U+202E>nimda<U+202C>") && !chipText.includes(RLO), chipText);
    // the map's node panels list labels as escapes: every node, on a map no longer narrowed by the chip
    // (read once it has redrawn without it, or a node would vanish between the listing and its click)
    await page.goto(server.url + "/?range=1h");
    const spoofedNode = `ns${RLO}exe.txt${PDF}/client`;
    await page.locator(`[data-testid="map-node"][data-id="${spoofedNode}"]`).waitFor({ timeout: 30_000 });
    const nodeIds = await page.locator('[data-testid="map-node"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-id")!));
    assert.ok(nodeIds.length >= 3, nodeIds.join(", "));
    for (const id of nodeIds) {
      // a CSS string: the id may hold quotes (a pod name from traffic)
      await page.locator(`[data-testid="map-node"][data-id=${JSON.stringify(id)}]`).dispatchEvent("click");
      await page.waitForURL((u) => u.searchParams.get("node") === id);
      await page.waitForFunction(() => !/Loading/.test(document.querySelector('[data-testid="node-panel"]')?.textContent ?? "Loading"));
      const panel = await page.locator('[data-testid="node-panel"]').innerText();
      assert.ok(!panel.includes(RLO) && !panel.includes(ZWSP), `node panel ${id}: ${panel}`);
    }
    // the map draws the spoofed namespace as an escape too
    const map = await page.locator(".map-svg").textContent();
    assert.ok(!(map ?? "").includes(RLO), "the map draws no raw override");
    // nothing ran and no element was injected
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('img[src="x"], iframe, svg[onload], script:not([src]):has-text("__pwned")').count(), 0);
    await e2e.screenshot("untrusted-text");
  } finally {
    await e2e.close();
  }
});
