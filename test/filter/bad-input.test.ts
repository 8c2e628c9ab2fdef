// The filter model refuses bad input where it is parsed, naming the parameter or flag: out-of-range
// times, a bad snat_ip, `in ()` label sets, and single-valued parameters given twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTimeArg, MAX_TIME_MS, MIN_TIME_MS } from "../../lib/filter/time";
import { fromSearchParams } from "../../lib/filter/parse-params";
import { parseObserveArgs } from "../../lib/filter/parse-cli";
import { parseLabelSelector } from "../../lib/filter/labels";
import { FilterError } from "../../lib/filter/types";

function throwsField(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof FilterError && e.field === field && (!message || message.test(e.message)), field);
}

test("times outside what RFC 3339 and a Date can hold are refused, naming the field", () => {
  const now = Date.parse("2024-05-01T10:00:00Z");
  for (const bad of ["99999999999999999999", "300000000000000", "99999999999999999999h", "9".repeat(400) + "ms", "999999999d"]) {
    throwsField(() => parseTimeArg(bad, "until", now), "until", /out of range/);
  }
  throwsField(() => parseTimeArg(1e20, "since", now), "since", /out of range/);
  throwsField(() => parseTimeArg("9999-12-31T23:59:59-01:00", "until", now), "until", /out of range/);
  // the edges themselves are fine
  assert.equal(parseTimeArg(String(MAX_TIME_MS), "until", now), MAX_TIME_MS);
  assert.equal(parseTimeArg("9999-12-31T23:59:59.999Z", "until", now), MAX_TIME_MS);
  assert.equal(parseTimeArg(MIN_TIME_MS, "since", now), MIN_TIME_MS);
  assert.equal(parseTimeArg("5m", "since", now), now - 300_000);
  // every parser takes the check: URL parameters and observe flags name what was typed
  throwsField(() => fromSearchParams("until=99999999999999999999"), "until");
  throwsField(() => fromSearchParams("since=99999999999999999999h"), "since");
  throwsField(() => parseObserveArgs(["--since", "99999999999999999999"]), "--since", /out of range/);
});

test("snat_ip is checked as an IP or CIDR where it is parsed", () => {
  throwsField(() => fromSearchParams("snat_ip=bad"), "snat_ip", /invalid IP/);
  throwsField(() => fromSearchParams("not.snat_ip=10.0.0.0/99"), "not.snat_ip", /prefix length/);
  throwsField(() => parseObserveArgs(["--snat-ip", "bad"]), "--snat-ip", /invalid IP/);
  assert.deepEqual(fromSearchParams("snat_ip=10.0.0.1").whitelist, [{ source_ip_xlated: ["10.0.0.1"] }]);
});

test("a label set with no values is refused, as Kubernetes refuses it", () => {
  throwsField(() => parseLabelSelector("a in ()", "label"), "label", /"in" needs at least one value/);
  throwsField(() => parseLabelSelector("k8s:a notin ( )", "to_label"), "to_label", /"notin" needs at least one value/);
  throwsField(() => fromSearchParams(`label=${encodeURIComponent("a in ()")}`), "label");
  assert.deepEqual(parseLabelSelector("a in (x)", "label"), [{ source: undefined, key: "a", op: "in", values: ["x"] }]);
});

test("single-valued parameters given twice are refused, naming them; repeated filters still OR", () => {
  for (const q of ["limit=1&limit=abc", "cursor=5&cursor=abc", "order=asc&order=bogus", "first=true&first=false", "since=5m&since=1h", "until=1m&until=2m"]) {
    throwsField(() => fromSearchParams(q), q.split("=")[0]!, /more than once/);
  }
  assert.equal(fromSearchParams("verdict=DROPPED&verdict=FORWARDED").whitelist.length, 1);
  assert.equal(fromSearchParams("limit=5").limit, 5);
});
