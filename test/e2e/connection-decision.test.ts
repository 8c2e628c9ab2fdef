// A connection's later packets (ACK, ACK+PSH, FIN) are trace events that name no policy: Cilium sends a
// policy-verdict event for a connection's first packet only. Typed as `hubble observe` spells it, `tcp-flags=fin` in the
// filter box shows the FINs; a FIN's details name the policies of the policy-verdict events that opened
// its connection, and say so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2E } from "./harness";
import { apiFlows, pause } from "./ui-helpers";
import { decisionOf } from "../../lib/ui/flow-view";
import { derivedFrom } from "../../lib/flow/derived-policy";

test("tcp-flags=fin in the filter box, and a FIN's details name the policies that opened its connection", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/?pane=table");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="filter-input"]').fill("tcp-flags=fin");
    await page.locator('[data-testid="filter-input"]').press("Enter");
    await page.locator('[data-testid="filter-chip"]', { hasText: "tcp_flags=fin" }).waitFor();
    // the table holds FINs only: every row shown is one the API also returns for tcp_flags=FIN
    const first = page.locator('[data-testid="flow-row"]', { hasText: "production/api" }).first();
    await first.waitFor({ timeout: 30_000 });
    // rows keep coming: hold the table, pin one row by its id, and read the API after the rows on screen
    await pause(page);
    const id = (await first.getAttribute("data-id"))!;
    const row = page.locator(`[data-testid="flow-row"][data-id="${id}"]`);
    const ids = await page.locator('[data-testid="flow-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")!));
    const fins = new Map((await apiFlows(server.url, { tcp_flags: "FIN" }, 10_000)).map((f) => [f.id, f]));
    for (const shown of ids) assert.ok(fins.has(shown), `row ${shown} is a FIN`);
    const fin = fins.get(id)!;
    assert.equal(fin.flow.event_type?.type, 4);
    assert.deepEqual(decisionOf(fin.flow).policies, [], "the FIN names no policy itself");
    await row.click();
    const details = page.locator('[data-testid="flow-details"]');
    await details.locator('[data-testid="connection-note"]').waitFor({ timeout: 15_000 });
    // the policies named are those of the connection's policy verdicts (its SYN's, same ports)
    const opening = fin.flow.is_reply
      ? { src: fin.flow.IP!.destination, dst: fin.flow.IP!.source, sport: fin.flow.l4!.TCP!.destination_port, dport: fin.flow.l4!.TCP!.source_port }
      : { src: fin.flow.IP!.source, dst: fin.flow.IP!.destination, sport: fin.flow.l4!.TCP!.source_port, dport: fin.flow.l4!.TCP!.destination_port };
    const verdicts = (await apiFlows(server.url, { type: "policy-verdict", from_ip: opening.src!, to_ip: opening.dst!, from_port: String(opening.sport), to_port: String(opening.dport) }, 100))
      .filter((v) => ["FORWARDED", "REDIRECTED", "AUDIT"].includes(v.flow.verdict!) && Date.parse(v.flow.time!) <= Date.parse(fin.flow.time!));
    assert.ok(verdicts.length > 0, "the connection was opened by a policy verdict");
    // frontend → api is checked on both sides: egress at frontend, and api's ingress (which hands it to the proxy)
    if (fin.flow.source?.pod_name?.startsWith("frontend") || fin.flow.destination?.pod_name?.startsWith("frontend")) assert.ok(verdicts.some((v) => v.flow.traffic_direction === "INGRESS") && verdicts.some((v) => v.flow.traffic_direction === "EGRESS"));
    // per side, the latest opening not after the FIN (a port pair is reused by later connections)
    const latest = ["EGRESS", "INGRESS"].flatMap((dir) => verdicts.filter((v) => v.flow.traffic_direction === dir).sort((a, b) => Number(b.id) - Number(a.id)).slice(0, 1));
    // policies of the cluster are links; Cilium's own (implicit) entries are cards without one
    const expected = [...new Set(latest.flatMap((v) => decisionOf(v.flow).policies.filter((p) => !derivedFrom(p.policy)).map((p) => p.policy.name)))].sort();
    const shown = await details.locator('[data-testid="deciding-policy"]').allInnerTexts();
    assert.ok(shown.length > 0 && expected.length > 0);
    assert.deepEqual([...new Set(shown.map((s) => s.trim()))].sort(), expected);
    const note = await details.locator('[data-testid="connection-note"]').innerText();
    for (const v of latest) assert.ok(note.includes(v.id), `the note names verdict flow ${v.id}: ${note}`);
    await e2e.screenshot("fin-connection-decision");
  } finally {
    await e2e.close();
  }
});
