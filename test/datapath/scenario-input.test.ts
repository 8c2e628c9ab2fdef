// Bad scenario and request input is refused with FILE:LINE: PATH: MESSAGE before anything runs
// (scratch/audit-input.md items 1, 2, 5, 6 and 10): L7 request fields a client cannot send, addresses
// with two owners, services Kubernetes refuses, a full pod CIDR, names Kubernetes and Cilium refuse.
// What Kubernetes accepts but cannot work (a selector matching no pod) is a `lint` warning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/tmp";
import { makeDatapath, trace } from "./helpers";
import { parseScenario, ScenarioError } from "../../server/datapath";
import { parseRequestsFile } from "../../server/scenario/load";
import { Cluster } from "../../server/cluster/model";

const FILE = "/tmp/s.yaml";
const BASE = `apiVersion: flowscope/v1
kind: Scenario
nodes:
  - { name: node-1, ip: 192.168.1.10 }
workloads:
  - { name: web, namespace: shop, labels: { app: web }, ports: [{ name: http, port: 8080 }] }
  - { name: client, namespace: shop, labels: { app: client } }
`;

/** the problems of an invalid scenario, one per line */
function problems(text: string): string {
  try {
    parseScenario(text, FILE);
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return (e as ScenarioError).problems.join("\n");
  }
  assert.fail("the scenario should be refused");
}

function requestProblems(text: string): string {
  try {
    parseRequestsFile(text, "r.yaml");
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return (e as ScenarioError).problems.join("\n");
  }
  assert.fail("the requests should be refused");
}

const cli = (cmd: "lint" | "trace", args: string[]) => spawnSync(process.execPath, ["--import", "tsx", `server/cli/commands/${cmd}.ts`, ...args], { encoding: "utf8" });

function writeScenario(text: string): string {
  const f = join(tempDir("scn-input-"), "scenario.yaml");
  writeFileSync(f, text);
  return f;
}

test("L7 request fields a client cannot send are refused with line and field path, not simulated as policy drops", () => {
  const m = requestProblems(`- { from: shop/client, to: shop/web, port: 8080, http: { method: "GE T" } }
- { from: shop/client, to: shop/web, port: 8080, http: { method: "" } }
- { from: shop/client, to: shop/web, port: 8080, http: { headers: { "Bad Header:": v, X-Ok: "a\\r\\nb" } } }
- { from: shop/client, to: shop/web, port: 8080, http: { host: "", path: "/a b" } }
- { from: shop/client, to: shop/web, port: 8080, http: { path: "/caf\\u00e9" } }
- { from: shop/client, to: shop/web, port: 9090, grpc: { service: "", method: "" } }
- { from: shop/client, to: shop/web, port: 9090, grpc: { service: "a/b", method: List } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: produce, apiVersion: 70000, topics: [orders] } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: 99999 } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: bogus } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: produce, apiVersion: 99 } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: produce, topics: [""] } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: apiversions, topics: [orders] } }
- { from: shop/client, dns: { query: "a..b" } }
- { from: shop/client, dns: { query: "${"x".repeat(64)}.com" } }
- { from: shop/client, dns: { query: "${"abcdefgh.".repeat(29)}com" } }
- { from: shop/client, toFQDN: "${"y".repeat(70)}.com", port: 443 }
- { from: shop/client, toFQDN: "a..b", port: 443 }
`);
  const expect: [number, RegExp][] = [
    [1, /r\.yaml:1: \[0\]\.http\.method: "GE T" is not a valid HTTP method: " " is not allowed in an RFC 9110 token/],
    [2, /r\.yaml:2: \[1\]\.http\.method: must not be empty \(leave method out for GET\)/],
    [3, /r\.yaml:3: \[2\]\.http\.headers\.Bad Header:: "Bad Header:" is not a valid HTTP header name/],
    [3, /r\.yaml:3: \[2\]\.http\.headers\.X-Ok: "a\\r\\nb" contains "\\r", which a header value cannot carry/],
    [4, /r\.yaml:4: \[3\]\.http\.host: must not be empty/],
    [4, /r\.yaml:4: \[3\]\.http\.path: "\/a b" contains " "/],
    [5, /r\.yaml:5: \[4\]\.http\.path: "\/café" contains "é", which is not ASCII: percent-encode it \(%C3%A9\)/],
    [6, /r\.yaml:6: \[5\]\.grpc\.service: must not be empty/],
    [6, /r\.yaml:6: \[5\]\.grpc\.method: must not be empty/],
    [7, /r\.yaml:7: \[6\]\.grpc\.service: "a\/b" is not a gRPC service name/],
    [8, /r\.yaml:8: \[7\]\.kafka\.apiVersion: must be ≤ 32767, got 70000/],
    [9, /r\.yaml:9: \[8\]\.kafka\.apiKey: must be 0–32767 \(the request header carries it as int16\), got 99999/],
    [10, /r\.yaml:10: \[9\]\.kafka\.apiKey: unknown apiKey "bogus"/],
    [11, /r\.yaml:11: \[10\]\.kafka\.apiVersion: Produce apiVersion 99 not supported \(0-\d+\)/],
    [12, /r\.yaml:12: \[11\]\.kafka\.topics\[0\]: must not be empty/],
    [13, /r\.yaml:13: \[12\]\.kafka\.topics: apiversions requests carry no topics/],
    [14, /r\.yaml:14: \[13\]\.dns\.query: "a\.\.b" is not a DNS name: it has an empty label/],
    [15, /r\.yaml:15: \[14\]\.dns\.query: .*label "x+" is 64 characters long; a label has at most 63/],
    [16, /r\.yaml:16: \[15\]\.dns\.query: .*is 264 characters long; a DNS name has at most 253/],
    [17, /r\.yaml:17: \[16\]\.toFQDN: .*is 70 characters long; a label has at most 63/],
    [18, /r\.yaml:18: \[17\]\.toFQDN: "a\.\.b" is not a DNS name/],
  ];
  for (const [, re] of expect) assert.match(m, re);
  assert.equal(m.split("\n").length, expect.length, m);

  // what a client does send still passes: defaults where a field is left out, the DNS root, a lower-case method
  const ok = parseRequestsFile(`- { from: shop/client, to: shop/web, port: 8080, http: { path: "/a%20b?q=1" } }
- { from: shop/client, to: shop/web, port: 8080, http: { method: get, host: "web.shop:8080", headers: { X-Trace: "1 2" } } }
- { from: shop/client, to: shop/web, port: 9090, grpc: { service: shop.v1.Items, method: List } }
- { from: shop/client, to: shop/web, port: 9092, kafka: { apiKey: "0", apiVersion: 9, topics: [orders.v1] } }
- { from: shop/client, dns: { query: ".", type: NS } }
- { from: shop/client, dns: { query: "_http._tcp.example.com.", type: SRV } }
`, "ok.yaml");
  assert.equal(ok[0]!.http!.method, "GET");
  // sent as written: HTTP methods are case-sensitive
  assert.equal(ok[1]!.http!.method, "get");
  assert.equal(ok.length, 6);
});

test("a traffic entry with a bad L7 field makes the scenario invalid (lint exit 2); trace flags with bad values exit 2 naming the flag", () => {
  const f = writeScenario(`${BASE}traffic:\n  - { from: shop/client, to: shop/web, port: 8080, http: { method: "GE T" }, rate: 1 }\n`);
  const lint = cli("lint", ["--scenario", f]);
  assert.equal(lint.status, 2, lint.stdout + lint.stderr);
  assert.match(lint.stderr, /scenario\.yaml:9: traffic\[0\]\.http\.method: "GE T" is not a valid HTTP method/);

  const ok = writeScenario(BASE);
  const method = cli("trace", ["--scenario", ok, "--from", "shop/client", "--to", "shop/web", "--port", "8080", "--http-method", "G T"]);
  assert.equal(method.status, 2, method.stdout);
  assert.match(method.stderr, /--http-method: "G T" is not a valid HTTP method/);
  const header = cli("trace", ["--scenario", ok, "--from", "shop/client", "--to", "shop/web", "--port", "8080", "--http-header", "Bad Name: v"]);
  assert.equal(header.status, 2, header.stdout);
  assert.match(header.stderr, /--http-header "Bad Name": "Bad Name" is not a valid HTTP header name/);
  const kafka = cli("trace", ["--scenario", ok, "--from", "shop/client", "--to", "shop/web", "--port", "9092", "--kafka-api-key", "produce", "--kafka-api-version", "70000"]);
  assert.equal(kafka.status, 2, kafka.stdout);
  assert.match(kafka.stderr, /--kafka-api-version: must be ≤ 32767/);
  const dns = cli("trace", ["--scenario", ok, "--from", "shop/client", "--dns-query", "a..b"]);
  assert.equal(dns.status, 2, dns.stdout);
  assert.match(dns.stderr, /--dns-query: "a\.\.b" is not a DNS name/);
});

test("an address has one owner: pods, nodes, the API server and ClusterIPs never share one, and fixed pod IPs come from the pod CIDR", () => {
  const dupPods = problems(`${BASE.replace("ports: [{ name: http, port: 8080 }] }", "ips: [10.0.1.50], ports: [{ name: http, port: 8080 }] }").replace("labels: { app: client } }", "labels: { app: client }, ips: [10.0.1.50] }")}`);
  assert.match(dupPods, /s\.yaml:7: workloads\[1\]\.ips\[0\]: 10\.0\.1\.50 of pod shop\/client-\w+-0 is also the address of pod shop\/web-\w+-0 \(workloads\[0\]\.ips\[0\], line 6\)/);

  const onNode = problems(`${BASE.replace("labels: { app: client } }", "labels: { app: client }, ips: [192.168.1.10] }")}cluster: { podCIDR: 192.168.0.0/16 }\n`);
  assert.match(onNode, /s\.yaml:7: workloads\[1\]\.ips\[0\]: 192\.168\.1\.10 of pod shop\/client-\w+-0 is also the address of node node-1 \(nodes\[0\]\.ip, line 4\)/);

  const outside = problems(BASE.replace("labels: { app: client } }", "labels: { app: client }, ips: [8.8.8.8] }"));
  assert.match(outside, /s\.yaml:7: workloads\[1\]\.ips\[0\]: 8\.8\.8\.8 is outside the pod CIDR 10\.0\.0\.0\/16 \(cluster\.podCIDR\)/);

  const apiServer = problems(`${BASE.replace("labels: { app: client } }", "labels: { app: client }, ips: [10.0.9.9] }")}cluster: { apiServer: { ips: [10.0.9.9] } }\n`);
  assert.match(apiServer, /workloads\[1\]\.ips\[0\]: 10\.0\.9\.9 of pod shop\/client-\w+-0 is also the address of the API server \(cluster\.apiServer\.ips\[0\], line 8\)/);

  const twoServices = problems(`${BASE}services:
  - { name: a, namespace: shop, selector: { app: web }, clusterIP: 10.96.5.5, ports: [{ port: 80, targetPort: 8080 }] }
  - { name: b, namespace: shop, selector: { app: web }, clusterIP: 10.96.5.5, ports: [{ port: 80, targetPort: 8080 }] }
`);
  assert.match(twoServices, /s\.yaml:10: services\[1\]\.clusterIP: 10\.96\.5\.5 of service shop\/b is also the address of service shop\/a \(services\[0\]\.clusterIP, line 9\)/);

  // the first pod of node-1 gets 10.0.1.10
  const onPod = problems(`${BASE}services:\n  - { name: a, namespace: shop, selector: { app: web }, clusterIP: 10.0.1.10, ports: [{ port: 80, targetPort: 8080 }] }\n`);
  assert.match(onPod, /s\.yaml:9: services\[0\]\.clusterIP: 10\.0\.1\.10 of service shop\/a is also the address of pod shop\/web-\w+-0 \(workloads\[0\], line 6\)/);
  const onNodeIp = problems(`${BASE}services:\n  - { name: a, namespace: shop, selector: { app: web }, clusterIP: 192.168.1.10, ports: [{ port: 80, targetPort: 8080 }] }\n`);
  assert.match(onNodeIp, /services\[0\]\.clusterIP: 192\.168\.1\.10 of service shop\/a is also the address of node node-1/);
  // the kube-dns service Flowscope adds: reported where the user can change it
  const onKubeDns = problems(`${BASE}services:\n  - { name: a, namespace: shop, selector: { app: web }, clusterIP: 10.96.0.10, ports: [{ port: 80, targetPort: 8080 }] }\n  - { name: b, namespace: shop, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }\n`);
  assert.match(onKubeDns, /s\.yaml:9: services\[0\]\.clusterIP: 10\.96\.0\.10 of service shop\/a is also the address of service kube-system\/kube-dns \(added by default\)/);

  // the trace that resolved the wrong endpoint is now refused
  const f = writeScenario(`${BASE.replace("ports: [{ name: http, port: 8080 }] }", "ips: [10.0.1.50], ports: [{ name: http, port: 8080 }] }").replace("labels: { app: client } }", "labels: { app: client }, ips: [10.0.1.50] }")}`);
  const t = cli("trace", ["--scenario", f, "--from-ip", "10.0.1.50", "--to", "shop/web", "--port", "8080"]);
  assert.equal(t.status, 2, t.stdout);
  assert.match(t.stderr, /is also the address of pod shop\/web/);
});

test("services Kubernetes refuses, duplicate DNS names, empty address lists and traffic to a port a service lacks are errors", () => {
  const m = problems(`${BASE}services:
  - { name: none, namespace: shop, selector: { app: web }, ports: [] }
  - { name: dup, namespace: shop, selector: { app: web }, ports: [{ name: a, port: 80, targetPort: http }, { name: b, port: 80, targetPort: 8080 }] }
  - { name: unnamed, namespace: shop, selector: { app: web }, ports: [{ port: 80 }, { name: b, port: 81 }] }
  - { name: badtarget, namespace: shop, selector: { app: web }, ports: [{ port: 80, targetPort: "8080" }] }
dns:
  - { name: a.example.com, ips: [] }
  - { name: A.example.com., ips: [1.2.3.4] }
external:
  - { ips: [] }
traffic:
  - { from: shop/client, toService: shop/badtarget, port: 81, rate: 1 }
  - { from: shop/client, to: shop/none, protocol: ICMP, rate: 1 }
`);
  assert.match(m, /s\.yaml:9: services\[0\]\.ports: must list at least one port/);
  assert.match(m, /s\.yaml:10: services\[1\]\.ports\[1\]: duplicate port "80\/TCP"/);
  assert.match(m, /s\.yaml:11: services\[2\]\.ports\[0\]\.name: is required when a service has more than one port/);
  assert.match(m, /s\.yaml:12: services\[3\]\.ports\[0\]\.targetPort: "8080" is neither a port number nor a valid port name/);
  assert.match(m, /s\.yaml:14: dns\[0\]\.ips: must list at least one address/);
  assert.match(m, /s\.yaml:15: dns\[1\]: duplicate name "a\.example\.com"/);
  assert.match(m, /s\.yaml:17: external\[0\]\.ips: must list at least one address/);

  // traffic through a service is checked once the services are valid
  const t = problems(`${BASE}services:
  - { name: web, namespace: shop, selector: { app: web }, ports: [{ port: 80, targetPort: http }] }
traffic:
  - { from: shop/client, toService: shop/web, port: 81, rate: 1 }
  - { from: shop/client, to: shop/web, port: 8080, rate: 1 }
  - { from: shop/client, toService: shop/web, protocol: ICMP, rate: 1 }
`);
  assert.match(t, /s\.yaml:11: traffic\[0\]\.port: service shop\/web has no port 81\/TCP \(its ports: 80\/TCP\)/);
  assert.match(t, /s\.yaml:13: traffic\[2\]\.protocol: service shop\/web does not forward ICMP/);
  assert.doesNotMatch(t, /traffic\[1\]/, "to: a workload of that name goes to the pods");
});

test("what Kubernetes accepts but cannot work is a lint warning with its line: a selector matching no pod, a targetPort name no selected pod declares, an audit namespace that does not exist", () => {
  const text = `${BASE}services:
  - { name: ghost, namespace: shop, selector: { app: ghost }, ports: [{ port: 80 }] }
  - { name: web, namespace: shop, selector: { app: web }, ports: [{ port: 80, targetPort: nosuchport }] }
settings: { policyAuditNamespaces: [ghost] }
`;
  const s = parseScenario(text, FILE);
  const w = (s.warnings ?? []).map((x) => `${x.line}: ${x.path}: ${x.message}`).join("\n");
  assert.match(w, /^9: services\[0\]\.selector: service shop\/ghost selects no pod \(app=ghost in namespace shop\)/m);
  assert.match(w, /^10: services\[1\]\.ports\[0\]\.targetPort: port name "nosuchport" is not declared by shop\/web/m);
  assert.match(w, /^11: settings\.policyAuditNamespaces\[0\]: no namespace "ghost" in this scenario/m);
  assert.equal(s.warnings!.length, 3);

  const f = writeScenario(text);
  const lint = cli("lint", ["--scenario", f]);
  assert.equal(lint.status, 0, lint.stderr);
  assert.match(lint.stdout, /warning: .*scenario\.yaml:9: services\[0\]\.selector: service shop\/ghost selects no pod/);
  assert.match(lint.stdout, /0 errors, 3 warnings/);
  const json = cli("lint", ["--scenario", f, "-o", "json"]);
  const findings = JSON.parse(json.stdout).findings as { level: string; path: string }[];
  assert.ok(findings.some((x) => x.level === "warning" && x.path === "services[1].ports[0].targetPort"));

  // the default scenarios have none
  for (const sc of ["server/scenarios/default/scenario.yaml", "server/scenarios/star-wars/scenario.yaml"]) {
    const r = cli("lint", ["--scenario", sc]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / 0 errors, 0 warnings/, sc);
  }
});

test("a full pod CIDR names cluster.podCIDR and the workload whose replicas did not fit; lint and trace exit 2; a /24 holds pods", () => {
  const text = `${BASE.replace("labels: { app: web },", "labels: { app: web }, replicas: 1000,")}cluster: { podCIDR: 10.0.0.0/24 }\n`;
  assert.match(problems(text), /s\.yaml:6: workloads\[0\]\.replicas: the pod CIDR 10\.0\.0\.0\/24 \(cluster\.podCIDR\) is full: no address is left for replica 241 of 1000 of shop\/web/);
  const f = writeScenario(text);
  for (const cmd of ["lint", "trace"] as const) {
    const r = cli(cmd, cmd === "lint" ? ["--scenario", f] : ["--scenario", f, "--from", "shop/client", "--to", "shop/web", "--port", "8080"]);
    assert.equal(r.status, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /scenario\.yaml:6: workloads\[0\]\.replicas: the pod CIDR 10\.0\.0\.0\/24 \(cluster\.podCIDR\) is full/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  // a /24 is allowed, so it must hold pods: those that fit in no node block come from its first /24
  const small = makeDatapath(`${BASE}cluster: { podCIDR: 10.0.0.0/24 }\n`);
  const ips = small.cluster.pods.map((p) => p.ip);
  assert.deepEqual(ips.slice(0, 2), ["10.0.0.10", "10.0.0.11"]);
  assert.equal(trace(small, { from: "shop/client", to: "shop/web", port: 8080 }).verdict, "FORWARDED");
  // the usual layout is unchanged
  assert.equal(makeDatapath(BASE).cluster.pods[0]!.ip, "10.0.1.10");
  // a scenario built in code gets a ScenarioError, not a bare Error
  const big = parseScenario(`${BASE}cluster: { podCIDR: 10.0.0.0/23 }\n`, FILE);
  assert.throws(() => new Cluster({ ...big, workloads: [{ ...big.workloads[0]!, replicas: 1000 }] }), (e: unknown) => e instanceof ScenarioError && /pod CIDR 10\.0\.0\.0\/23 \(cluster\.podCIDR\) is full/.test((e as Error).message));
});

test("label keys and values, service accounts, the cluster name and audit namespaces follow Kubernetes' and Cilium's rules", () => {
  const m = problems(`apiVersion: flowscope/v1
kind: Scenario
cluster: { name: "Bad Cluster/Name" }
workloads:
  - name: web
    namespace: shop
    labels: { ${"k".repeat(64)}: v, app: ${"v".repeat(64)}, Example.COM/x: y, "/x": y, a/b/c: d }
    serviceAccount: "bad sa!/x"
  - { name: client, namespace: shop, serviceAccount: "" }
settings: { policyAuditNamespaces: ["", "NOT VALID"] }
`);
  assert.match(m, /s\.yaml:3: cluster\.name: "Bad Cluster\/Name" is not a valid Cilium cluster name/);
  assert.match(m, /s\.yaml:7: workloads\[0\]\.labels\.k+: "k+" is not a valid label key: its name part is 64 characters long \(at most 63\)/);
  assert.match(m, /s\.yaml:7: workloads\[0\]\.labels\.app: "v+" is not a valid label value: it is 64 characters long \(at most 63\)/);
  assert.match(m, /workloads\[0\]\.labels\.Example\.COM\/x: "Example\.COM\/x" is not a valid label key: prefix "Example\.COM" is not a DNS subdomain/);
  assert.match(m, /workloads\[0\]\.labels\.\/x: "\/x" is not a valid label key: the prefix before "\/" is empty/);
  assert.match(m, /workloads\[0\]\.labels\.a\/b\/c: "a\/b\/c" is not a valid label key \(/);
  assert.match(m, /s\.yaml:8: workloads\[0\]\.serviceAccount: "bad sa!\/x" is not a valid service account name/);
  assert.match(m, /s\.yaml:9: workloads\[1\]\.serviceAccount: must not be empty/);
  assert.match(m, /s\.yaml:10: settings\.policyAuditNamespaces\[0\]: must not be empty/);
  assert.match(m, /s\.yaml:10: settings\.policyAuditNamespaces\[1\]: "NOT VALID" is not a valid namespace name/);
  assert.match(problems(`apiVersion: flowscope/v1\nkind: Scenario\ncluster: { name: ${"c".repeat(33)} }\n`), /cluster\.name: "c+" is 33 characters long; a Cilium cluster name has at most 32/);
  // valid at the limits
  const ok = parseScenario(`apiVersion: flowscope/v1
kind: Scenario
cluster: { name: ${"c".repeat(32)} }
workloads:
  - { name: web, namespace: shop, serviceAccount: sa.v1-x, labels: { app.kubernetes.io/name: ${"v".repeat(63)}, ${"k".repeat(63)}: "", Tier_1.x: A-b } }
settings: { policyAuditNamespaces: [shop] }
`, FILE);
  assert.equal(ok.workloads[0]!.serviceAccount, "sa.v1-x");
  assert.equal(ok.warnings, undefined);
});

test("toFQDNs and DNS rule names with an empty label, and an HTTP headerMatch without a name, are refused like the CRD refuses them", () => {
  const policy = (name: string, egress: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: shop }
spec:
  endpointSelector: { matchLabels: { app: client } }
  egress:
${egress}`;
  const docs = [
    policy("dots", `  - toFQDNs: [{ matchName: "a..b" }]`),
    policy("root", `  - toFQDNs: [{ matchName: "." }]`),
    policy("pattern", `  - toFQDNs: [{ matchPattern: "*..example.com" }]`),
    policy("dnsrule", `  - toPorts: [{ ports: [{ port: "53", protocol: UDP }], rules: { dns: [{ matchName: ".a" }] } }]`),
    policy("header", `  - toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ headerMatches: [{ name: "" }] }] } }]`),
    policy("fine", `  - toFQDNs: [{ matchName: api.example.com. }, { matchPattern: "*" }, { matchPattern: "**.example.com" }]`),
  ].join("\n---\n");
  const dp = makeDatapath(BASE, { "p.yaml": docs });
  const text = (name: string) => dp.warnings.find((w) => w.name === name)?.text ?? `no warning for ${name}`;
  assert.match(text("dots"), /spec\.egress\[0\]\.toFQDNs\[0\]\.matchName: "a\.\.b" does not match/);
  assert.match(text("root"), /toFQDNs\[0\]\.matchName: "\." does not match/);
  assert.match(text("pattern"), /toFQDNs\[0\]\.matchPattern: "\*\.\.example\.com" does not match/);
  assert.match(text("dnsrule"), /rules\.dns\[0\]\.matchName: "\.a" does not match/);
  assert.match(text("header"), /rules\.http\[0\]\.headerMatches\[0\]\.name: must not be empty/);
  assert.equal(dp.warnings.length, 5, dp.warnings.map((w) => w.text).join("\n"));
  assert.deepEqual(dp.policies().map((p) => p.name), ["fine"]);
});

test("the server started on a scenario: an invalid one exits 2 naming file and line, a suspicious one's warnings are logged", async () => {
  const env = (scenario: string) => ({ ...process.env, FLOWSCOPE_SCENARIO: scenario, FLOWSCOPE_DB: join(tempDir("scn-server-"), "flows.db"), FLOWSCOPE_UI: "0", PORT: "0", HOST: "127.0.0.1" });
  const bad = writeScenario(`${BASE}services:\n  - { name: web, namespace: shop, selector: { app: web }, ports: [] }\n`);
  const failed = spawnSync(process.execPath, ["--import", "tsx", "server/main.ts"], { env: env(bad), encoding: "utf8", timeout: 60_000 });
  assert.equal(failed.status, 2, failed.stderr);
  assert.match(failed.stderr, /flowscope: failed to start: .*scenario\.yaml:9: services\[0\]\.ports/s);
  assert.doesNotMatch(failed.stderr, /\n\s+at /, "no stack trace");

  const suspicious = writeScenario(`${BASE}services:\n  - { name: ghost, namespace: shop, selector: { app: ghost }, ports: [{ port: 80 }] }\n`);
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { env: env(suspicious) });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 60_000;
    while (!/listening/i.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /scenario warning: .*scenario\.yaml:9: services\[0\]\.selector: service shop\/ghost selects no pod/);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
});
