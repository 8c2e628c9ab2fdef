import { test } from "node:test";
import assert from "node:assert/strict";
import { describeEntry, entryFor, splitEntries } from "../../lib/ui/filter-entry";

test("entries in Hubble UI syntax are described for chips", () => {
  assert.deepEqual(describeEntry("!from:ip=10.0.0.1"), { negated: true, direction: "from", kind: "ip", value: "10.0.0.1" });
  assert.deepEqual(describeEntry("to:dns=api.github.com"), { negated: false, direction: "to", kind: "dns", value: "api.github.com" });
  assert.deepEqual(describeEntry("app=frontend"), { negated: false, direction: "either", kind: "label", value: "app=frontend" });
  assert.deepEqual(describeEntry("workload=Deployment/api").kind, "workload");
  assert.deepEqual(describeEntry("policy=CiliumNetworkPolicy/shop/allow").kind, "policy");
});

test("bad entries get an error naming the problem", () => {
  assert.match(describeEntry("identity=abc").error ?? "", /identity/);
  assert.match(describeEntry("ip=10.0.0.999").error ?? "", /10\.0\.0\.999/);
  assert.ok(describeEntry("pod=").error);
  assert.equal(describeEntry("from:pod=shop/frontend").error, undefined);
});

test("typed text splits into terms and clicked values build entries", () => {
  assert.deepEqual(splitEntries("  from:pod=a/x   to:ip=1.2.3.4 "), ["from:pod=a/x", "to:ip=1.2.3.4"]);
  assert.deepEqual(splitEntries(""), []);
  assert.equal(entryFor("label", "k8s:app=api", "to"), "to:label=k8s:app=api");
  assert.equal(entryFor("policy", "CiliumNetworkPolicy/a/b"), "policy=CiliumNetworkPolicy/a/b");
  // what the panel builds must parse
  assert.equal(describeEntry(entryFor("label", "k8s:app=api", "from")).error, undefined);
  assert.equal(describeEntry(entryFor("workload", "Deployment/api", "from")).error, undefined);
});

test("flow attributes and ports are filter kinds too, validated like their URL parameters", () => {
  assert.deepEqual(describeEntry("http_status=5+"), { negated: false, direction: "either", kind: "http_status", value: "5+" });
  assert.deepEqual(describeEntry("!http_method=get"), { negated: true, direction: "either", kind: "http_method", value: "get" });
  assert.deepEqual(describeEntry("to:port=443"), { negated: false, direction: "to", kind: "port", value: "443" });
  assert.match(describeEntry("http_status=9000").error ?? "", /http_status=9000/);
  assert.match(describeEntry("to:protocol=tcp").error ?? "", /protocol terms have no direction/);
  assert.match(describeEntry("type=bogus").error ?? "", /bogus/);
});
