// Bad policy documents are rejected with file, document and field path while the rest load;
// scenario errors name file, line and field; flow records use Hubble's names.
import { test } from "node:test";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tempDir } from "../helpers/tmp";
import { join } from "node:path";
import { makeDatapath, trace, STAR_WARS, P_A1, cnp } from "./helpers";
import { parseScenario, ScenarioError } from "../../server/datapath";
import { lintDatapath } from "../../server/datapath/lint";

const bad = (name: string, spec: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: default }
spec:
${spec}`;

const CASES: [string, string, RegExp][] = [
  ["two-l3", "  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{}]\n    fromCIDR: [10.0.0.0/8]", /spec\.ingress\[0\]: Combining fromEndpoints and fromCIDR/],
  ["icmp-ports", "  endpointSelector: {}\n  ingress:\n  - icmps: [{ fields: [{ type: 8 }] }]\n    toPorts: [{ ports: [{ port: \"80\" }] }]", /ICMPs block may only be present without ToPorts/],
  ["l7-udp", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"80\", protocol: UDP }], rules: { http: [{}] } }]", /spec\.ingress\[0\]\.toPorts\[0\]\.ports\[0\]\.protocol: L7 rules can only apply to TCP/],
  ["l7-port0", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"0\", protocol: TCP }], rules: { http: [{}] } }]", /L7 rules can not be used when a port is 0/],
  ["dns-ingress", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"53\", protocol: UDP }], rules: { dns: [{ matchName: a.com }] } }]", /DNS rules are not allowed on ingress/],
  ["two-l7", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"80\", protocol: TCP }], rules: { http: [{}], kafka: [{}] } }]", /multiple L7 protocol rule types/],
  ["except-outside", "  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{ cidr: 10.0.0.0/8, except: [192.168.0.0/16] }]", /toCIDRSet\[0\]\.except\[0\]: allow CIDR prefix 10\.0\.0\.0\/8 does not contain/],
  ["typo", "  endpointSelector: {}\n  ingress:\n  - fromEndpoint: [{}]", /spec\.ingress\[0\]\.fromEndpoint: unknown field "fromEndpoint" \(did you mean "fromEndpoints"\?\)/],
  ["bad-op", "  endpointSelector: { matchExpressions: [{ key: a, operator: Maybe }] }\n  ingress: [{}]", /operator: must be one of In, NotIn, Exists, DoesNotExist/],
  ["no-selector", "  ingress: [{}]", /spec: one of endpointSelector or nodeSelector is required/],
  ["bad-port", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"99999\" }] }]", /Unable to parse port/],
  ["octal-port", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"08\" }] }]", /spec\.ingress\[0\]\.toPorts\[0\]\.ports\[0\]\.port: Unable to parse port: "08" starts with 0, so it is read as octal/],
  ["deny-l7", "  endpointSelector: {}\n  ingressDeny:\n  - toPorts: [{ ports: [{ port: \"80\" }], rules: { http: [{}] } }]", /unknown field "rules"/],
  ["bad-entity", "  endpointSelector: {}\n  ingress:\n  - fromEntities: [everyone]", /unknown entity "everyone"/],
  ["dns-range", "  endpointSelector: {}\n  egress:\n  - toPorts: [{ ports: [{ port: \"53\", endPort: 60, protocol: UDP }], rules: { dns: [{ matchName: a.com }] } }]", /DNS rules do not support port ranges/],
  ["fqdn-chars", "  endpointSelector: {}\n  egress:\n  - toFQDNs: [{ matchName: \"bad name!\" }]", /contains characters outside/],
  ["aws-groups", "  endpointSelector: {}\n  egress:\n  - toGroups: [{ aws: { securityGroupsIds: [sg-123] } }]", /spec\.egress\[0\]\.toGroups: cloud provider groups \(AWS security groups\) take effect in Cilium only through the derivative policy/],
  ["to-nodes", "  endpointSelector: {}\n  egress:\n  - toNodes: [{ matchLabels: { role: db } }]", /spec\.egress\[0\]\.toNodes\[0\]: ToNodes rules can only be applied when the "enable-node-selector-labels" flag is set/],
  ["from-nodes", "  endpointSelector: {}\n  ingress:\n  - fromNodes: [{ matchLabels: { role: db } }]", /FromNodes rules can only be applied when the "enable-node-selector-labels" flag is set/],
  ["lookahead", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"80\", protocol: TCP }], rules: { http: [{ path: \"/(?!admin).*\" }] } }]", /http\[0\]\.path: invalid regular expression "\/\(\?!admin\)\.\*"/],
  ["sni-l7", "  endpointSelector: {}\n  egress:\n  - toPorts: [{ ports: [{ port: \"443\", protocol: TCP }], serverNames: [a.example.com], rules: { http: [{}] } }]", /serverNames: ServerNames are not allowed with L7 rules without TLS termination/],
  ["cidrset-bare-ip", "  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{ cidr: 1.1.1.1 }]", /toCIDRSet\[0\]\.cidr: "1\.1\.1\.1" is not in <IP address>\/<prefix length> notation/],
  ["except-bare-ip", "  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{ cidr: 10.0.0.0/8, except: [10.1.1.1] }]", /toCIDRSet\[0\]\.except\[0\]: "10\.1\.1\.1" is not in <IP address>\/<prefix length> notation/],
  ["kafka-role", "  endpointSelector: {}\n  ingress:\n  - toPorts: [{ ports: [{ port: \"9092\", protocol: TCP }], rules: { kafka: [{ role: steal }] } }]", /must be "produce" or "consume"/],
];

test("each invalid document is rejected with file, document and field path; valid ones keep working", () => {
  const docs = [P_A1.trim(), ...CASES.map(([n, s]) => bad(n, s).trim())].join("\n---\n");
  const dp = makeDatapath(STAR_WARS, { "mixed.yaml": docs });
  assert.equal(dp.policies().length, 1);
  assert.equal(dp.warnings.length >= CASES.length, true);
  CASES.forEach(([name, , re], i) => {
    const w = dp.warnings.find((x) => x.name === name);
    assert.ok(w, `warning for ${name}`);
    assert.equal(w!.document, i + 2, `${name} document index`);
    assert.match(w!.text, /mixed\.yaml: document \d+ \(CiliumNetworkPolicy default\//);
    assert.match(w!.text, re, name);
    assert.ok(w!.line && w!.line > 1, `${name} has a line`);
  });
  assert.equal(trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80 }).drop_reason_desc, "POLICY_DENIED");
});

test("KNP and document-level errors", () => {
  const dp = makeDatapath(STAR_WARS, {
    "k.yaml": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: k, namespace: default }
spec:
  podSelector: {}
  ingress:
  - from: [{ ipBlock: { cidr: 10.0.0.0/8 }, podSelector: {} }]
---
kind: Deployment
apiVersion: apps/v1
metadata: { name: d }
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: "x" }
spec: [not, an, object
`,
  });
  const texts = dp.warnings.map((w) => w.text).join("\n");
  assert.match(texts, /document 1 \(NetworkPolicy default\/k\).*spec\.ingress\[0\]\.from\[0\]: ipBlock cannot be combined/);
  assert.match(texts, /document 2.*unsupported kind "Deployment"/);
  assert.match(texts, /document 3.*YAML syntax error/);
});

test("a bare address is a CIDR only in toCIDR/fromCIDR: ipBlock and CIDR sets need the prefix length", () => {
  const knp = (cidr: string, except = "") => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: k, namespace: default }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ ipBlock: { cidr: ${cidr}${except ? `, except: [${except}]` : ""} } }]
`;
  const bare = makeDatapath(STAR_WARS, { "k.yaml": knp("8.8.8.8") });
  assert.match(bare.warnings.map((w) => w.text).join("\n"), /ipBlock\.cidr: "8\.8\.8\.8" is not in <IP address>\/<prefix length> notation/);
  assert.equal(bare.policies().length, 0, "the policy is rejected, not enforced");
  const ex = makeDatapath(STAR_WARS, { "k.yaml": knp("8.8.0.0/16", "8.8.8.8") });
  assert.match(ex.warnings.map((w) => w.text).join("\n"), /ipBlock\.except\[0\]: "8\.8\.8\.8" is not in/);
  assert.equal(makeDatapath(STAR_WARS, { "k.yaml": knp("8.8.8.8/32") }).warnings.length, 0);
  const toCidr = makeDatapath(STAR_WARS, { "c.yaml": bad("c", "  endpointSelector: {}\n  egress:\n  - toCIDR: [8.8.8.8]") });
  assert.equal(toCidr.warnings.length, 0, "toCIDR takes a bare address (api.CIDR.Sanitize)");
});

test("scenario validation errors name file, line and field", () => {
  const text = `apiVersion: flowscope/v1
kind: Scenario
workloads:
  - name: web
    namespace: default
    replicas: two
    labelz: { a: b }
traffic:
  - { from: default/nope, to: default/web, port: 80, rate: 1 }
  - { from: default/web, to: default/web, port: 80, rate: 1e300 }
  - { from: default/web, dns: { query: a.example, type: TYPE99999 }, rate: 1 }
`;
  try {
    parseScenario(text, "/tmp/s.yaml");
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof ScenarioError);
    const m = (e as ScenarioError).problems.join("\n");
    assert.match(m, /\/tmp\/s\.yaml:6: workloads\[0\]\.replicas: must be a number/);
    assert.match(m, /\/tmp\/s\.yaml:7: workloads\[0\]\.labelz: unknown field "labelz" \(did you mean "labels"\?\)/);
    assert.match(m, /\/tmp\/s\.yaml:9: traffic\[0\]\.from: unknown workload "default\/nope"/);
    assert.match(m, /traffic\[1\]\.rate: must be ≤ 1000000, got 1e\+300/);
    assert.match(m, /traffic\[2\]\.dns\.type: unknown DNS record type "TYPE99999"/);
  }
});

test("scenario defaults: one node, kube-dns added, deterministic pods and identities", () => {
  const s = parseScenario("apiVersion: flowscope/v1\nkind: Scenario\nworkloads: [{ name: web, namespace: default, labels: { app: web }, replicas: 2 }]\n", "/tmp/x.yaml");
  assert.deepEqual(s.nodes, [{ name: "node-1", ip: "192.168.1.10", labels: {} }]);
  assert.ok(s.workloads.some((w) => w.namespace === "kube-system" && w.labels["k8s-app"] === "kube-dns"));
  const dir = tempDir("validation-");
  const f = join(dir, "s.yaml");
  writeFileSync(f, STAR_WARS);
  const a = makeDatapath(STAR_WARS).endpoints();
  const b = makeDatapath(STAR_WARS).endpoints();
  assert.deepEqual(a.map((e) => [e.pod, e.ip, e.identity, e.id]), b.map((e) => [e.pod, e.ip, e.identity, e.id]));
  assert.ok(a.every((e) => e.identity >= 256 && /^[a-z-]+-[a-z0-9]+-\d+$/.test(e.pod)));
  const web = a.find((e) => e.workload === "tiefighter")!;
  for (const l of ["k8s:org=empire", "k8s:io.kubernetes.pod.namespace=default", "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default", "k8s:io.cilium.k8s.policy.serviceaccount=default", "k8s:io.cilium.k8s.policy.cluster=default"])
    assert.ok(web.labels.includes(l), l);
  // same labels → same identity
  const ds = a.filter((e) => e.workload === "deathstar");
  assert.equal(ds[0].identity, ds[1].identity);
});

test("flow records carry Hubble field names, key order and enum spellings", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": P_A1 });
  const r = trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80 });
  const env = r.flows[0];
  assert.deepEqual(Object.keys(env), ["flow", "node_name", "time"]);
  const keys = Object.keys(env.flow);
  const order = ["time", "uuid", "verdict", "drop_reason", "IP", "l4", "source", "destination", "Type", "node_name", "event_type", "traffic_direction", "drop_reason_desc", "Summary"];
  assert.deepEqual(keys.filter((k) => order.includes(k)), order);
  assert.match(env.flow.time!, /^2024-05-01T10:00:00\.\d{9}Z$/);
  assert.match(env.flow.uuid!, /^[0-9a-f-]{36}$/);
  assert.deepEqual(Object.keys(env.flow.source!), ["ID", "identity", "cluster_name", "namespace", "labels", "pod_name", "workloads"]);
  assert.deepEqual(env.flow.source!.labels, [...env.flow.source!.labels!].sort());
  assert.deepEqual(env.flow.source!.workloads, [{ name: "xwing", kind: "Deployment" }]);
  assert.equal(env.flow.IP!.ipVersion, "IPv4");
  assert.deepEqual(env.flow.l4, { TCP: { source_port: env.flow.l4!.TCP!.source_port, destination_port: 80, flags: { SYN: true } } });
  assert.equal(env.flow.Type, "L3_L4");
  assert.equal(env.flow.Summary, "TCP Flags: SYN");
  const ok = trace(dp, { from: "default/tiefighter", to: "default/deathstar", port: 80 });
  const pv = ok.flows[0].flow;
  assert.equal(pv.is_reply, false);
  assert.deepEqual(Object.keys(pv.ingress_allowed_by![0]), ["name", "namespace", "labels", "revision", "kind"]);
  assert.ok(pv.ingress_allowed_by![0].labels!.includes("k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy"));
});

test("HTTP rules take RE2 syntax, as Cilium compiles them with Go's regexp: (?i) works", () => {
  const dp = makeDatapath(STAR_WARS, { "p.yaml": bad("ci", `  endpointSelector: { matchLabels: { class: deathstar } }
  ingress:
  - toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ method: "(?i)post", path: "/v1/.*" }] } }]`) });
  assert.deepEqual(dp.warnings.map((w) => w.text), []);
  const r = trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "POST", path: "/v1/x" } });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "GET", path: "/v1/x" } }).verdict, "DROPPED");
});

test("an empty L7 list is no L7 policy: the port is a plain L4 allow, not redirected to the proxy", () => {
  for (const rules of ["{ http: [] }", "{ kafka: [] }"]) {
    const dp = makeDatapath(STAR_WARS, { "p.yaml": bad("empty", `  endpointSelector: { matchLabels: { class: deathstar } }
  ingress:
  - toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: ${rules} }]`) });
    assert.deepEqual(dp.warnings.map((w) => w.text), [], rules);
    const r = trace(dp, { from: "default/xwing", to: "default/deathstar", port: 80, protocol: "TCP", http: { method: "DELETE", path: "/anything" } });
    assert.equal(r.verdict, "FORWARDED", rules);
    assert.equal(r.flows.some((f) => f.flow.verdict === "REDIRECTED"), false, `${rules}: no proxy redirect`);
    assert.equal(r.flows.some((f) => f.flow.l7 !== undefined), false, `${rules}: no L7 records`);
  }
});

test("policy paths that are no text file are refused by name, and a wrong value is quoted only in part", async () => {
  const { readTextFile } = await import("../../server/scenario/read-text");
  // /dev/zero never ends: refused before reading
  const dp = makeDatapath(STAR_WARS.replace("services:", "policies: [/dev/zero]\nservices:"));
  assert.match(dp.warnings.map((w) => w.text).join("\n"), /\/dev\/zero: cannot read policy file: not a regular file \(a character device\)/);
  // files under /proc report size 0 but are read, bounded
  assert.throws(() => readTextFile("/proc/self/status", 64), /more than the 64 bytes read/);
  const dir = tempDir("big-");
  // a named pipe with no writer: refused at once, where a blocking open would wait for a writer forever
  const fifo = join(dir, "pipe.yaml");
  execFileSync("mkfifo", [fifo]);
  assert.throws(() => readTextFile(fifo), /not a regular file \(a pipe\)/);
  const big = join(dir, "big.yaml");
  writeFileSync(big, "x".repeat(5000));
  assert.throws(() => readTextFile(big, 4096), /5000 bytes, more than the 4096 read/);
  // a document that is one long string: the message quotes its start, not all of it
  const long = makeDatapath(STAR_WARS, { "p.yaml": `SECRET_START ${"y".repeat(3000)} SECRET_END\n` });
  const text = long.warnings.map((w) => w.text).join("\n");
  assert.match(text, /SECRET_START/);
  assert.doesNotMatch(text, /SECRET_END/);
  assert.match(text, /… \(3024 characters\)/);
});

test("a port with a leading zero is octal, as the agent parses ports with base 0: \"010\" is port 8", () => {
  const dp = makeDatapath(STAR_WARS, {
    "octal.yaml": cnp("octal", "{ org: empire, class: deathstar }", `  ingress:
    - fromEndpoints: [{ matchLabels: { org: empire } }]
      toPorts: [{ ports: [{ port: "010", protocol: TCP }] }]
`),
  });
  assert.deepEqual(dp.warnings, []);
  const to = (port: number) => trace(dp, { from: "default/tiefighter", to: "default/deathstar", port, protocol: "TCP" }).verdict;
  assert.equal(to(8), "FORWARDED");
  assert.equal(to(10), "DROPPED");
  const f = lintDatapath(dp).find((x) => x.policy === "CiliumNetworkPolicy default/octal");
  assert.equal(f?.path, "spec.ingress[0].toPorts[0].ports[0].port");
  assert.match(f!.message, /port "010" has a leading zero, so Cilium reads it as octal: this is port 8, not 10/);
});

test("a cluster past Cilium's endpoint ID range (1..4095) is refused with the count, not probed forever", () => {
  // workloads of at most 1,000 replicas each (the scenario's own bound)
  const scenario = (replicas: number[]) => `
apiVersion: flowscope/v1
kind: Scenario
cluster: { name: default, podCIDR: 10.0.0.0/16 }
nodes: [{ name: node-1, ip: 192.168.1.10 }]
namespaces: [{ name: default }]
workloads:
${replicas.map((r, i) => `  - { name: w${i}, namespace: default, labels: { app: w${i} }, replicas: ${r} }`).join("\n")}
`;
  // the workloads, the kube-dns pod added for DNS and the node's host endpoint
  assert.throws(() => makeDatapath(scenario([1000, 1000, 1000, 1000, 94])), (e: unknown) => e instanceof ScenarioError && /4096 endpoints \(4095 pods and 1 nodes\).*at most 4095/.test(e.problems.join("\n")));
  assert.equal(makeDatapath(scenario([1000, 1000, 1000, 1000, 93])).cluster.pods.length, 4094);
});

test("YAML nested past what the parser can read is reported as that, with its position, not as a stack overflow", () => {
  const dp = makeDatapath(STAR_WARS, { "deep.yaml": `a: ${"[".repeat(5000)}${"]".repeat(5000)}\n` });
  const text = dp.warnings.map((w) => w.text).join("\n");
  assert.match(text, /deep\.yaml: document 1, line 1: YAML syntax error: nested too deeply to read/);
  assert.doesNotMatch(text, /call stack/);
});
