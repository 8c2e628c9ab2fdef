// The Prometheus registry: label values from traffic are made safe, cut and escaped in the text format,
// counts add up per printed label set, and the number of series is capped with the rest folded into
// `other` and counted in flowscope_metrics_series_overflow_total.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { labelValue, MAX_LABEL_VALUE_LENGTH, MAX_SERIES, Registry } from "../../server/metrics/prometheus";

test("counters add per label set and label values are escaped when rendered", () => {
  const r = new Registry();
  const c = r.counter("t_total", "help text", ["a", "b"]);
  c.inc(["x", "y"]);
  c.inc(["x", "y"], 2);
  c.inc(['q"uote', "back\\slash\nnewline"]);
  const text = r.render();
  assert.match(text, /^# HELP t_total help text$/m);
  assert.match(text, /^# TYPE t_total counter$/m);
  assert.match(text, /^t_total\{a="x",b="y"\} 3$/m);
  assert.ok(text.includes('t_total{a="q\\"uote",b="back\\\\slash\\nnewline"} 1'), text);
});

test("label sets that differ only in a separator-like character stay distinct", () => {
  const r = new Registry();
  const c = r.counter("s_total", "h", ["a", "b"]);
  c.inc(["x", "y"]);
  c.inc(["x\u0000y", ""]);
  c.inc(["a\u0000b", "c"]);
  c.inc(["a", "b\u0000c"]);
  assert.equal(r.render().split("\n").filter((l) => l.startsWith("s_total{")).length, 4);
});

test("beyond the series cap new label sets are counted under other", () => {
  const r = new Registry();
  const c = r.counter("cap_total", "h", ["k"]);
  for (let i = 0; i < 2100; i++) c.inc([`v${i}`]);
  const lines = r.render().split("\n").filter((l) => l.startsWith("cap_total{"));
  assert.equal(lines.length, 2001);
  assert.ok(lines.includes('cap_total{k="other"} 100'), lines.slice(-2).join(" | "));
});

// --- untrusted label values: memory bound, duplicate collapse, control characters, overflow ---

function seriesLines(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(name + "{") || l.startsWith(name + " "));
}

function labelSetOf(line: string): string {
  return line.slice(0, line.lastIndexOf(" "));
}

test("a series stores at most the cut label values, however long the raw values are", () => {
  const r = new Registry();
  const c = r.counter("long_total", "h", ["a", "b"]);
  const tail = "z".repeat(100_000);
  for (let i = 0; i < 50; i++) c.inc([`${i}-${tail}`, tail + i]);
  assert.equal(c.size, 50);
  // keys and stored values: 2 labels of at most MAX_LABEL_VALUE_LENGTH each (plus a separator), twice
  assert.ok(c.storedChars <= 50 * 2 * (2 * MAX_LABEL_VALUE_LENGTH + 1), `${c.storedChars} characters held for 50 series`);
  for (const values of c.labelSets()) {
    assert.equal(values.length, 2);
    for (const v of values) assert.ok(v.length <= MAX_LABEL_VALUE_LENGTH, `stored a ${v.length}-character value`);
  }
  for (const line of seriesLines(r.render(), "long_total")) assert.ok(line.length < 2 * MAX_LABEL_VALUE_LENGTH + 100, `a ${line.length}-character line`);
});

test("heap held by series is bounded by the cut values, not the raw ones", () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const r = new Registry();
  const c = r.counter("heap_total", "h", ["v"]);
  const big = "q".repeat(500_000);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) c.inc([`${i}:${big}`]); // 200 raw values of 500 KB: 100 MB if kept
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(c.size, 200);
  assert.ok(grown < 20 * 1024 * 1024, `heap grew by ${Math.round(grown / 1024 / 1024)} MB for 200 series`);
});

test("raw values that are equal once cut are one series and their counts add up", () => {
  const r = new Registry();
  const c = r.counter("flowscope_l7_requests_total", "h", ["protocol", "method"]);
  const prefix = "DUPMETRIC" + "Z".repeat(400);
  c.inc(["http", prefix + "A"]);
  c.inc(["http", prefix + "B"], 2);
  c.inc(["http", prefix + "C".repeat(10_000)], 4);
  const lines = seriesLines(r.render(), "flowscope_l7_requests_total");
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.ok(lines[0].endsWith(" 7"), lines[0]);
  assert.equal(c.size, 1);
});

test("no two rendered series of a metric have the same label set", () => {
  const r = new Registry();
  const c = r.counter("uniq_total", "h", ["a", "b"]);
  const long = "x".repeat(MAX_LABEL_VALUE_LENGTH);
  const raw = [long, long + "1", long + "2", "\u001b", "\\u001B", "\u0000", "\\u0000", "\ud800", "\\uD800", "x\u0000y", "\n", "\\n", "other"];
  for (const a of raw) for (const b of raw) c.inc([a, b]);
  c.inc(["only one value"]);
  c.inc(["one", "two", "three"]);
  const sets = seriesLines(r.render(), "uniq_total").map(labelSetOf);
  assert.equal(new Set(sets).size, sets.length, "duplicate label sets rendered");
  let total = 0;
  for (const l of seriesLines(r.render(), "uniq_total")) total += Number(l.slice(l.lastIndexOf(" ") + 1));
  assert.equal(total, raw.length * raw.length + 2);
});

test("control characters and lone surrogates are written as \\uXXXX text, never raw", () => {
  const r = new Registry();
  const c = r.counter("ctl_total", "h", ["v"]);
  c.inc(["a\rb\u0000c\u001bd\te\u007ff\u0085g\u2028h\ud800i\udc00j\u{1F600}k\"l\\m\nn"]);
  const text = r.render();
  const line = seriesLines(text, "ctl_total")[0];
  assert.equal(
    line,
    'ctl_total{v="a\\\\u000Db\\\\u0000c\\\\u001Bd\\\\u0009e\\\\u007Ff\\\\u0085g\\\\u2028h\\\\uD800i\\\\uDC00j\u{1F600}k\\"l\\\\m\\nn"} 1',
  );
  // the whole exposition: printable text and line feeds only, and valid UTF-16 (so valid UTF-8 on the wire)
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
  assert.doesNotMatch(text, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
});

test("values are made safe before they are cut, and the cut splits neither an escape nor a surrogate pair", () => {
  const esc = labelValue("\u001b".repeat(1000));
  assert.equal(esc, "\\u001B".repeat(Math.floor(MAX_LABEL_VALUE_LENGTH / 6)));
  const pair = labelValue("a".repeat(MAX_LABEL_VALUE_LENGTH - 1) + "\u{1F600}");
  assert.equal(pair, "a".repeat(MAX_LABEL_VALUE_LENGTH - 1));
  assert.equal(labelValue("x".repeat(MAX_LABEL_VALUE_LENGTH)), "x".repeat(MAX_LABEL_VALUE_LENGTH));
  assert.equal(labelValue("GET"), "GET");
  // a control character past the cut has no effect: the same series as without it
  assert.equal(labelValue("y".repeat(300) + "\u0000"), "y".repeat(MAX_LABEL_VALUE_LENGTH));
});

test("the series cap holds for every label, and overflow is counted in its own metric", () => {
  const r = new Registry();
  const c = r.counter("flood_total", "h", ["method", "ns"]);
  const quiet = r.counter("quiet_total", "h", ["k"]);
  quiet.inc(["a"]);
  for (let i = 0; i < MAX_SERIES + 500; i++) c.inc([`M${i}`, "x".repeat(1000) + i]);
  c.inc(["M0", "x".repeat(1000) + 0]); // an existing series still counts as itself
  assert.equal(c.size, MAX_SERIES + 1);
  assert.equal(c.overflows, 500);
  const text = r.render();
  assert.ok(text.includes('flood_total{method="other",ns="other"} 500'), text.slice(-400));
  assert.match(text, /^# TYPE flowscope_metrics_series_overflow_total counter$/m);
  assert.match(text, /^flowscope_metrics_series_overflow_total\{metric="flood_total"\} 500$/m);
  assert.match(text, /^flowscope_metrics_series_overflow_total\{metric="quiet_total"\} 0$/m);
  for (const values of c.labelSets()) for (const v of values) assert.ok(v.length <= MAX_LABEL_VALUE_LENGTH);
});
