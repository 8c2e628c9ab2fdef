// The `trace` CLI: JSON per request, compact lines, exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tempDir } from "../helpers/tmp";
import { join } from "node:path";

const SW = "server/scenarios/star-wars/scenario.yaml";
const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "server/cli/commands/trace.ts", ...args], { encoding: "utf8" });

test("trace -o json prints one object per request with flows and explanation", () => {
  const dir = tempDir("trace-");
  const reqs = join(dir, "r.yaml");
  writeFileSync(reqs, `- { from: default/tiefighter, toService: default/deathstar, port: 80, http: { method: POST, path: /v1/request-landing } }
- { from: default/xwing, to: default/deathstar, port: 80 }
`);
  const r = run(["--scenario", SW, "--requests", reqs]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].verdict, "FORWARDED");
  assert.equal(lines[0].ingress.match_type, "L3-L4");
  assert.equal(lines[1].verdict, "DROPPED");
  assert.equal(lines[1].drop_reason_desc, "POLICY_DENIED");
  assert.ok(lines[1].explanation.length > 2);
  assert.ok(lines[1].flows[0].flow.uuid);
});

test("trace -o compact prints hubble observe lines; invalid requests exit 2", () => {
  const r = run(["--scenario", SW, "--from", "default/xwing", "--to", "default/deathstar", "--port", "80", "-o", "compact"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /policy-verdict:none INGRESS DENIED \(TCP Flags: SYN\)/);
  assert.match(r.stdout, /Policy denied DROPPED/);
  const bad = run(["--scenario", SW, "--from", "default/nope", "--to", "default/deathstar", "--port", "80"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown workload "default\/nope"/);
  const noScenario = run(["--scenario", "/nonexistent.yaml", "--from", "a/b", "--to", "c/d", "--port", "1"]);
  assert.equal(noScenario.status, 2);
  // a mistyped policy path is refused, not traced as if the cluster had no such policy
  const typo = run(["--scenario", SW, "--policies", "/nonexistent-policy.yaml", "--from", "default/xwing", "--to", "default/deathstar", "--port", "80"]);
  assert.equal(typo.status, 2);
  assert.equal(typo.stdout, "");
  assert.match(typo.stderr, /--policies \/nonexistent-policy\.yaml: no such file or folder/);
});

test("trace -o json prints flows as Hubble JSON; request errors name the request file and say one thing", () => {
  const r = run(["--scenario", SW, "--from", "default/tiefighter", "--to", "default/deathstar", "--port", "80"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const f of out.flows) assert.match(f.time, /\.\d{6}Z$|\.\d{3}Z$|\.\d{9}Z$|:\d\dZ$/);
  assert.ok(out.flows.some((f: { time: string }) => /\.\d{6}Z$/.test(f.time)), "microsecond stamps print 6 digits, as protojson does");
  assert.equal(typeof out.flows[0].flow.source.identity, "number");
  const bigPort = run(["--scenario", SW, "--from", "default/tiefighter", "--to", "default/deathstar", "--port", "99999"]);
  assert.equal(bigPort.status, 2);
  assert.match(bigPort.stderr, /--port: must be ≤ 65535, got 99999/);
  assert.doesNotMatch(bigPort.stderr, /is required/);
  const dir = tempDir("trace-");
  const reqs = join(dir, "bad.yaml");
  writeFileSync(reqs, "- { from: default/tiefighter, to: default/deathstar, port: [1] }\n");
  const bad = run(["--scenario", SW, "--requests", reqs]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /invalid requests file .*bad\.yaml/);
});

test("trace -o text reads as a verdict, each side's decision, the steps and the flows", () => {
  const dir = tempDir("trace-");
  const reqs = join(dir, "r.yaml");
  writeFileSync(reqs, `- { from: default/tiefighter, toService: default/deathstar, port: 80, http: { method: PUT, path: /v1/exhaust-port } }
- { from: default/xwing, to: default/deathstar, port: 80 }
`);
  const r = run(["--scenario", SW, "--requests", reqs, "-o", "text"]);
  assert.equal(r.status, 0, r.stderr);
  const [first, second] = r.stdout.split(/\n(?=#2 )/);
  assert.match(first!, /^#1 default\/tiefighter-\S+ \(10\.\d+\.\d+\.\d+\) identity \d+ → default\/deathstar-\S+ .* \(port 80, via service default\/deathstar, HTTP PUT \/v1\/exhaust-port\)/);
  assert.match(first!, /\n {2}verdict {2}DROPPED \(refused by the L7 proxy\); answer HTTP 403\n/);
  assert.match(first!, /\n {2}ingress {2}REDIRECTED, match L3-L4, allowed by CiliumNetworkPolicy default\/rule1\n/);
  assert.match(first!, /\n {2}steps\n {5}1\. service default\/deathstar/);
  assert.match(first!, /http-request DROPPED \(HTTP\/1\.1 PUT http:\/\/deathstar\.default\.svc\.cluster\.local\/v1\/exhaust-port\)/);
  assert.match(second!, /verdict {2}DROPPED \(POLICY_DENIED\)/);
  assert.match(second!, /ingress {2}DROPPED, default deny from CiliumNetworkPolicy default\/rule1/);
  assert.equal(run(["--scenario", SW, "--from", "default/xwing", "--to", "default/deathstar", "--port", "80", "-o", "yaml"]).status, 2);
});
