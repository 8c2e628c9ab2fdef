// Hubble's experimental CEL filter (FlowFilter.experimental.cel_expression): table-driven over the six
// hand-made flows, with the expectations worked out by hand from CEL's rules and flow.proto's types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileCelExpressions } from "../../lib/filter/cel";
import { compileQuery } from "../../lib/filter/match";
import { fromSearchParams, toSearchParams } from "../../lib/filter/parse-params";
import { parseObserveArgs } from "../../lib/filter/parse-cli";
import { FilterError } from "../../lib/filter/types";
import type { Flow } from "../../lib/flow/types";
import { FLOWS } from "./flows";

const matching = (expr: string, flows: Flow[] = FLOWS) => {
  const m = compileCelExpressions([expr], "cel_expression");
  return flows.filter((f) => m(f)).map((f) => f.uuid);
};

const CASES: [string, string[]][] = [
  // Hubble's own examples (filters/cel_expression_test.go)
  ["_flow.verdict == Verdict.FORWARDED || _flow.verdict == Verdict.TRANSLATED", ["f2", "f3", "f4", "f6"]],
  ["_flow.IP.source == '10.0.4.4' || _flow.IP.destination == '10.96.0.10'", ["f4", "f5"]],
  ["has(_flow.l4.TCP)", ["f1", "f2", "f3", "f5", "f6"]],
  ["has(_flow.l4.TCP) && (_flow.l4.TCP.destination_port == uint(80) || _flow.l4.TCP.destination_port == uint(443))", ["f2", "f5"]],
  // enum constants in the container "flow", qualified or absolute; enums are ints
  ["_flow.verdict == flow.Verdict.DROPPED", ["f1", "f5"]],
  ["_flow.verdict == .flow.Verdict.DROPPED", ["f1", "f5"]],
  ["_flow.verdict == 2", ["f1", "f5"]],
  ["_flow.drop_reason_desc == DropReason.POLICY_DENY", ["f5"]],
  ["_flow.traffic_direction == TrafficDirection.INGRESS && _flow.Type == FlowType.L3_L4", ["f1"]],
  ["_flow.trace_observation_point == TraceObservationPoint.TO_ENDPOINT", ["f6"]],
  ["_flow.l7.type == L7FlowType.RESPONSE", ["f3"]],
  // unset fields read as proto defaults: a UDP flow's TCP port is 0, a flow without L7 has code 0
  ["_flow.l4.TCP.destination_port == 0u", ["f4"]],
  ["_flow.l7.http.code == 0u && !has(_flow.l7.http)", ["f1", "f4", "f5", "f6"]],
  ["_flow.l7.http.code >= 500u", ["f3"]],
  ["_flow.source.namespace == ''", []],
  ["_flow.destination.namespace == ''", ["f5"]],
  // is_reply is a BoolValue: null when unset
  ["_flow.is_reply == true", ["f3", "f6"]],
  ["_flow.is_reply == false", ["f2", "f4"]],
  ["_flow.is_reply == null", ["f1", "f5"]],
  // reserved words are fine as field names
  ["_flow.source.namespace == 'payments' && _flow.destination.namespace != 'payments'", ["f2", "f4"]],
  // lists and macros
  ["'k8s:tier=front' in _flow.source.labels", ["f1"]],
  ["_flow.destination.labels.exists(l, l.startsWith('reserved:'))", ["f5"]],
  ["_flow.source.labels.all(l, l.startsWith('k8s:app='))", ["f2", "f3", "f4", "f5", "f6"]],
  ["_flow.destination_names.exists_one(n, n.endsWith('github.com'))", ["f5"]],
  ["size(_flow.source.labels) == 2", ["f1"]],
  ["_flow.source.labels.filter(l, l.contains('app')).map(l, l.size())[0] == 11", ["f1", "f2", "f3", "f4"]],
  ["_flow.egress_allowed_by.exists(p, p.name == 'web-egress' && p.revision == 3u)", ["f2"]],
  // strings, regexes, conversions, timestamps
  ["_flow.l7.dns.query.matches('^api\\\\.github\\\\.com\\\\.$')", ["f4"]],
  ["_flow.l7.http.url.contains('/orders/') && _flow.l7.http.method == 'GET'", ["f2", "f3"]],
  ["int(_flow.l4.TCP.source_port) - int(_flow.l4.TCP.destination_port) > 39000", ["f2", "f5"]],
  ["string(_flow.source.identity) + '/' + _flow.source.pod_name == '1001/web-1'", ["f1", "f2", "f4"]],
  ["_flow.time >= timestamp('2024-05-01T10:00:04Z')", ["f5", "f6"]],
  ["_flow.time - timestamp('2024-05-01T10:00:00Z') < duration('1.5s')", ["f1", "f2"]],
  // timestamp accessors (UTC, an IANA zone, a fixed offset; months and days of month from 0) and duration totals
  ["_flow.time.getHours() == 10 && _flow.time.getMinutes() == 0 && _flow.time.getSeconds() == 4", ["f5"]],
  ["_flow.time.getMilliseconds() == 500", ["f5"]],
  ["_flow.time.getFullYear() == 2024 && _flow.time.getMonth() == 4 && _flow.time.getDate() == 1 && _flow.time.getDayOfMonth() == 0", ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["_flow.time.getDayOfWeek() == 3 && _flow.time.getDayOfYear() == 121", ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["_flow.time.getHours('America/New_York') == 6 && _flow.time.getHours('+05:30') == 15 && _flow.time.getMinutes('+05:30') == 30", ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["_flow.time.getHours('Nowhere/City') >= 0", []],
  ["duration('1h30m').getMinutes() == 90 && duration('1.5s').getMilliseconds() == 500 && duration('90m').getHours() == 1", ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["_flow.node_labels.exists(l, l == 'topology.kubernetes.io/zone=zone-a') || _flow.interface.name == 'lxc_health'", ["f1", "f6"]],
  ["_flow.IP.encrypted", ["f6"]],
  ["_flow.extensions.default_deny_by[0].name == 'db-allow'", ["f1"]],
  // errors: && and || decide on a decisive side whatever the other is; an error at the top does not match
  ["_flow.l4.TCP.destination_port / 0u == 1u || _flow.verdict == Verdict.DROPPED", ["f1", "f5"]],
  ["_flow.verdict == Verdict.DROPPED && _flow.source.labels[5] == 'x'", []],
  ["_flow.verdict != Verdict.DROPPED && _flow.source.labels[5] == 'x'", []],
  ["_flow.source.labels[5] == 'x' || true", ["f1", "f2", "f3", "f4", "f5", "f6"]],
  ["_flow.extensions.no_such_key == 1.0", []],
  ["9223372036854775807 + 1 > 0", []],
  ["-9223372036854775808 < 0 && 0xFFu == 255u && 1e3 == 1000.0 && 'a\\x41\\u00e9' == 'aAé' && r'\\d' == '\\\\d'", ["f1", "f2", "f3", "f4", "f5", "f6"]],
  // ? : and nested comprehensions within the cost budget
  ["(_flow.verdict == Verdict.DROPPED ? _flow.drop_reason_desc : 0) == DropReason.POLICY_DENIED", ["f1"]],
  ["[1, 2, 3].all(a, [1, 2, 3].exists(b, a == b))", ["f1", "f2", "f3", "f4", "f5", "f6"]],
];

test("CEL expressions select the flows CEL's rules say they do", () => {
  for (const [expr, want] of CASES) assert.deepEqual(matching(expr), want, expr);
});

test("CEL: several expressions OR, and a filter's other fields AND with them", () => {
  const m = compileCelExpressions(["_flow.uuid == 'f1'", "_flow.uuid == 'f6'"], "cel_expression");
  assert.deepEqual(FLOWS.filter((f) => m(f)).map((f) => f.uuid), ["f1", "f6"]);
  const q = compileQuery({ whitelist: [{ verdict: ["FORWARDED"], experimental: { cel_expression: ["_flow.uuid == 'f1'", "_flow.uuid == 'f6'"] } }], blacklist: [] });
  assert.deepEqual(FLOWS.filter(q).map((f) => f.uuid), ["f6"]);
  // --not: the deny list
  const deny = compileQuery({ whitelist: [], blacklist: [{ experimental: { cel_expression: ["has(_flow.l7)"] } }] });
  assert.deepEqual(FLOWS.filter(deny).map((f) => f.uuid), ["f1", "f5", "f6"]);
});

test("CEL: a work budget per flow, as Hubble's cost limit: an expression that would run too long does not match", () => {
  const ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
  // 10^4 iterations fit, 10^5 do not
  assert.deepEqual(matching(`${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, true))))`), FLOWS.map((f) => f.uuid));
  assert.deepEqual(matching(`${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, ${ten}.all(e, true)))))`), []);
});

test("CEL expressions that cannot be used are refused with the reason, as Hubble refuses them when building the filter", () => {
  const refused: [string, RegExp][] = [
    ["_flow.l4.TCP.destination_port == 80", /no matching overload for '_==_' applied to '\(uint, int\)'/],
    ["_flow", /a filter must be a bool/],
    ["_flow.verdict", /a filter must be a bool/],
    ["", /empty CEL expression/],
    ["something-invalid", /undeclared reference to 'something'/],
    ["_flow.nope == 1", /undefined field 'nope'/],
    ["_flow.source.nope == ''", /undefined field 'nope' \(of flow.Endpoint\)/],
    ["Verdict.MAYBE == _flow.verdict", /undeclared reference to 'Verdict.MAYBE'/],
    ["lower(_flow.node_name) == 'x'", /undeclared reference to 'lower'/],
    ["_flow.l7.http.url.getHours() == 1", /no matching overload for 'getHours \(method\)' applied to '\(string\)'/],
    ["namespace == 'x'", /reserved identifier "namespace"/],
    ["_flow.source.labels.size() == 'two'", /no matching overload for '_==_'/],
    ["_flow.l7.dns.query.matches('(unclosed')", /matches\(\)/],
    ["_flow.verdict == Verdict.DROPPED &&", /unexpected end of expression/],
    ["'unterminated", /unterminated string literal/],
    ["_flow.source.labels.exists(1, true)", /variable name/],
    ["has(_flow)", /has\(\) takes one field selection/],
    ["1 + 1u == 2", /no matching overload for '_\+_' applied to '\(int, uint\)'/],
    ["x".repeat(4097), /longer than 4096 characters/],
  ];
  for (const [expr, why] of refused) {
    assert.throws(() => compileCelExpressions([expr], "cel_expression"), (e: unknown) => e instanceof FilterError && e.field === "cel_expression" && why.test(e.message), expr.slice(0, 80));
  }
  assert.throws(() => compileQuery({ whitelist: [{ experimental: { cel_expression: [42 as unknown as string] } }], blacklist: [] }), /whitelist\[0\]\.experimental\.cel_expression/);
  assert.throws(() => compileQuery({ whitelist: [{ experimental: { cel: ["true"] } as never }], blacklist: [] }), /experimental\.cel: unknown filter field/);
});

test("CEL from the command line and the URL: --cel-expression and cel_expression= fill experimental.cel_expression", () => {
  const cli = parseObserveArgs(["--cel-expression", "_flow.verdict == Verdict.DROPPED", "--not", "--cel-expression", "has(_flow.l7)"]).query;
  assert.deepEqual(cli.whitelist, [{ experimental: { cel_expression: ["_flow.verdict == Verdict.DROPPED"] } }]);
  assert.deepEqual(cli.blacklist, [{ experimental: { cel_expression: ["has(_flow.l7)"] } }]);
  const url = fromSearchParams(toSearchParams(cli));
  assert.deepEqual(url, cli);
  assert.equal(toSearchParams(cli).get("cel_expression"), "_flow.verdict == Verdict.DROPPED");
  // with an either-side filter, the expression goes into both sides' filters, as hubble's does
  const pair = fromSearchParams("namespace=shop&cel_expression=_flow.verdict%20%3D%3D%20Verdict.DROPPED");
  assert.equal(pair.whitelist.length, 2);
  assert.deepEqual(FLOWS.filter(compileQuery(pair)).map((f) => f.uuid), ["f5"]);
  assert.throws(() => parseObserveArgs(["--cel-expression", "_flow.verdict =="]), (e: unknown) => e instanceof FilterError && e.field === "--cel-expression");
});

test("CEL: nesting is bounded, so no expression can exhaust the stack", () => {
  assert.throws(() => compileCelExpressions([`${"!".repeat(4000)}true`], "cel_expression"), /nested too deeply/);
  assert.throws(() => compileCelExpressions([`${"(".repeat(2000)}true${")".repeat(2000)}`], "cel_expression"), /nested too deeply/);
  assert.deepEqual(matching(`${"!".repeat(200)}_flow.IP.encrypted`), ["f6"]);
});

test("CEL: any text either compiles or is refused with a FilterError, and what compiles never throws on a flow", () => {
  // fixed pseudo-random sequences, so a failure reproduces
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pieces = ["_flow", ".", "source", "labels", "l7", "http", "code", "verdict", "Verdict", "DROPPED", "(", ")", "[", "]", "{", "}", ",", ":", "?",
    "==", "!=", "<", ">=", "&&", "||", "!", "-", "+", "*", "/", "%", " in ", "1", "2u", "3.5", "'s'", '"', "'", "\\", "true", "null",
    "has", "size", "exists", "all", "map", "filter", "x", "matches", "'(a'", "int", "uint", "timestamp", "duration", "namespace", "`", "#", "\u00e9"];
  for (let i = 0; i < 3000; i++) {
    const expr = Array.from({ length: 1 + rnd(12) }, () => pieces[rnd(pieces.length)]).join(rnd(2) ? " " : "");
    try {
      compileCelExpressions([expr], "cel_expression");
    } catch (e) {
      assert.ok(e instanceof FilterError, `${JSON.stringify(expr)} threw ${e}`);
    }
  }
  // well-typed parts, some failing at run time, combined at random: each result is a plain true or false
  const atoms = [
    "_flow.verdict == Verdict.DROPPED", "has(_flow.l7.http)", "_flow.l7.http.code / 0u == 1u", "_flow.source.labels[3] == 'x'",
    "_flow.source.labels.exists(l, l.size() > 11)", "_flow.is_reply == true", "_flow.extensions.nope == 1.0", "int('x') == 1",
    "_flow.IP.source.matches('^10[.]0[.]1')", "9223372036854775807 + 1 > 0", "true", "false",
  ];
  let combined = 0;
  for (let i = 0; i < 500; i++) {
    let expr = atoms[rnd(atoms.length)]!;
    for (let k = rnd(4); k > 0; k--) expr = `${rnd(3) === 0 ? "!" : ""}(${expr}) ${rnd(2) ? "&&" : "||"} ${atoms[rnd(atoms.length)]}`;
    const m = compileCelExpressions([expr], "cel_expression");
    for (const f of FLOWS) assert.equal(typeof m(f), "boolean", expr);
    combined++;
  }
  assert.equal(combined, 500);
});
