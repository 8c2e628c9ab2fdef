// `observe` flags checked against hubble observe's source: --color (printer/color.go), --print-raw-filters
// (flows.go getFlowFiltersYAML), every --since/--until layout (pkg/time/time.go), the filter flags hubble
// refuses to combine (flows_filter.go newFlowFilter/checkConflict), the server's "HTTP filters need l7
// events" rule (pkg/hubble/filters/http.go), and the -o aliases tab and JSON (flows.go handleFlowArgs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { parseObserveArgs, rawFiltersYaml, flowFilterJson } from "../../lib/filter/parse-cli";
import { parseTimeArg } from "../../lib/filter/time";
import { FilterError } from "../../lib/filter/types";
import { formatFlow, formatTable } from "../../lib/flow/print";
import type { FlowEnvelope } from "../../lib/flow/types";
import { tempDir } from "../helpers/tmp";

const exec = promisify(execFile);
const EXAMPLES = "test/export/hubble-examples.ndjson";
// nothing listens here: a command that printed without an error never asked the server
const NO_SERVER = "http://127.0.0.1:1";

async function observe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ["--import", "tsx", "server/cli/main.ts", "observe", ...args], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: "" } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const ESC = "\x1b[";
const paint = (code: number, s: string) => `${ESC}${code}m${s}${ESC}0m`;

const pvFlow: FlowEnvelope = {
  flow: {
    time: "2024-05-01T10:00:00.123Z",
    verdict: "DROPPED",
    IP: { source: "10.0.0.1", destination: "10.0.0.2" },
    l4: { TCP: { source_port: 40000, destination_port: 80 } },
    source: { identity: 1234, namespace: "shop", pod_name: "web-1" },
    destination: { identity: 2, namespace: "", pod_name: "" },
    event_type: { type: 1, sub_type: 133 },
    is_reply: false,
    Summary: "TCP Flags: SYN",
    auth_type: "SPIRE",
  },
} as FlowEnvelope;

test("--color: hubble's colours (host cyan with the port yellow, identity magenta, verdict by kind, auth type) in compact and dict only", () => {
  const compact = formatFlow(pvFlow, "compact", { color: true });
  assert.equal(
    compact,
    `May  1 10:00:00.123: ${paint(36, `shop/web-1:${paint(33, "40000")}`)} ${paint(35, "(ID:1234)")} -> ${paint(36, `10.0.0.2:${paint(33, "80")}`)} ${paint(35, "(world)")} Policy denied ${paint(31, "DROPPED")} (TCP Flags: SYN; ${paint(32, "SPIRE")})`,
  );
  // without colour, the very same text
  assert.equal(compact.replace(/\x1b\[\d+m/g, ""), formatFlow(pvFlow, "compact"));
  const dict = formatFlow(pvFlow, "dict", { color: true });
  assert.match(dict, /^ {4}VERDICT: \x1b\[31mDROPPED\x1b\[0m$/m);
  assert.match(dict, /^ {5}SOURCE: \x1b\[36mshop\/web-1:\x1b\[33m40000\x1b\[0m\x1b\[0m$/m);
  assert.equal(dict.replace(/\x1b\[\d+m/g, ""), formatFlow(pvFlow, "dict"));
  // table output is never coloured (hubble disables colours for the tabwriter)
  assert.equal(formatTable([pvFlow], { color: true }), formatTable([pvFlow]));

  const verdictOf = (verdict: string, type = 4) => formatFlow({ flow: { ...pvFlow.flow, verdict, event_type: { type } } } as FlowEnvelope, "compact", { color: true });
  assert.ok(verdictOf("FORWARDED").includes(paint(32, "FORWARDED")));
  assert.ok(verdictOf("REDIRECTED").includes(paint(32, "REDIRECTED")));
  assert.ok(verdictOf("ERROR").includes(paint(31, "ERROR")));
  assert.ok(verdictOf("AUDIT").includes(paint(33, "AUDIT")));
  assert.ok(verdictOf("AUDIT", 5).includes(paint(33, "AUDITED")));
  assert.ok(verdictOf("TRACED").includes(paint(33, "TRACED")));
  assert.ok(verdictOf("TRANSLATED").includes(paint(33, "TRANSLATED")));
  assert.ok(verdictOf("DROPPED", 5).includes(paint(31, "DENIED")));
  assert.ok(/ VERDICT_UNKNOWN \(/.test(verdictOf("VERDICT_UNKNOWN")), "an unknown verdict stays uncoloured");
  const failing = formatFlow({ flow: { ...pvFlow.flow, auth_type: "TEST_ALWAYS_FAIL" } } as FlowEnvelope, "compact", { color: true });
  assert.ok(failing.endsWith(`; ${paint(31, "TEST_ALWAYS_FAIL")})`));
  // traffic-controlled text still cannot drive the terminal when colours are on
  const evil = formatFlow({ flow: { ...pvFlow.flow, Summary: "x\x1b[2Jy" } } as FlowEnvelope, "compact", { color: true });
  assert.ok(evil.includes("x\\x1b[2Jy"));
});

test("observe --color: always colours compact and dict, never and a pipe (auto) print today's bytes, a bad value is refused", async () => {
  const plain = await observe("--input-file", EXAMPLES, "-o", "compact");
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!plain.stdout.includes("\x1b"), "auto: standard output is a pipe here, so no colour");
  const never = await observe("--input-file", EXAMPLES, "-o", "compact", "--color", "never");
  assert.equal(never.stdout, plain.stdout);
  const always = await observe("--input-file", EXAMPLES, "-o", "compact", "--color=always");
  assert.equal(always.code, 0, always.stderr);
  assert.ok(always.stdout.includes(paint(32, "FORWARDED")));
  assert.ok(always.stdout.includes(paint(31, "DROPPED")));
  assert.ok(always.stdout.includes(paint(35, "(ID:16370)")));
  assert.equal(always.stdout.replace(/\x1b\[\d+m/g, ""), plain.stdout);
  const dict = await observe("--input-file", EXAMPLES, "-o", "dict", "--color", "ALWAYS");
  assert.ok(dict.stdout.includes(`VERDICT: ${paint(32, "FORWARDED")}`));
  for (const o of ["json", "table"]) {
    const a = await observe("--input-file", EXAMPLES, "-o", o, "--color", "always");
    assert.ok(!a.stdout.includes("\x1b"), `${o} output is never coloured`);
  }
  const bad = await observe("--input-file", EXAMPLES, "--color", "sometimes");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--color: expected auto, always or never, got "sometimes"/);
});

test("--print-raw-filters: hubble's YAML (yaml.v3), FlowFilters as protojson, printed without contacting the server", async () => {
  const r = await observe("--server", NO_SERVER, "--verdict", "DROPPED", "--verdict", "ERROR", "--print-raw-filters");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `allowlist:\n    - '{"verdict":["DROPPED","ERROR"]}'\n`);
  const deny = await observe("--server", NO_SERVER, "--not", "--namespace", "kube-system", "--print-raw-filters");
  assert.equal(deny.stdout, `denylist:\n    - '{"source_pod":["kube-system/"]}'\n    - '{"destination_pod":["kube-system/"]}'\n`);
  const both = await observe("--server", NO_SERVER, "--pod", "xwing", "--not", "--verdict", "FORWARDED", "--print-raw-filters");
  assert.equal(both.stdout, `allowlist:\n    - '{"source_pod":["default/xwing"]}'\n    - '{"destination_pod":["default/xwing"]}'\ndenylist:\n    - '{"verdict":["FORWARDED"]}'\n`);
  const none = await observe("--server", NO_SERVER, "--print-raw-filters");
  assert.equal(none.stdout, "{}\n");
  // errors are still errors: hubble builds the request before printing it
  const bad = await observe("--server", NO_SERVER, "--verdict", "MAYBE", "--print-raw-filters");
  assert.equal(bad.code, 2);

  // fields in flow.proto order, defaults left out, Go's json.Marshal HTML escaping, quotes doubled for YAML
  const { query } = parseObserveArgs(["--protocol", "tcp", "--type", "trace:to-endpoint", "--to-port", "80", "--from-pod", "shop/web", "--http-path", "/a&b's", "--type", "l7"]);
  assert.equal(
    flowFilterJson(query.whitelist[0]!),
    '{"source_pod":["shop/web"],"event_type":[{"type":4,"match_sub_type":true},{"type":129}],"protocol":["tcp"],"destination_port":["80"],"http_path":["/a\\u0026b\'s"]}',
  );
  assert.equal(rawFiltersYaml(query), `allowlist:\n    - '${flowFilterJson(query.whitelist[0]!).replace("'", "''")}'\n`);
  assert.equal(rawFiltersYaml({ whitelist: [], blacklist: [{ source_workload: [{ kind: "Deployment", name: "api" }], tcp_flags: [{ SYN: true }] }] }), `denylist:\n    - '{"source_workload":[{"name":"api","kind":"Deployment"}],"tcp_flags":[{"SYN":true}]}'\n`);
});

test("-s/--silent-errors leaves out warnings about bad lines in --input-file; the good lines still print", async () => {
  const file = path.join(tempDir("observe-flags-"), "mixed.json");
  const good = fs.readFileSync(EXAMPLES, "utf8").trim().split("\n").slice(1, 3);
  fs.writeFileSync(file, [good[0], "not json", good[1]].join("\n") + "\n");
  const loud = await observe("--input-file", file);
  assert.equal(loud.code, 0, loud.stderr);
  assert.match(loud.stderr, /mixed\.json:2: /);
  for (const flag of ["-s", "--silent-errors"]) {
    const quiet = await observe("--input-file", file, flag);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    assert.equal(quiet.stdout, loud.stdout);
  }
});

test("--since/--until take every layout hubble's time.FromString tries, and still refuse impossible dates", () => {
  const now = Date.parse("2024-05-01T12:00:00Z");
  const cases: [string, string][] = [
    ["2024-05-01", "2024-05-01T00:00:00.000Z"], // YearMonthDay
    ["2024-05-01T10Z", "2024-05-01T10:00:00.000Z"], // YearMonthDayHour
    ["2024-05-01T10+02:00", "2024-05-01T08:00:00.000Z"],
    ["2024-05-01T10:30Z", "2024-05-01T10:30:00.000Z"], // YearMonthDayHourMinute
    ["2024-05-01T10:30-01:30", "2024-05-01T12:00:00.000Z"],
    ["2024-05-01T10:30:15Z", "2024-05-01T10:30:15.000Z"], // RFC3339
    ["2024-05-01T10:30:15.5+02:00", "2024-05-01T08:30:15.500Z"], // RFC3339Milli
    ["2024-05-01T10:30:15.123456Z", "2024-05-01T10:30:15.123Z"], // RFC3339Micro
    ["2024-05-01T10:30:15.123456789Z", "2024-05-01T10:30:15.123Z"], // RFC3339Nano
    ["Wed, 01 May 2024 10:30:15 +0200", "2024-05-01T08:30:15.000Z"], // RFC1123Z
    ["wed, 01 may 2024 10:30:15 -0000", "2024-05-01T10:30:15.000Z"],
  ];
  for (const [input, iso] of cases) assert.equal(new Date(parseTimeArg(input, "--since", now)).toISOString(), iso, input);
  assert.equal(parseObserveArgs(["--since", "Wed, 01 May 2024 10:00:00 +0000", "--until", "2024-05-01T11Z"]).query.until, "2024-05-01T11:00:00.000Z");
  for (const bad of ["2024-02-30T10Z", "2024-05-01T24Z", "2024-05-01T10:60Z", "Wed, 31 Feb 2024 10:00:00 +0000", "Wed, 01 May 2024 24:00:00 +0000", "Xyz, 01 May 2024 10:00:00 +0000", "Wed, 01 Foo 2024 10:00:00 +0000", "Wed, 1 May 2024 10:00:00 +0000", "2024-05-01T10"]) {
    assert.throws(() => parseTimeArg(bad, "--until", now), (e: unknown) => e instanceof FilterError && e.field === "--until", bad);
  }
});

test("filter flags hubble cannot combine are refused with hubble's message, in the allow and the deny list alike", async () => {
  const refused: [string[], string][] = [
    [["--ip", "10.0.0.1", "--pod", "x"], "filters --ip and --pod cannot be combined"],
    [["--pod", "x", "--fqdn", "*.cilium.io"], "filters --fqdn and --pod cannot be combined"],
    [["--from-ip", "10.0.0.1", "--namespace", "a"], "filters --from-ip and --namespace cannot be combined"],
    [["--from-pod", "a", "--namespace", "b"], "filters --from-pod and --namespace cannot be combined"],
    [["-A", "--to-pod", "x"], "filters --to-pod and --all-namespaces cannot be combined"],
    [["--to-service", "s", "-n", "b"], "filters --to-service and --namespace cannot be combined"],
    [["--ip", "10.0.0.1", "--fqdn", "a.b"], "filters --ip and --fqdn cannot be combined"],
    [["--to-fqdn", "a.b", "--to-ip", "10.0.0.1"], "filters --to-fqdn and --to-ip cannot be combined"],
    [["--label", "app=a", "--from-label", "app=b"], "filters --label and --from-label cannot be combined"],
    [["--to-label", "app=a", "-l", "app=b"], "filters --label and --to-label cannot be combined"],
    [["--service", "a", "--to-service", "b"], "filters --service and --to-service cannot be combined"],
    [["--port", "80", "--to-port", "81"], "filters --port and --to-port cannot be combined"],
    [["--identity", "world", "--from-identity", "2"], "filters --identity and --from-identity cannot be combined"],
    [["--workload", "api", "--to-workload", "db"], "filters --workload and --to-workload cannot be combined"],
    [["--node-name", "k8s*", "--cluster", "c1"], "filters --node-name and --cluster cannot be combined"],
    [["--not", "--ip", "10.0.0.1", "--not", "--pod", "x"], "filters --ip and --pod cannot be combined"],
    [["--encrypted", "--unencrypted"], "filters --encrypted and --unencrypted cannot be combined"],
  ];
  const LONG: Record<string, string> = { "-n": "--namespace", "-l": "--label" };
  for (const [args, message] of refused) {
    // the error names the flag that made the combination (the later one)
    const later = args.filter((a) => a.startsWith("-") && a !== "--not").pop()!;
    assert.throws(() => parseObserveArgs(args), (e: unknown) => e instanceof FilterError && e.message === message && e.field === (LONG[later] ?? later), args.join(" "));
  }
  // combinations hubble allows
  for (const args of [
    ["--pod", "x", "--namespace", "y"],
    ["--from-pod", "a", "--to-pod", "b"],
    ["--from-namespace", "a", "--from-pod", "b"],
    ["--ip", "10.0.0.1", "--ip", "10.0.0.2"],
    ["--from-ip", "10.0.0.1", "--to-fqdn", "a.b"],
    ["--from-label", "app=a", "--to-label", "app=b"],
    ["--ip", "10.0.0.1", "--not", "--pod", "x"], // one in the allow list, one in the deny list
    ["--verdict", "DROPPED", "--verdict", "FORWARDED", "--type", "drop", "--type", "trace"],
  ]) {
    assert.doesNotThrow(() => parseObserveArgs(args), args.join(" "));
  }
  assert.deepEqual(parseObserveArgs(["--pod", "x", "--namespace", "y"]).query.whitelist, [{ source_pod: ["y/x"] }, { destination_pod: ["y/x"] }]);

  const r = await observe("--server", NO_SERVER, "--from-pod", "a", "--namespace", "b");
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "observe: filters --from-pod and --namespace cannot be combined\n");
});

test("--node-label, --interface and --encrypted/--unencrypted become hubble's node_labels, interface and encrypted fields", () => {
  assert.deepEqual(parseObserveArgs(["--node-label", "topology.kubernetes.io/zone=a", "--interface", "eth0", "--encrypted"]).query.whitelist, [
    { node_labels: ["topology.kubernetes.io/zone=a"], interface: [{ name: "eth0" }], encrypted: [true] },
  ]);
  assert.deepEqual(parseObserveArgs(["--not", "--unencrypted"]).query.blacklist, [{ encrypted: [false] }]);
  assert.throws(() => parseObserveArgs(["--node-label", "a in (b"]), (e: unknown) => e instanceof FilterError && e.field === "--node-label");
  assert.throws(() => parseObserveArgs(["--interface", "eth 0"]), (e: unknown) => e instanceof FilterError && e.field === "--interface");
});

test("HTTP filters with an event type filter that has no l7 entry are refused, as Hubble's server refuses them", async () => {
  const refused: [string[], string, string][] = [
    [["--type", "drop", "--http-status", "200"], "--http-status", "filtering by http status code requires the event type filter to only match 'l7' events"],
    [["--http-method", "GET", "-t", "trace"], "--http-method", "filtering by http method requires the event type filter to only match 'l7' events"],
    [["--type", "policy-verdict", "--http-path", "/api"], "--http-path", "filtering by http path requires the event type filter to only match 'l7' events"],
    [["--type", "drop", "--http-url", "http://x/"], "--http-url", "filtering by http url requires the event type filter to only match 'l7' events"],
    [["--type", "drop", "--http-header", "a:b"], "--http-header", "filtering by http headers requires the event type filter to only match 'l7' events"],
    [["--not", "--type", "drop", "--not", "--http-status", "5+"], "--http-status", "filtering by http status code requires the event type filter to only match 'l7' events"],
    [["--allowlist", '{"event_type":[{"type":1}],"http_status_code":["404"]}'], "--allowlist", "filtering by http status code requires the event type filter to only match 'l7' events"],
  ];
  for (const [args, field, message] of refused) {
    assert.throws(() => parseObserveArgs(args), (e: unknown) => e instanceof FilterError && e.field === field && e.message === `${field}: ${message}`, args.join(" "));
  }
  // l7 among the types is enough (any entry of type 129), no type filter at all, or the two in different lists
  for (const args of [
    ["--type", "l7", "--http-status", "200"],
    ["--type", "drop", "--type", "l7", "--http-status", "200"],
    ["--type", "129", "--http-method", "GET"],
    ["--http-status", "5+"],
    ["--type", "drop", "--not", "--http-status", "500"],
  ]) {
    assert.doesNotThrow(() => parseObserveArgs(args), args.join(" "));
  }
  const r = await observe("--server", NO_SERVER, "--type", "drop", "--http-status", "404");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--http-status: filtering by http status code requires the event type filter to only match 'l7' events/);
});

test("-o tab and -o JSON are hubble's aliases of table and json", async () => {
  const table = await observe("--input-file", EXAMPLES, "-o", "table");
  const tab = await observe("--input-file", EXAMPLES, "-o", "tab");
  assert.equal(tab.code, 0, tab.stderr);
  assert.equal(tab.stdout, table.stdout);
  assert.match(tab.stdout, /^TIMESTAMP {2,}SOURCE/);
  const json = await observe("--input-file", EXAMPLES, "--output=json");
  const JSONout = await observe("--input-file", EXAMPLES, "-oJSON");
  assert.equal(JSONout.code, 0, JSONout.stderr);
  assert.equal(JSONout.stdout, json.stdout);
  // tab is table: refused with --follow as hubble refuses it
  const follow = await observe("--server", NO_SERVER, "-o", "tab", "--follow");
  assert.equal(follow.code, 2);
  assert.match(follow.stderr, /table output format is not compatible with follow mode/);
  const bad = await observe("--input-file", EXAMPLES, "-o", "Json");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--output: expected/);
});

test("namespaces go onto the pods and services of their side as hubble's namespaceModifier puts them; -A means any namespace; contradictions are refused", () => {
  const white = (...args: string[]) => parseObserveArgs(args).query.whitelist;
  // -A: a pod in any namespace (hubble: "/coredns"), and no restriction at all alone
  assert.deepEqual(white("-A", "--pod", "coredns"), [{ source_pod: ["/coredns"] }, { destination_pod: ["/coredns"] }]);
  assert.deepEqual(white("--to-all-namespaces", "--to-pod", "coredns"), [{ destination_pod: ["/coredns"] }]);
  assert.deepEqual(white("-A", "--verdict", "DROPPED"), [{ verdict: ["DROPPED"] }]);
  // a namespace applies to the services of its side, and adds no pod filter beside them
  assert.deepEqual(white("-n", "production", "--service", "postgres"), [{ source_service: ["production/postgres"] }, { destination_service: ["production/postgres"] }]);
  assert.deepEqual(white("--to-namespace", "production", "--to-service", "postgres"), [{ destination_service: ["production/postgres"] }]);
  assert.deepEqual(white("-A", "--service", "postgres"), [{ source_service: ["/postgres"] }, { destination_service: ["/postgres"] }]);
  // without a namespace, a bare service is in "default", as a bare pod is
  assert.deepEqual(white("--service", "postgres"), [{ source_service: ["default/postgres"] }, { destination_service: ["default/postgres"] }]);
  // hubble's checkNamespaceConflicts
  const refused: [string[], string, string][] = [
    [["--pod", "kube-system/coredns", "-n", "production"], "--namespace", 'namespace conflict: "production" does not contain "kube-system/coredns"'],
    [["--to-namespace", "kube-system", "--to-pod", "cilium/foo"], "--to-namespace", 'namespace conflict: "kube-system" does not contain "cilium/foo"'],
    [["-A", "--pod", "kube-system/coredns"], "-A", 'namespace conflict: "" does not contain "kube-system/coredns"'],
    [["--from-service", "cilium/foo", "--from-pod", "kube-system/hubble"], "--from-service", 'namespace of service "cilium/foo" conflicts with pod namespace "kube-system"'],
  ];
  for (const [args, field, message] of refused) {
    assert.throws(() => parseObserveArgs(args), (e: unknown) => e instanceof FilterError && e.field === field && e.message === `${field}: ${message}`, args.join(" "));
  }
  // a namespace that holds the pod, and the other side's namespace, are fine
  assert.deepEqual(white("--pod", "production/api", "-n", "production"), [{ source_pod: ["production/api"] }, { destination_pod: ["production/api"] }]);
  assert.deepEqual(white("--from-namespace", "a", "--to-pod", "b/x"), [{ source_pod: ["a/"], destination_pod: ["b/x"] }]);
});

test("--input-file prints lost_events lines among the flows as hubble's printer does, in every output, unless an allow filter or the time window leaves them out", async () => {
  const dir = tempDir("observe-lost-");
  const file = path.join(dir, "flows.json");
  const flowLine = fs.readFileSync(EXAMPLES, "utf8").split("\n").find((l) => l.startsWith('{"flow"'))!;
  const flowTime = JSON.parse(flowLine).time as string;
  const lost = `{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"5","cpu":{"value":2}},"node_name":"kind-worker","time":"${flowTime}"}`;
  fs.writeFileSync(file, `${flowLine}\n${lost}\n`);
  const run = async (...args: string[]) => {
    const r = await observe("--input-file", file, "--all", ...args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n");
  };
  const compact = await run();
  assert.equal(compact.length, 2);
  assert.equal(compact[1], "EVENTS LOST: HUBBLE_RING_BUFFER CPU(2) 5");
  assert.deepEqual((await run("-o", "dict")).slice(-5), ["------------", "  TIMESTAMP: ", "     SOURCE: HUBBLE_RING_BUFFER", "       TYPE: EVENTS LOST", "    VERDICT: ", "    SUMMARY: CPU(2) - 5"].slice(-5));
  const table = await run("-o", "table");
  assert.match(table[table.length - 1]!, /^\s+HUBBLE_RING_BUFFER\s+EVENTS LOST\s+CPU\(2\) - 5$/);
  assert.deepEqual(JSON.parse((await run("-o", "json"))[1]!), JSON.parse(lost));
  // an allow filter never matches a record without a flow; a deny filter does not exclude one
  assert.equal((await run("--verdict", "FORWARDED", "--verdict", "DROPPED")).filter((l) => l.startsWith("EVENTS LOST")).length, 0);
  assert.equal((await run("--not", "--verdict", "AUDIT")).filter((l) => l.startsWith("EVENTS LOST")).length, 1);
  // the time window applies to them as to flows
  const after = new Date(Date.parse(flowTime) + 1000).toISOString();
  assert.deepEqual(await run("--since", after), [""]);
});

test("--first, --last and --all: hubble's rules (0 is unset) and wording", async () => {
  for (const [args, message] of [
    [["--first", "5", "--last", "5"], "cannot set both --first and --last"],
    [["--first", "5", "--all"], "cannot set both --first and --all"],
    [["--last", "5", "--all"], "cannot set both --last and --all"],
  ] as [string[], string][]) {
    assert.throws(() => parseObserveArgs(args), (e: unknown) => e instanceof FilterError && e.message === message, args.join(" "));
  }
  assert.equal(parseObserveArgs(["--first", "0", "--last", "5"]).query.limit, 5);
  const r = await observe("--server", NO_SERVER, "--first", "2", "--last", "3");
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "observe: cannot set both --first and --last\n");
});

test("--not waits for the next filter flag, whatever comes between, with hubble's errors; --ip-version takes hubble's spellings", () => {
  const q = parseObserveArgs(["--not", "--last", "3", "-o", "json", "--verdict", "FORWARDED"]);
  assert.deepEqual(q.query.blacklist, [{ verdict: ["FORWARDED"] }]);
  assert.deepEqual(q.query.whitelist, []);
  assert.equal(q.query.limit, 3);
  assert.throws(() => parseObserveArgs(["--not", "--not", "--verdict", "DROPPED"]), (e: unknown) => e instanceof FilterError && e.field === "--not" && /consecutive --not statements/.test(e.message));
  assert.throws(() => parseObserveArgs(["--verdict", "DROPPED", "--not"]), (e: unknown) => e instanceof FilterError && /trailing --not found in the arguments/.test(e.message));
  for (const [v, want] of [["4", "IPv4"], ["ip4", "IPv4"], ["IPv4", "IPv4"], ["6", "IPv6"], ["ip6", "IPv6"], ["V6", "IPv6"]] as const) {
    assert.deepEqual(parseObserveArgs(["--ip-version", v]).query.whitelist, [{ ip_version: [want] }], v);
  }
});

test("--since/--until take Go durations with a sign, and 0 for now, as hubble subtracts them from now", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  assert.equal(parseTimeArg("-5m", "--until", now), now + 300_000);
  assert.equal(parseTimeArg("+5m", "--since", now), now - 300_000);
  assert.equal(parseTimeArg("0", "--until", now), now);
  assert.equal(parseTimeArg("1.5h", "--since", now), now - 5_400_000);
  assert.throws(() => parseTimeArg("--5m", "--since", now), FilterError);
});

test("-t takes hubble's recorder type and its agent sub-type names", () => {
  assert.deepEqual(parseObserveArgs(["-t", "recorder"]).query.whitelist, [{ event_type: [{ type: 8 }] }]);
  assert.deepEqual(parseObserveArgs(["-t", "agent:policy-updated"]).query.whitelist, [{ event_type: [{ type: 130, match_sub_type: true, sub_type: 5 }] }]);
  assert.deepEqual(parseObserveArgs(["-t", "agent:endpoint-regenerate-failure"]).query.whitelist, [{ event_type: [{ type: 130, match_sub_type: true, sub_type: 4 }] }]);
  assert.throws(() => parseObserveArgs(["-t", "agent:policy-exploded"]), (e: unknown) => e instanceof FilterError && e.field === "--type" && /unknown sub-type "policy-exploded"/.test(e.message));
});

test("--identity reads numbers as hubble does (Go base 0: hex, octal, binary) besides reserved names", () => {
  for (const [v, want] of [["0x10", 16], ["010", 8], ["0o10", 8], ["0b101", 5], ["16", 16], ["0", 0], ["world", 2]] as const) {
    assert.deepEqual(parseObserveArgs(["--from-identity", v]).query.whitelist, [{ source_identity: [want] }], v);
  }
  assert.throws(() => parseObserveArgs(["--identity", "0xZZ"]), (e: unknown) => e instanceof FilterError && e.field === "--identity");
});

test("--ip-trace-id takes uint64 trace ids whole, ORs repeats and names itself when a value is not one", () => {
  assert.deepEqual(parseObserveArgs(["--ip-trace-id", "12460542740415775846", "--ip-trace-id", "7"]).query.whitelist, [{ ip_trace_id: ["12460542740415775846", "7"] }]);
  assert.deepEqual(parseObserveArgs(["--not", "--ip-trace-id", "0"]).query.blacklist, [{ ip_trace_id: ["0"] }]);
  for (const bad of ["-1", "18446744073709551616", "abc", "1.5"]) {
    assert.throws(() => parseObserveArgs(["--ip-trace-id", bad]), (e: unknown) => e instanceof FilterError && e.field === "--ip-trace-id", bad);
  }
});
