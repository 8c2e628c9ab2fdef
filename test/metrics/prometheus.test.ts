// The Prometheus registry: label values from traffic are escaped in the text format, counts add up
// per label set, and the number of series is capped with the rest folded into `other`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "../../server/metrics/prometheus";

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
