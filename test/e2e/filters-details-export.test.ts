// One server, the main user path through the flow table: filter by namespace and verdict (checked
// against the REST API), open a dropped flow and read its deciding policy, export the filtered flows as
// Hubble NDJSON, and reopen the page from its URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import type { StoredFlow } from "../../lib/api-types";
import type { Flow } from "../../lib/flow/types";
import { entryFor } from "../../lib/ui/filter-entry";
import { extensionOf } from "../../lib/ui/flow-view";
import path from "node:path";
import { SCREENSHOTS, startE2E } from "./harness";
import { apiFlows, pause, shownRows, touchesNamespace, until } from "./ui-helpers";

const NS = "production";

/** Names of the policies a flow record itself says decided it. */
function namedPolicies(f: Flow): string[] {
  const ext = extensionOf(f);
  return [...(ext?.default_deny_by ?? []), ...(ext?.l7_decided_by ?? []), ...(f.ingress_denied_by ?? []), ...(f.egress_denied_by ?? [])].flatMap((p) => (p.name ? [p.name] : []));
}

test("namespace + DROPPED filter, a drop's deciding policy, NDJSON export, and a URL that reproduces the view", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    // Let the scenario produce some default-deny drops in the namespace first.
    await until("default-deny drops in production", async () =>
      (await apiFlows(server.url, { namespace: NS, verdict: "DROPPED" }, 200)).some((f) => f.flow.drop_reason === 133),
    );
    await page.goto(server.url + "/");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });

    // 1. Filter through the controls, as a user would.
    await page.locator('[data-testid="namespace-select"] button').first().click();
    // The view lives in the URL, so the box ticks once the URL has changed: click, then wait for it.
    await page.locator(`[data-testid="namespace-select"] input[data-ns="${NS}"]`).click();
    await page.waitForURL((u) => u.searchParams.get("ns") === NS);
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="verdict-select"]').selectOption("DROPPED");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="flow-row"]')];
      return rows.length > 0 && rows.every((r) => r.getAttribute("data-verdict") === "DROPPED");
    }, undefined, { timeout: 30_000 });
    const url = new URL(page.url());
    assert.equal(url.searchParams.get("ns"), NS);
    assert.equal(url.searchParams.get("verdict"), "DROPPED");
    await pause(page);
    // the page's pause happened by now: an export made while paused holds nothing newer
    const pausedBy = Date.now();
    const rows = await shownRows(page);
    assert.ok(rows.length > 0);
    for (const r of rows) assert.equal(r.verdict, "DROPPED", `row ${r.id}`);
    // The same filter through the API: every row shown is one the API returns for it.
    const api = await apiFlows(server.url, { namespace: NS, verdict: "DROPPED" }, 1000);
    const byId = new Map(api.map((f) => [f.id, f]));
    for (const r of rows) {
      const f = byId.get(r.id);
      assert.ok(f, `row ${r.id} is not among the API's ${api.length} flows for namespace=${NS}&verdict=DROPPED`);
      assert.ok(touchesNamespace(f, NS) && f.flow.verdict === "DROPPED");
    }
    // …and the API's newest matching flows (those older than the pause) are the ones on screen.
    const newestShown = Math.max(...rows.map((r) => Number(r.id)));
    const expectedTop = api.filter((f) => Number(f.id) <= newestShown).slice(0, Math.min(5, rows.length)).map((f) => f.id);
    for (const id of expectedTop) assert.ok(rows.some((r) => r.id === id), `API flow ${id} missing from the table`);
    await e2e.screenshot("filter-production-dropped");

    // 2. A default-deny drop: its details name the policy that put the endpoint into default deny.
    const target = rows.map((r) => byId.get(r.id)!).find((f) => f.flow.drop_reason === 133 && namedPolicies(f.flow).length > 0);
    assert.ok(target, "a default-deny drop with default_deny_by is on screen");
    await page.locator(`[data-testid="flow-row"][data-id="${target.id}"]`).click();
    const details = page.locator('[data-testid="flow-details"]');
    await details.waitFor();
    const names = await details.locator('[data-testid="deciding-policy"]').allInnerTexts();
    assert.ok(names.length > 0, "the details name a deciding policy");
    assert.deepEqual([...new Set(names.map((n) => n.trim()))].sort(), [...new Set(namedPolicies(target.flow))].sort());
    const panelText = await details.innerText();
    assert.match(panelText, /POLICY_DENIED/);
    // the packet's MACs as bpf_lxc saw them (a pod's drop always has them)
    assert.ok(target.flow.ethernet?.source, "a pod's drop carries ethernet");
    assert.ok(panelText.includes(`${target.flow.ethernet!.source} → ${target.flow.ethernet!.destination}`), "the details show the MACs");
    const rule = extensionOf(target.flow)?.rule;
    if (rule) assert.equal((await details.locator('[data-testid="deciding-rule"]').innerText()).trim(), rule);
    await e2e.screenshot("dropped-flow-details");
    // The policy link leads to the policies page with that policy open.
    const href = await details.locator('[data-testid="deciding-policy"]').first().getAttribute("href");
    assert.match(href ?? "", /^\/policies\?policy=/);

    // 3. Export what the filter shows: Hubble JSON lines, each matching the filter.
    // Paused, it holds the flows up to the pause, and the menu says so; drops keep coming meanwhile.
    await until("a matching drop newer than the pause", async () =>
      (await apiFlows(server.url, { namespace: NS, verdict: "DROPPED" }, 1)).some((f) => Date.parse(f.flow.time!) > pausedBy + 1000),
    );
    await page.locator('[data-testid="export-button"]').click();
    assert.match(await page.locator('[data-testid="export-window"]').innerText(), /all stored flows up to the pause at /);
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="export-ndjson"]').click()]);
    const file = await download.path();
    const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim());
    assert.ok(lines.length > 0, "the export has flows");
    for (const [i, line] of lines.entries()) {
      const rec = JSON.parse(line) as { flow?: Flow; node_name?: string; time?: string };
      assert.ok(rec.flow && typeof rec.flow === "object", `line ${i + 1}: a {"flow": …} record`);
      assert.equal(typeof rec.flow.time, "string", `line ${i + 1}: flow.time`);
      assert.ok(rec.node_name && rec.time, `line ${i + 1}: node_name and time, as hubble observe -o json`);
      assert.equal(rec.flow.verdict, "DROPPED", `line ${i + 1}`);
      assert.ok(Date.parse(rec.flow.time!) <= pausedBy, `line ${i + 1}: ${rec.flow.time} is after the pause`);
      assert.ok(rec.flow.source?.namespace === NS || rec.flow.destination?.namespace === NS, `line ${i + 1}: namespace`);
    }
    const uuids = new Set(lines.map((l) => (JSON.parse(l) as { flow: Flow }).flow.uuid));
    assert.ok(uuids.has(target.flow.uuid), "the flow on screen is in the export");

    // 4. A link with filters reproduces the view in a fresh tab: namespace, verdict, a free-text entry
    // and the selected flow.
    const pod = target.flow.source?.pod_name ? `${target.flow.source.namespace}/${target.flow.source.pod_name}` : undefined;
    const extra = pod ? entryFor("pod", pod, "from") : entryFor("label", "k8s:io.kubernetes.pod.namespace=" + NS);
    const link = new URL(page.url());
    link.searchParams.append("filter", extra);
    const fresh = await page.context().newPage();
    await fresh.goto(link.toString());
    await fresh.locator('[data-testid="flow-details"]').waitFor({ timeout: 30_000 });
    assert.equal(await fresh.locator('[data-testid="verdict-select"]').inputValue(), "DROPPED");
    assert.match(await fresh.locator('[data-testid="namespace-select"] button').first().innerText(), new RegExp(NS));
    assert.deepEqual(await fresh.locator('[data-testid="filter-chip"]').evaluateAll((els) => els.map((e) => e.getAttribute("title"))), [extra]);
    assert.deepEqual(
      [...new Set((await fresh.locator('[data-testid="deciding-policy"]').allInnerTexts()).map((n) => n.trim()))].sort(),
      [...new Set(namedPolicies(target.flow))].sort(),
    );
    await fresh.waitForFunction(() => document.querySelectorAll('[data-testid="flow-row"]').length > 0, undefined, { timeout: 30_000 });
    const again = await shownRows(fresh);
    const apiAgain = new Map((await apiFlows(server.url, { namespace: NS, verdict: "DROPPED", q: extra }, 1000)).map((f) => [f.id, f] as [string, StoredFlow]));
    for (const r of again) {
      assert.equal(r.verdict, "DROPPED");
      if (Number(r.id) <= Math.max(...[...apiAgain.keys()].map(Number))) assert.ok(apiAgain.has(r.id), `row ${r.id} not in the API answer for the same URL filter`);
    }
    await fresh.screenshot({ path: path.join(SCREENSHOTS, "url-reproduces-view.png") });
    await fresh.close();
  } finally {
    await e2e.close();
  }
});
