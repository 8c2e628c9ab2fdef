// L7 policy matching: every rule kind, allow-all, attribution, Kafka roles and the every-topic
// rule, DNS wildcard rules from the Cilium docs, validation messages, a pathological regex.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Policy } from "../../lib/flow/types";
import { indexHeaders, type HttpRequestView } from "../../server/datapath/l7/http-message";
import { decideDns, decideHttp, decideKafka } from "../../server/datapath/l7/match/decide";
import { dnsRuleMatches } from "../../server/datapath/l7/match/dns";
import { fqdnMatches, patternToRegExp } from "../../server/datapath/fqdn-match";
import { httpRuleMatches } from "../../server/datapath/l7/match/http";
import { compileFullRegex } from "../../server/datapath/l7/match/regex";
import { validateL7Rules } from "../../server/datapath/l7/match/validate";
import type { KafkaRequest } from "../../server/datapath/l7/parse/kafka";
import type { L7Grant, L7Rules } from "../../server/datapath/l7/proxy-types";

function view(method: string, path: string, authority = "api:80", headers: [string, string][] = []): HttpRequestView {
  return { method, path, authority, scheme: "http", protocol: "HTTP/1.1", headers, lower: indexHeaders(headers) };
}
const pol = (name: string): Policy => ({ name, namespace: "default", kind: "CiliumNetworkPolicy", revision: "1" });
const grant = (name: string, rules: L7Rules, i = 0): L7Grant => ({ policy: pol(name), rules, rulePath: `spec.ingress[${i}].toPorts[0].rules` });

test("HTTP method/path/host are full-string regexes", () => {
  assert.equal(httpRuleMatches({ path: "/v1/.*" }, view("GET", "/v1/a/b?x=1")), true);
  assert.equal(httpRuleMatches({ path: "/v1/" }, view("GET", "/v1/a")), false, "anchored: no prefix match");
  assert.equal(httpRuleMatches({ path: "/public" }, view("GET", "/public/x")), false);
  assert.equal(httpRuleMatches({ method: "GET|HEAD" }, view("HEAD", "/")), true);
  assert.equal(httpRuleMatches({ method: "GET" }, view("GETX", "/")), false);
  assert.equal(httpRuleMatches({ method: "GET", path: "/v[0-9]+/items" }, view("GET", "/v12/items")), true);
  assert.equal(httpRuleMatches({ method: "GET", path: "/v[0-9]+/items" }, view("POST", "/v12/items")), false, "fields AND-ed");
  assert.equal(httpRuleMatches({ host: "api\\.example\\.com" }, view("GET", "/", "api.example.com")), true);
  assert.equal(httpRuleMatches({ host: "api\\.example\\.com" }, view("GET", "/", "api.example.com.evil")), false);
  assert.equal(httpRuleMatches({}, view("DELETE", "/anything")), true, "empty rule allows all");
});

test("HTTP headers and headerMatches", () => {
  const req = view("GET", "/", "a", [["X-Token", "s3cret"], ["X-Env", "prod"]]);
  assert.equal(httpRuleMatches({ headers: ["X-Token"] }, req), true);
  assert.equal(httpRuleMatches({ headers: ["x-token: s3cret"] }, req), true, "names case-insensitive, Name: value exact");
  assert.equal(httpRuleMatches({ headers: ["X-Token: other"] }, req), false);
  assert.equal(httpRuleMatches({ headers: ["X-Missing"] }, req), false);
  assert.equal(httpRuleMatches({ headerMatches: [{ name: "X-Env", value: "prod" }] }, req), true);
  assert.equal(httpRuleMatches({ headerMatches: [{ name: "X-Env", value: "dev" }] }, req), false);
  assert.equal(httpRuleMatches({ headerMatches: [{ name: "X-Env", value: "dev", mismatch: "LOG" }] }, req), true, "LOG still matches");
  assert.equal(httpRuleMatches({ headerMatches: [{ name: "X-Missing", value: "v", mismatch: "ADD" }] }, req), true);
  assert.equal(httpRuleMatches({ headerMatches: [{ name: "X-Env" }] }, req), true, "no value: presence");
  assert.equal(httpRuleMatches({ headerMatches: [{ name: "X-Token", secret: { name: "tok" } }] }, req), false, "unresolvable secret never matches");
});

test("decisions: allow-all, first matching rule, merged grants, denial attribution", () => {
  assert.deepEqual(decideHttp(null, view("POST", "/x")), { allowed: true, decidedBy: [] });
  const grants = [grant("read-only", { http: [{ method: "GET" }] }, 0), grant("admin", { http: [{ method: "POST", path: "/admin/.*" }, { method: "PUT" }] }, 1)];
  let d = decideHttp(grants, view("PUT", "/x"));
  assert.equal(d.allowed, true);
  assert.equal(d.rule, "spec.ingress[1].toPorts[0].rules.http[1]");
  assert.deepEqual(d.decidedBy.map((p) => p.name), ["admin"]);
  d = decideHttp(grants, view("DELETE", "/x"));
  assert.equal(d.allowed, false);
  assert.equal(d.rule, undefined);
  assert.deepEqual(d.decidedBy.map((p) => p.name), ["read-only", "admin"]);
  assert.equal(decideHttp([grant("empty", { http: [] })], view("GET", "/")).allowed, false);
});

function kreq(apiKey: number, topics: string[], extra: Partial<KafkaRequest> = {}): KafkaRequest {
  return { apiKey, apiVersion: 5, correlationId: 1, clientId: "app", flexible: false, topics: topics.map((name) => ({ name, partitions: [0] })), allTopics: false, start: 0, end: 0, ...extra };
}

test("Kafka roles, apiKey, apiVersion, clientID, topic and the every-topic rule", () => {
  const produce = [grant("p", { kafka: [{ role: "produce", topic: "orders" }] })];
  assert.equal(decideKafka(produce, kreq(0, ["orders"])).allowed, true);
  assert.equal(decideKafka(produce, kreq(3, ["orders"])).allowed, true, "produce role includes metadata");
  assert.equal(decideKafka(produce, kreq(18, [])).allowed, true, "and apiversions (no topics)");
  assert.equal(decideKafka(produce, kreq(1, ["orders"])).allowed, false, "not fetch");
  assert.equal(decideKafka(produce, kreq(0, ["payments"])).allowed, false);
  assert.equal(decideKafka(produce, kreq(0, ["orders", "payments"])).allowed, false, "every topic must be allowed");
  const consume = [grant("c", { kafka: [{ role: "CONSUME", topic: "orders" }] })];
  for (const k of [1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18]) assert.equal(decideKafka(consume, kreq(k, ["orders"])).allowed, true, `consume allows key ${k}`);
  assert.equal(decideKafka(consume, kreq(0, ["orders"])).allowed, false);
  const two = [grant("a", { kafka: [{ apiKey: "produce", topic: "orders" }] }), grant("b", { kafka: [{ apiKey: "Produce", topic: "payments" }] }, 1)];
  const d = decideKafka(two, kreq(0, ["orders", "payments"]));
  assert.equal(d.allowed, true, "topics covered by rules of two grants");
  assert.deepEqual(d.decidedBy.map((p) => p.name), ["a", "b"]);
  assert.equal(decideKafka([grant("v", { kafka: [{ apiVersion: "5" }] })], kreq(0, ["x"])).allowed, true);
  assert.equal(decideKafka([grant("v", { kafka: [{ apiVersion: "4" }] })], kreq(0, ["x"])).allowed, false);
  assert.equal(decideKafka([grant("c", { kafka: [{ clientID: "app" }] })], kreq(0, ["x"])).allowed, true);
  assert.equal(decideKafka([grant("c", { kafka: [{ clientID: "other" }] })], kreq(0, ["x"])).allowed, false);
  assert.equal(decideKafka([grant("m", { kafka: [{ topic: "orders" }] })], kreq(3, [], { allTopics: true })).allowed, false, "all-topics metadata needs a topic-less rule");
  assert.equal(decideKafka([grant("h", { kafka: [{ topic: "orders" }] })], kreq(12, [])).allowed, true, "topic ignored for heartbeat");
});

test("DNS matchName / matchPattern as Cilium", () => {
  const m = (rule: { matchName?: string; matchPattern?: string }, q: string) => dnsRuleMatches(rule, q);
  assert.equal(m({ matchName: "API.github.com" }, "api.github.com."), true);
  assert.equal(m({ matchName: "api.github.com." }, "www.github.com."), false);
  assert.equal(m({ matchPattern: "*.cilium.io" }, "sub.cilium.io."), true);
  assert.equal(m({ matchPattern: "*.cilium.io" }, "cilium.io."), false);
  assert.equal(m({ matchPattern: "*.cilium.io" }, "sub.sub.cilium.io."), false);
  assert.equal(m({ matchPattern: "part*ial.com" }, "partial.com."), true);
  assert.equal(m({ matchPattern: "part*ial.com" }, "part-extra-ial.com."), true);
  assert.equal(m({ matchPattern: "**.cilium.io" }, "app.cilium.io."), true);
  assert.equal(m({ matchPattern: "**.cilium.io" }, "test.app.cilium.io."), true);
  assert.equal(m({ matchPattern: "**.cilium.io" }, "cilium.io."), false);
  assert.equal(m({ matchPattern: "*" }, "anything.example.org."), true);
  assert.equal(m({ matchPattern: "*" }, "."), true);
  assert.equal(m({ matchPattern: "*.Cilium.IO" }, "x_y.cilium.io."), true, "case-insensitive, underscore allowed");
  const d = decideDns([grant("dns", { dns: [{ matchName: "a.com" }, { matchPattern: "*.b.com" }] })], "x.b.com.");
  assert.equal(d.rule, "spec.ingress[0].toPorts[0].rules.dns[1]");
});

test("toFQDNs patterns and DNS-rule patterns are the same language (\"*.*\" is two labels, not every name)", () => {
  const patterns = ["*", "**", "*.", "*.*", "**.*", "*.example.com", "**.example.com", "ex*le.com", "a.**.com", "*.*.example.com", "example.com", "EXAMPLE.com."];
  const names = [".", "com.", "example.com.", "www.example.com.", "a.b.example.com.", "exle.com.", "example.org.", "a.x.com.", "a_b.example.com."];
  for (const p of patterns) {
    const re = patternToRegExp(p);
    for (const n of names) assert.equal(fqdnMatches(re, n), dnsRuleMatches({ matchPattern: p }, n), `${p} vs ${n}`);
  }
  const twoLabels = patternToRegExp("*.*");
  assert.equal(fqdnMatches(twoLabels, "example.com"), true);
  assert.equal(fqdnMatches(twoLabels, "www.example.com"), false);
  assert.equal(fqdnMatches(patternToRegExp("**"), "a.b.c"), true);
});

test("validateL7Rules names the field path of each problem", () => {
  assert.deepEqual(validateL7Rules({ http: [{ method: "GET", path: "/v1/.*" }] }), []);
  const problems = validateL7Rules(
    {
      http: [{ path: "/a(", method: "GET", bogus: 1 }, { headerMatches: [{ value: "x", mismatch: "DROP" }] }],
      kafka: [{ role: "produce", apiKey: "fetch" }, { apiKey: "nope", apiVersion: "x", topic: "bad topic" }],
      dns: [{}, { matchPattern: "a[b" }],
    },
    "spec.egress[0].toPorts[0].rules",
  );
  const expect = [
    /rules: only one of http, kafka, dns may be set/,
    /rules\.http\[0\]\.bogus: unknown field/,
    /rules\.http\[0\]\.path: invalid regular expression "\/a\("/,
    /rules\.http\[1\]\.headerMatches\[0\]\.name: required/,
    /rules\.http\[1\]\.headerMatches\[0\]\.mismatch: must be one of/,
    /rules\.kafka\[0\]: cannot set both role/,
    /rules\.kafka\[1\]\.apiKey: invalid Kafka apiKey "nope"/,
    /rules\.kafka\[1\]\.apiVersion: invalid/,
    /rules\.kafka\[1\]\.topic: invalid Kafka topic name/,
    /rules\.dns\[0\]: one of matchName or matchPattern is required/,
    /rules\.dns\[1\]\.matchPattern: invalid pattern/,
  ];
  for (const re of expect) assert.ok(problems.some((p) => re.test(p) && p.startsWith("spec.egress[0].toPorts[0].rules")), `missing ${re}: ${problems.join(" | ")}`);
  assert.match(validateL7Rules({ http: [{ path: "(a)\\1" }] })[0], /invalid regular expression/, "RE2 rejects backreferences");
});

test("a pathological regex runs in linear time (RE2) and still answers correctly", () => {
  const m = compileFullRegex("(a+)+b");
  const input = `${"a".repeat(5000)}c`;
  assert.equal(m.test(input), false);
  assert.equal(m.test(`${"a".repeat(50)}b`), true);
  assert.equal(httpRuleMatches({ path: "/(x+x+)+y" }, view("GET", `/${"x".repeat(10000)}`)), false);
});
