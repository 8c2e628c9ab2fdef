// Policies change while the server runs: editing a policy file on disk and PUT/DELETE /api/policies
// recompile the datapath, later flows carry the new revision and verdict, and GET /api/policies shows it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { PoliciesResponse, PolicyPreviewResponse } from "../../lib/api-types";
import { startTestServer, waitFor, getJson } from "../helpers/server";

const exhaust = { from: "default/tiefighter", toService: "default/deathstar", port: 80, protocol: "TCP" as const, http: { method: "PUT", path: "/v1/exhaust-port" } };

test("hot reload from disk and through the API changes later verdicts and revisions", async () => {
  const src = path.resolve("server/scenarios/star-wars");
  const s0 = await startTestServer({ simulate: false });
  const dir = path.join(s0.tmpDir, "star-wars");
  await s0.close();
  fs.cpSync(src, dir, { recursive: true });
  const s = await startTestServer({ scenario: path.join(dir, "scenario.yaml"), rate: 0 });
  try {
    const dp = s.ctx.simulator!.datapath;
    const before = await getJson<PoliciesResponse>(`${s.url}/api/policies`);
    assert.equal(before.status, 200);
    const rule1 = before.body.policies.find((p) => p.name === "rule1")!;
    assert.ok(rule1, "rule1 is loaded");
    assert.ok(rule1.selects.length === 2, "rule1 selects both deathstar pods");
    const r1 = dp.process(exhaust);
    assert.equal(r1.verdict, "DROPPED");
    assert.equal((r1.response as { http_code?: number }).http_code, 403);

    // Edit on disk: allow PUT /v1/exhaust-port too.
    const file = path.join(dir, "policies", "sw_l3_l4_l7_policy.yaml");
    const text = fs.readFileSync(file, "utf8").replace('path: "/v1/request-landing"', 'path: "/v1/request-landing"\n              - method: "PUT"\n                path: "/v1/exhaust-port"');
    fs.writeFileSync(file, text);
    await waitFor("reload from disk", () => (dp.revision() > before.body.revision ? true : undefined), 15_000);
    const r2 = dp.process(exhaust);
    assert.equal(r2.verdict, "FORWARDED");
    const rev2 = dp.revision();
    const l7 = r2.flows.find((f) => f.flow.Type === "L7")!;
    const decided = (l7.flow.extensions as { l7_decided_by?: { name?: string; revision?: string }[] }).l7_decided_by ?? [];
    assert.ok(decided.some((p) => p.name === "rule1" && Number(p.revision) > before.body.revision), "L7 record names rule1 at its new revision");

    // Through the API: an explicit deny for xwing → deathstar, then delete it.
    const deny = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: no-xwing, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: deathstar } }
  ingressDeny:
    - fromEndpoints: [{ matchLabels: { class: tiefighter } }]
`;
    const put = await getJson<{ applied: { name: string }[] }>(`${s.url}/api/policies`, { method: "PUT", body: deny });
    assert.equal(put.status, 200);
    assert.equal(put.body.applied[0]!.name, "no-xwing");
    const r3 = dp.process(exhaust);
    assert.equal(r3.verdict, "DROPPED");
    assert.equal(r3.drop_reason_desc, "POLICY_DENY");
    const pv = r3.flows.find((f) => f.flow.event_type?.type === 5)!;
    assert.equal(pv.flow.ingress_denied_by?.[0]?.name, "no-xwing");
    assert.ok(Number(pv.flow.ingress_denied_by?.[0]?.revision) > rev2);

    const badYaml = await getJson<{ applied: unknown[]; warnings: { message: string; path: string }[] }>(`${s.url}/api/policies`, {
      method: "PUT",
      body: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: x, namespace: default }\nspec: { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '99999' }] }] }] }\n",
    });
    assert.equal(badYaml.status, 400);
    assert.equal(badYaml.body.applied.length, 0);
    assert.match(badYaml.body.warnings.map((w) => `${w.path}: ${w.message}`).join(" "), /ports\[0\]\.port/);

    // A CiliumCIDRGroup is no policy, but the API takes it, lists it and deletes it like one.
    const groupYaml = "apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: { name: vpn, labels: { role: vpn } }\nspec: { externalCIDRs: ['10.200.0.0/24', '2001:db8::/32'] }\n";
    const putGroup = await getJson<{ applied: unknown[]; appliedCidrGroups: { name: string; cidrs: string[] }[] }>(`${s.url}/api/policies`, { method: "PUT", body: groupYaml });
    assert.equal(putGroup.status, 200);
    assert.deepEqual(putGroup.body.appliedCidrGroups.map((g) => [g.name, g.cidrs]), [["vpn", ["10.200.0.0/24", "2001:db8::/32"]]]);
    const listed = await getJson<{ cidrGroups: { name: string; labels: Record<string, string>; cidrs: string[] }[] }>(`${s.url}/api/policies`);
    assert.deepEqual(listed.body.cidrGroups.map((g) => [g.name, g.labels, g.cidrs]), [["vpn", { role: "vpn" }, ["10.200.0.0/24", "2001:db8::/32"]]]);
    assert.equal((await fetch(`${s.url}/api/policies/CiliumCIDRGroup//vpn`, { method: "DELETE" })).status, 200);
    assert.deepEqual((await getJson<{ cidrGroups: unknown[] }>(`${s.url}/api/policies`)).body.cidrGroups, []);

    const del = await fetch(`${s.url}/api/policies/CiliumNetworkPolicy/default/no-xwing`, { method: "DELETE" });
    assert.equal(del.status, 200);
    assert.equal(dp.process(exhaust).verdict, "FORWARDED");
    assert.equal((await fetch(`${s.url}/api/policies/CiliumNetworkPolicy/default/no-xwing`, { method: "DELETE" })).status, 404);
  } finally {
    await s.close();
  }
});

test("POST /api/policies/preview replays the scenario's traffic with a change without applying it", async () => {
  const s = await startTestServer({ scenario: path.resolve("server/scenarios/star-wars/scenario.yaml"), rate: 0 });
  try {
    const before = await getJson<PoliciesResponse>(`${s.url}/api/policies`);
    const allowExhaust = before.body.policies.find((p) => p.name === "rule1")!.yaml.replace('path: "/v1/request-landing"', 'path: "/v1/request-landing"\n              - method: "PUT"\n                path: "/v1/exhaust-port"');
    const r = await getJson<PolicyPreviewResponse>(`${s.url}/api/policies/preview`, { method: "POST", body: allowExhaust });
    assert.equal(r.status, 200);
    assert.equal(r.body.requests, 3);
    assert.equal(r.body.verdictChanges, 1);
    assert.equal(r.body.rows[0]!.label, "default/tiefighter → service default/deathstar 80/TCP PUT /v1/exhaust-port");
    assert.equal(r.body.rows[0]!.before.response?.http_code, 403);
    assert.equal(r.body.rows[0]!.after.verdict, "FORWARDED");
    const after = await getJson<PoliciesResponse>(`${s.url}/api/policies`);
    assert.equal(after.body.revision, before.body.revision, "nothing was applied");
    assert.equal(s.ctx.simulator!.datapath.process(exhaust).verdict, "DROPPED");

    const bad = await getJson<PolicyPreviewResponse>(`${s.url}/api/policies/preview`, { method: "POST", body: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: x }\nspec: { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: \"99999\" }] }] }] }\n" });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.warnings.some((w) => /port/.test(w.path ?? "") || /port/.test(w.message)), JSON.stringify(bad.body.warnings));
    const empty = await getJson<{ error: string; field?: string }>(`${s.url}/api/policies/preview`, { method: "POST", body: "  " });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.field, "body");
  } finally {
    await s.close();
  }
});

test("an alias bomb, an empty body and a badly encoded path segment are 400s naming the problem, and change nothing", async () => {
  const s = await startTestServer({ scenario: path.resolve("server/scenarios/star-wars/scenario.yaml"), rate: 0 });
  try {
    const before = await getJson<PoliciesResponse>(`${s.url}/api/policies`);
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? "*a" : `*l${i - 1}`).join(", ")}]`);
    const bomb = levels.join("\n") + "\n";
    for (const [method, url] of [["PUT", "/api/policies"], ["POST", "/api/policies/preview"]] as const) {
      const r = await getJson<{ warnings: { message: string }[] }>(`${s.url}${url}`, { method, body: bomb });
      assert.equal(r.status, 400, `${method} ${url}`);
      assert.match(r.body.warnings[0]!.message, /Excessive alias count/);
    }
    for (const [method, url] of [["PUT", "/api/policies"], ["POST", "/api/policies/preview"]] as const) {
      const empty = await getJson<{ error: string; field: string }>(`${s.url}${url}`, { method, body: " \n" });
      assert.equal(empty.status, 400, `an empty ${method} is a mistake, not a change`);
      assert.equal(empty.body.field, "body");
    }
    const badUuid = await getJson<{ error: string; field: string }>(`${s.url}/api/flows/%E0`);
    assert.equal(badUuid.status, 400);
    assert.equal(badUuid.body.field, "uuid");
    const badDelete = await getJson<{ error: string; field: string }>(`${s.url}/api/policies/%E0/default/rule1`, { method: "DELETE" });
    assert.equal(badDelete.status, 400);
    assert.equal(badDelete.body.field, "kind");
    assert.equal((await getJson<{ field: string }>(`${s.url}/api/policies/%E0/flows`)).body.field, "policy");
    assert.equal((await getJson<PoliciesResponse>(`${s.url}/api/policies`)).body.revision, before.body.revision);
  } finally {
    await s.close();
  }
});
