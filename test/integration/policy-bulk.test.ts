// Large policy changes: YAML over a few kilobytes is parsed on the policy parse thread, so the server
// keeps answering meanwhile; changes still apply in the order they were asked for; and a preview with
// thousands of policies in force copies them instead of parsing them again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { PoliciesResponse } from "../../lib/api-types";
import { startTestServer, getJson, waitFor } from "../helpers/server";
import type { TestServer } from "../helpers/server";
import { parsePolicyText } from "../../server/datapath/policy/documents";
import { INLINE_PARSE_CHARS, PolicyFileCache, parsePolicyTextOffThread } from "../../server/datapath/policy/parse-thread";

function bulk(n: number, port = 8000): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: bulk-${i}, namespace: production }
spec:
  endpointSelector: { matchLabels: { app: api } }
  ingress:
  - fromEndpoints: [ { matchLabels: { app: frontend, tier: t${i % 50} } } ]
    toPorts: [ { ports: [ { port: "${port + (i % 500)}", protocol: TCP } ] } ]
`);
  }
  return docs.join("---\n");
}

/** resolves once the server has read a PUT's body and asked the simulator to apply it */
function putDispatched(s: TestServer): Promise<void> {
  const sim = s.ctx.simulator!;
  const upsert = sim.upsertPolicyYaml;
  return new Promise<void>((resolve) => {
    sim.upsertPolicyYaml = (yaml, source) => {
      sim.upsertPolicyYaml = upsert;
      const applied = upsert.call(sim, yaml, source);
      resolve();
      return applied;
    };
  });
}

test("the parse thread returns exactly what parsing here returns, warnings, regexes and CIDR groups included", async () => {
  const text = [
    bulk(60),
    `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: fqdn, namespace: production }
spec:
  endpointSelector: { matchLabels: { app: api } }
  egress:
  - toFQDNs: [ { matchPattern: "*.example.com" }, { matchName: api.github.com } ]
    toPorts: [ { ports: [ { port: "443", protocol: TCP } ], rules: { http: [ { method: GET, path: "/v1/.*" } ] } } ]
`,
    "apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: { name: vpn }\nspec:\n  externalCIDRs: [10.48.0.0/24]\n",
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: { name: broken, namespace: production }\nspec:\n  endpointSelector: {}\n  ingress: [{ fromEndpoints: 3 }]\n",
    "kind: [unclosed\n",
  ].join("---\n");
  assert.ok(text.length > INLINE_PARSE_CHARS, "large enough to go to the thread");
  const here = parsePolicyText(text, "api");
  const there = await parsePolicyTextOffThread(text, "api");
  assert.equal(there.policies.length, 61);
  assert.equal(there.cidrGroups.length, 1);
  assert.ok(there.warnings.length >= 2, "the broken documents are named");
  assert.ok(isDeepStrictEqual(there, here), "the same records, warnings and CIDR groups");
});

test("a PUT of 2,000 policies is parsed off the main thread, and later changes wait for it", async () => {
  const s = await startTestServer({ rate: 0 });
  try {
    const big = bulk(2000);
    // The big PUT is being parsed: /api/status answers before the datapath is handed the result.
    const dp = s.ctx.simulator!.datapath;
    const applyPolicyText = dp.applyPolicyText;
    let applied = 0;
    dp.applyPolicyText = (text) => (applied++, applyPolicyText.call(dp, text));
    const dispatched = putDispatched(s);
    const put = getJson<{ applied: unknown[] }>(`${s.url}/api/policies`, { method: "PUT", body: big });
    await dispatched;
    const status = await getJson(`${s.url}/api/status`);
    assert.equal(status.status, 200);
    assert.equal(applied, 0, "/api/status answered while the policies were being parsed");
    // Asked for after the big PUT, a small change to one of its policies and the deletion of another
    // wait for it: neither is overwritten by it nor refused as unknown.
    const small = getJson<{ applied: unknown[] }>(`${s.url}/api/policies`, { method: "PUT", body: bulk(1, 9000) });
    const del = getJson(`${s.url}/api/policies/CiliumNetworkPolicy/production/bulk-1999`, { method: "DELETE" });
    const [p, sm, d] = await Promise.all([put, small, del]);
    assert.equal(p.status, 200);
    assert.equal(p.body.applied.length, 2000);
    assert.equal(sm.status, 200);
    assert.equal(d.status, 200, "the deletion came after the PUT that created the policy");
    assert.equal(applied, 2, "both PUTs reached the datapath");
    const now = await getJson<PoliciesResponse>(`${s.url}/api/policies`);
    const names = new Set(now.body.policies.map((x) => x.name));
    assert.ok(names.has("bulk-1998") && !names.has("bulk-1999"));
    assert.match(now.body.policies.find((x) => x.name === "bulk-0")!.yaml, /port: "9000"/, "the later PUT's version is in force");

    // A preview with 2,000 policies in force.
    const preview = await getJson<{ rows: unknown[] }>(`${s.url}/api/policies/preview`, { method: "POST", body: bulk(1, 7000) });
    assert.equal(preview.status, 200);
  } finally {
    await s.close();
  }
});

test("policy files: a reload parses only the files whose text changed, and forgets removed ones", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flowscope-test-policyfiles-"));
  try {
    fs.writeFileSync(path.join(dir, "big.yaml"), bulk(300));
    fs.writeFileSync(path.join(dir, "small.yaml"), bulk(1, 9000).replace("bulk-0", "small"));
    const parsed: string[] = [];
    const cache = new PolicyFileCache((text, source) => (parsed.push(path.basename(source)), parsePolicyTextOffThread(text, source)));
    const first = cache.readSync([dir]);
    assert.equal(first.policies.length, 301);
    assert.deepEqual(parsed, [], "readSync parses here");
    const again = await cache.read([dir]);
    assert.deepEqual(parsed, [], "nothing changed: nothing parsed");
    assert.ok(isDeepStrictEqual(again, first));
    again.policies[0]!.revision = 99; // what applying does to a record: the cache's own copy is untouched
    assert.notEqual((await cache.read([dir])).policies[0]!.revision, 99);
    fs.writeFileSync(path.join(dir, "small.yaml"), bulk(1, 9100).replace("bulk-0", "small"));
    const edited = await cache.read([dir]);
    assert.deepEqual(parsed, ["small.yaml"], "only the edited file is parsed again");
    assert.match(edited.policies.find((p) => p.name === "small")!.yaml, /port: "9100"/);
    fs.rmSync(path.join(dir, "small.yaml"));
    assert.equal((await cache.read([dir])).policies.length, 300);
    fs.writeFileSync(path.join(dir, "small.yaml"), bulk(1, 9100).replace("bulk-0", "small"));
    await cache.read([dir]);
    assert.deepEqual(parsed, ["small.yaml", "small.yaml"], "a file removed and written again is parsed again");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a policy file of 2,000 policies edited while the server runs is applied", async () => {
  const s0 = await startTestServer({ simulate: false });
  const dir = path.join(s0.tmpDir, "star-wars");
  await s0.close();
  fs.cpSync(path.resolve("server/scenarios/star-wars"), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "policies", "bulk.yaml"), bulk(2000).replaceAll("namespace: production", "namespace: default"));
  const s = await startTestServer({ scenario: path.join(dir, "scenario.yaml"), rate: 0 });
  try {
    const dp = s.ctx.simulator!.datapath;
    const before = dp.revision();
    assert.ok(dp.policies().some((p) => p.name === "bulk-1999"));
    fs.writeFileSync(path.join(dir, "policies", "bulk.yaml"), bulk(2000, 7000).replaceAll("namespace: production", "namespace: default"));
    await waitFor("the edited file applied", () => (dp.revision() > before ? true : undefined), 30_000);
    const now = await getJson<PoliciesResponse>(`${s.url}/api/policies`);
    assert.match(now.body.policies.find((p) => p.name === "bulk-0")!.yaml, /port: "7000"/);
    assert.equal(now.body.policies.filter((p) => p.name.startsWith("bulk-")).length, 2000);
  } finally {
    await s.close();
  }
});
