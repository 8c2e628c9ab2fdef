// Regression guard for process(): a fixed sequence of requests through the default and star-wars
// scenarios, with a fixed clock and a deterministic L7 proxy, must produce exactly the recorded trace
// results (flows, explanations, sides, errors). Only flow uuids are random, so they are blanked.
// The fixture was recorded before the hot path was optimised; regenerate it only for an intended
// output change: UPDATE_GOLDEN=1 node --import tsx --test test/datapath/process-golden.test.ts
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Datapath, type TrafficRequest } from "../../server/datapath";
import { createL7Proxy } from "../../server/datapath/l7/proxy";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE = join(here, "fixtures", "process-golden.ndjson");
const T0 = Date.parse("2024-05-01T10:00:00.000Z");

function datapath(file: string): Datapath {
  let n = 0;
  const proxy = createL7Proxy({ requestId: () => `req-${++n}`, latencyNs: (p) => BigInt(1000 + p.length) });
  return Datapath.fromScenarioFile(file, { proxy });
}

const DEFAULT_EXTRA: TrafficRequest[] = [
  { from: { ip: "203.0.113.7" }, to: "production/api", port: 8080 },
  { from: "production/api", toIP: "54.187.174.169", port: 443 },
  { from: "production/api", toIP: "140.82.112.5", port: 443 },
  { from: "production/frontend", to: "production/api", protocol: "ICMP" },
  { from: "production/frontend", to: "production/api", port: 8080, protocol: "UDP" },
  { from: "monitoring/prometheus", to: "production/redis", port: 6379 },
  { from: "production/redis", to: "production/postgres", port: 5432 },
  { from: "production/api", dns: { query: "api.stripe.com" } },
  { from: "production/notification", dns: { query: "nowhere.example" } },
  { from: "streaming/kafka", to: "production/frontend", port: 8080, http: { method: "GET", path: "/" } },
  { from: "production/frontend", toService: "production/api", port: 80 },
  { from: "production/api", toFQDN: "nowhere.example", port: 443 },
  { from: "production/nope", to: "production/api", port: 80 },
  { from: "production/api", toService: "production/redis", port: 1 },
];

const STAR_WARS_EXTRA: TrafficRequest[] = [
  { from: "default/xwing", toService: "default/deathstar", port: 80 },
  { from: "default/tiefighter", toService: "default/deathstar", port: 80 },
  { from: "default/tiefighter", to: "default/deathstar", port: 80, http: { method: "GET", path: "/v1/" } },
  { from: "default/xwing", to: "default/tiefighter", protocol: "ICMP" },
  { from: "default/tiefighter", to: "default/xwing", port: 53, protocol: "UDP" },
];

/** every request's result (or error) as one line, in order */
function record(file: string, extra: TrafficRequest[]): string[] {
  const dp = datapath(file);
  const reqs: TrafficRequest[] = [...dp.trafficEntries(), ...extra, ...dp.trafficEntries(), ...extra];
  const out: string[] = [];
  reqs.forEach((req, i) => {
    // 1.007 s apart: the sub-second part of the time varies and 60 s DNS TTLs run out midway
    const now = new Date(T0 + i * 1007 * (i > reqs.length / 2 ? 40 : 1));
    try {
      const r = dp.process(req, now);
      out.push(JSON.stringify(r, (k, v) => (k === "uuid" ? "<uuid>" : v)));
    } catch (e) {
      out.push(JSON.stringify({ error: (e as Error).message }));
    }
  });
  return out;
}

function current(): string[] {
  return [
    ...record("server/scenarios/default/scenario.yaml", DEFAULT_EXTRA),
    ...record("server/scenarios/star-wars/scenario.yaml", STAR_WARS_EXTRA),
  ];
}

test("process() output matches the recorded golden traces", () => {
  const lines = current();
  if (process.env.UPDATE_GOLDEN || !existsSync(FIXTURE)) {
    mkdirSync(dirname(FIXTURE), { recursive: true });
    writeFileSync(FIXTURE, lines.join("\n") + "\n");
  }
  const golden = readFileSync(FIXTURE, "utf8").trimEnd().split("\n");
  assert.equal(lines.length, golden.length);
  for (let i = 0; i < golden.length; i++) assert.equal(lines[i], golden[i], `request #${i} differs`);
});

test("the golden sequence covers every verdict and flow kind", () => {
  const lines = readFileSync(FIXTURE, "utf8").trimEnd().split("\n");
  const text = lines.join("\n");
  for (const needle of ['"verdict":"FORWARDED"', '"verdict":"DROPPED"', '"verdict":"AUDIT"', '"drop_reason_desc":"POLICY_DENY"', '"drop_reason_desc":"POLICY_DENIED"', '"Type":"L7"', '"kafka":', '"dns":', '"error":', '"is_reply":true', "nearest rule"]) {
    assert.ok(text.includes(needle), `golden traces contain ${needle}`);
  }
});

test("process() is deterministic for the same sequence (the test can fail on real differences)", () => {
  const a = record("server/scenarios/star-wars/scenario.yaml", STAR_WARS_EXTRA);
  const b = record("server/scenarios/star-wars/scenario.yaml", STAR_WARS_EXTRA);
  assert.deepEqual(a, b);
  // and a different clock changes the output, so the comparison above is not vacuous
  const dp = datapath("server/scenarios/star-wars/scenario.yaml");
  const r1 = JSON.stringify(dp.process(STAR_WARS_EXTRA[0]!, new Date(T0)).flows[0]!.time);
  const r2 = JSON.stringify(dp.process(STAR_WARS_EXTRA[0]!, new Date(T0 + 1)).flows[0]!.time);
  assert.notEqual(r1, r2);
});
