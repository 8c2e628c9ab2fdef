// Policies written for dual-stack clusters name IPv6 prefixes next to IPv4 ones. They are valid Cilium
// policies: they load, their IPv4 parts enforce as usual, and their IPv6 prefixes (which contain no
// address of the IPv4 simulated cluster) match nothing; malformed IPv6 text is rejected by path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cnp, makeDatapath, trace, verdictEvents } from "./helpers";
import { parseCidr, cidrContains } from "../../server/cluster/ip";
import { lintDatapath } from "../../server/datapath/lint";
import { parseScenario } from "../../server/datapath";

const SCN = `apiVersion: flowscope/v1
kind: Scenario
workloads:
  - { name: client, namespace: default, labels: { app: client } }
  - { name: web, namespace: default, labels: { app: web }, ports: [{ name: http, port: 8080, app: http }] }
`;
const OUT = { from: "default/client", toIP: "203.0.113.9", port: 443 };

test("IPv6 prefixes parse to their canonical text, host bits cleared, and never contain IPv4 prefixes", () => {
  const c = (s: string) => {
    const r = parseCidr(s);
    assert.ok(!("error" in r), `${s}: ${"error" in r ? r.error : ""}`);
    return r;
  };
  assert.equal(c("::/0").text, "::/0");
  assert.equal(c("2001:DB8::1/32").text, "2001:db8::/32");
  assert.equal(c("2001:db8:0:0:1:0:0:0/80").text, "2001:db8:0:0:1::/80");
  assert.equal(c("2001:db8:0:0:1:0:0:0/64").text, "2001:db8::/64");
  assert.equal(c("fe80::1").text, "fe80::1/128");
  assert.equal(c("::ffff:10.0.0.1/128").text, "::ffff:a00:1/128");
  assert.ok(cidrContains(c("2001:db8::/32"), c("2001:db8:1::/48")));
  assert.ok(!cidrContains(c("2001:db8::/32"), c("2001:db9::/48")));
  assert.ok(!cidrContains(c("::/0"), c("0.0.0.0/0")));
  assert.ok(!cidrContains(c("0.0.0.0/0"), c("::/0")));
  for (const bad of ["2001:db8::g/32", "fe80::1%eth0/64", "::/129", "2001:db8:::1/64", "1:2:3:4:5:6:7:8:9/64", "::/-1"]) assert.ok("error" in parseCidr(bad), bad);
});

test("a dual-stack toCIDR list loads without rejection and its IPv4 part allows", () => {
  const dp = makeDatapath(SCN, { "p.yaml": cnp("dual", "{ app: client }", `  egress:\n  - toCIDR: ["0.0.0.0/0", "::/0"]`) });
  assert.deepEqual(dp.warnings, []);
  const r = trace(dp, OUT);
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(verdictEvents(r)[0].egress_allowed_by?.[0].name, "dual");
});

test("an IPv6-only CIDR rule enables default deny and matches no IPv4 address", () => {
  const dp = makeDatapath(SCN, {
    "p.yaml": cnp("v6-only", "{ app: client }", `  egress:\n  - toCIDRSet: [{ cidr: "2001:db8::/32", except: ["2001:db8:1::/48"] }]\n  - toCIDR: ["::/0"]`),
  });
  assert.deepEqual(dp.warnings, []);
  const r = trace(dp, OUT);
  assert.equal(r.verdict, "DROPPED");
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.ok(r.explanation.some((l) => l.includes("is an IPv6 prefix and 203.0.113.9 an IPv4 address")), r.explanation.join("\n"));
  const lint = lintDatapath(dp).filter((f) => f.policy?.includes("v6-only"));
  assert.equal(lint.filter((f) => /IPv6 prefix/.test(f.message)).length, 2);
});

test("malformed or mixed-family IPv6 prefixes are rejected with their field path", () => {
  const dp = makeDatapath(SCN, {
    "bad.yaml": cnp("bad", "{ app: client }", `  egress:\n  - toCIDR: ["2001:db8::zz/32"]`),
    "mixed.yaml": cnp("mixed", "{ app: client }", `  egress:\n  - toCIDRSet: [{ cidr: "10.0.0.0/8", except: ["2001:db8::/32"] }]`),
    "outside.yaml": cnp("outside", "{ app: client }", `  egress:\n  - toCIDRSet: [{ cidr: "2001:db8::/32", except: ["2001:db9::/48"] }]`),
  });
  const text = dp.warnings.map((w) => w.text).join("\n");
  assert.match(text, /spec\.egress\[0\]\.toCIDR\[0\]: "2001:db8::zz\/32" is not a valid IPv6 address or CIDR/);
  assert.match(text, /spec\.egress\[0\]\.toCIDRSet\[0\]\.except\[0\]: allow CIDR prefix 10\.0\.0\.0\/8 does not contain exclude CIDR prefix 2001:db8::\/32/);
  assert.match(text, /spec\.egress\[0\]\.toCIDRSet\[0\]\.except\[0\]: allow CIDR prefix 2001:db8::\/32 does not contain exclude CIDR prefix 2001:db9::\/48/);
});

test("a Kubernetes NetworkPolicy ipBlock may be IPv6; the pod CIDR may not", () => {
  const knp = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: v6-block, namespace: default }
spec:
  podSelector: { matchLabels: { app: client } }
  policyTypes: [Egress]
  egress:
  - to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0", except: ["fd00::/8"] } }]
`;
  const dp = makeDatapath(SCN, { "knp.yaml": knp });
  assert.deepEqual(dp.warnings, []);
  assert.equal(trace(dp, OUT).verdict, "FORWARDED");
  assert.throws(() => parseScenario(SCN.replace("kind: Scenario", "kind: Scenario\ncluster: { podCIDR: fd00::/64 }"), "/tmp/s.yaml"), /cluster\.podCIDR.*IPv4/);
});
