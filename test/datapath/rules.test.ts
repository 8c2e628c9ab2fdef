// One case per rule of §1–2 of policy-semantics.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace, verdictEvents, NOW } from "./helpers";
import { lintDatapath } from "../../server/datapath/lint";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
cluster: { name: c1, podCIDR: 10.0.0.0/16 }
nodes: [{ name: node-1, ip: 192.168.1.10 }, { name: node-2, ip: 192.168.1.11 }]
namespaces: [{ name: default }, { name: other, labels: { team: x } }]
workloads:
  - { name: web, namespace: default, labels: { app: web }, node: node-1, ports: [{ name: http, port: 8080, app: http }] }
  - { name: client, namespace: default, labels: { app: client }, node: node-1 }
  - { name: tagged, namespace: default, labels: { app: client, env: dev }, node: node-1 }
  - { name: client, namespace: other, labels: { app: client }, node: node-2 }
  - { name: agent, namespace: default, labels: { app: agent }, hostNetwork: true, node: node-2 }
dns:
  - { name: api.example.com, ips: [93.184.216.34], ttl: 60 }
  - { name: evil.example.org, ips: [198.51.100.66], ttl: 60 }
`;
const webIngress = (body: string, name = "p") => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name}, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: web } }
${body}`;
const clientEgress = (body: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: client-egress, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: client } }
${body}`;

test("entities: host, remote-node, world, cluster", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - fromEntities: [remote-node]") }, {});
  // local host is allowed by allowLocalhost: always; node-2 is remote-node
  assert.equal(trace(dp, { from: { ip: "192.168.1.10" }, to: "default/web", port: 8080 }).verdict, "FORWARDED");
  const r = trace(dp, { from: { ip: "192.168.1.11" }, to: "default/web", port: 8080 });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(verdictEvents(r)[0].source?.identity, 6);
  assert.equal(trace(dp, { from: "default/agent", to: "default/web", port: 8080 }).verdict, "FORWARDED"); // hostNetwork pod on node-2
  assert.equal(trace(dp, { from: { ip: "8.8.8.8" }, to: "default/web", port: 8080 }).drop_reason_desc, "POLICY_DENIED");
  const cl = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - fromEntities: [cluster]") });
  assert.equal(trace(cl, { from: "other/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(cl, { from: { ip: "8.8.8.8" }, to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  const w = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - fromEntities: [world]") });
  assert.equal(trace(w, { from: { ip: "8.8.8.8" }, to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(w, { from: "default/client", to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
});

test("allowLocalhost: policy subjects host traffic to policy", () => {
  const dp = makeDatapath(SCN.replace("cluster:", "settings: { allowLocalhost: policy }\ncluster:"), { "p.yaml": webIngress("  ingress:\n  - fromEntities: [world]") });
  assert.equal(trace(dp, { from: { ip: "192.168.1.10" }, to: "default/web", port: 8080 }).drop_reason_desc, "POLICY_DENIED");
});

test("allowLocalhost: always is an allow entry for the host that a covering deny still beats, with a policy verdict", () => {
  const dp = makeDatapath(SCN, {
    "p.yaml": webIngress("  ingress:\n  - fromEntities: [world]\n  ingressDeny:\n  - fromEntities: [host]\n    toPorts: [{ ports: [{ port: \"9090\", protocol: TCP }] }]"),
  });
  const ok = trace(dp, { from: { ip: "192.168.1.10" }, to: "default/web", port: 8080 });
  assert.equal(ok.verdict, "FORWARDED");
  const [pv] = verdictEvents(ok);
  assert.ok(pv, "an enforced endpoint logs the host's packets as policy verdicts too");
  assert.equal(pv!.verdict, "FORWARDED");
  assert.equal(pv!.policy_match_type, 1, "the allow-localhost entry is L3-only");
  // no policy allowed it: Hubble's correlation lists the map entry's own derived-from label
  assert.deepEqual(pv!.ingress_allowed_by, [{ labels: ["reserved:io.cilium.policy.derived-from=allow-localhost-ingress"], revision: String(dp.revision()) }]);
  const denied = trace(dp, { from: { ip: "192.168.1.10" }, to: "default/web", port: 9090 });
  assert.equal(denied.verdict, "DROPPED");
  assert.equal(denied.drop_reason_desc, "POLICY_DENY");
  assert.equal(verdictEvents(denied)[0]!.ingress_denied_by?.[0]?.name, "p");
  // remote nodes get no such entry
  assert.equal(trace(dp, { from: { ip: "192.168.1.11" }, to: "default/web", port: 8080 }).drop_reason_desc, "POLICY_DENIED");
  // an endpoint no ingress policy selects: no lookup, no verdict event
  const open = trace(dp, { from: { ip: "192.168.1.10" }, to: "default/client", port: 80 });
  assert.equal(open.verdict, "FORWARDED");
  assert.equal(verdictEvents(open).length, 0);
});

test("fromRequires narrows the allow peers of every rule selecting the endpoint, and never its deny peers", () => {
  const dp = makeDatapath(SCN, {
    "p.yaml": webIngress(`  ingress:
  - fromRequires: [{ matchLabels: { env: dev } }]
  - fromEndpoints: [{ matchLabels: { app: client } }]
  ingressDeny:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "9090", protocol: TCP }] }]`),
  });
  // app=client alone no longer suffices: the requirement env=dev is ANDed into the allow
  const unmet = trace(dp, { from: "default/client", to: "default/web", port: 8080 });
  assert.equal(unmet.drop_reason_desc, "POLICY_DENIED");
  assert.match(unmet.explanation.join("\n"), /selects the peer, but it does not meet fromRequires .*env.*dev/, "the explanation names the unmet requirement");
  assert.equal(trace(dp, { from: "default/tagged", to: "default/web", port: 8080 }).verdict, "FORWARDED");
  // the deny keeps its own selector: it still matches the client that lacks env=dev
  const denied = trace(dp, { from: "default/client", to: "default/web", port: 9090 });
  assert.equal(denied.drop_reason_desc, "POLICY_DENY");
  assert.equal(trace(dp, { from: "default/tagged", to: "default/web", port: 9090 }).drop_reason_desc, "POLICY_DENY");
  // and a requirement written in a deny rule narrows only the deny peers
  const dd = makeDatapath(SCN, {
    "p.yaml": webIngress(`  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
  ingressDeny:
  - fromRequires: [{ matchLabels: { env: dev } }]
  - fromEndpoints: [{ matchLabels: { app: client } }]`),
  });
  assert.equal(trace(dd, { from: "default/client", to: "default/web", port: 8080 }).verdict, "FORWARDED");
  assert.equal(trace(dd, { from: "default/tagged", to: "default/web", port: 8080 }).drop_reason_desc, "POLICY_DENY");
});

test("an endPort below port is accepted and enforces the single port, and lint says so", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:
  - toPorts: [{ ports: [{ port: "8080", endPort: 70, protocol: TCP }] }]`) });
  assert.equal(dp.warnings.length, 0, JSON.stringify(dp.warnings));
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 8080 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 70 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 8081 }).drop_reason_desc, "POLICY_DENIED");
  const findings = lintDatapath(dp);
  assert.ok(findings.some((f) => f.path === "spec.ingress[0].toPorts[0].ports[0].endPort" && /enforces port 8080 alone/.test(f.message)), JSON.stringify(findings));
});

test("world-ipv4 selects nothing in a single-stack cluster (outside addresses are reserved:world there), and lint says so", () => {
  const dp = makeDatapath(SCN, { "p.yaml": clientEgress("  egress:\n  - toEntities: [world-ipv4]") });
  const r = trace(dp, { from: "default/client", toIP: "8.8.8.8", port: 443 });
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.equal(verdictEvents(r)[0]!.destination?.identity, 2);
  assert.ok(lintDatapath(dp).some((f) => /world-ipv4 entity selects only reserved:world-ipv4/.test(f.message)));
  const world = makeDatapath(SCN, { "p.yaml": clientEgress("  egress:\n  - toEntities: [world]") });
  assert.equal(trace(world, { from: "default/client", toIP: "8.8.8.8", port: 443 }).verdict, "FORWARDED");
});

test("an egress named port resolves against every pod's named ports (Cilium 1.17), whatever peers the rule selects", () => {
  const scn = SCN.replace("workloads:", `workloads:
  - { name: alt, namespace: other, labels: { app: alt }, node: node-2, ports: [{ name: http, port: 9090, app: http }]}`);
  // web declares http=8080, alt declares http=9090: the name is ambiguous in the cluster, so no entry,
  // even for a rule that selects web alone
  const toWeb = makeDatapath(scn, { "p.yaml": clientEgress("  egress:\n  - toEndpoints: [{ matchLabels: { app: web } }]\n    toPorts: [{ ports: [{ port: http }] }]") });
  const r = trace(toWeb, { from: "default/client", to: "default/web", port: 8080 });
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.ok(r.explanation.some((l) => /declared as 8080\/TCP, 9090\/TCP by different pods/.test(l)), r.explanation.join("\n"));
  const anyone = makeDatapath(scn, { "p.yaml": clientEgress("  egress:\n  - toPorts: [{ ports: [{ port: http }] }]") });
  assert.equal(trace(anyone, { from: "default/client", to: "other/alt", port: 9090 }).drop_reason_desc, "POLICY_DENIED");
  // a name only web declares is 8080 for every peer, also one that does not declare it
  const unique = makeDatapath(SCN, { "p.yaml": clientEgress("  egress:\n  - toEndpoints: [{ matchLabels: { env: dev } }]\n    toPorts: [{ ports: [{ port: http }] }]") });
  assert.equal(trace(unique, { from: "default/client", to: "default/tagged", port: 8080 }).verdict, "FORWARDED");
  assert.equal(trace(unique, { from: "default/client", to: "default/tagged", port: 9090 }).verdict, "DROPPED");
});

test("protocol ANY (or none) covers TCP, UDP and SCTP", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:\n  - toPorts: [{ ports: [{ port: "5000" }] }]\n  - toPorts: [{ ports: [{ port: "5001", protocol: ANY }] }]`) });
  for (const port of [5000, 5001]) {
    for (const protocol of ["TCP", "UDP", "SCTP"] as const) {
      const r = trace(dp, { from: "default/client", to: "default/web", port, protocol });
      assert.equal(r.verdict, "FORWARDED", `${port}/${protocol}`);
      assert.equal(verdictEvents(r)[0]!.policy_match_type, 3, "L4-Only");
    }
  }
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 5002, protocol: "SCTP" }).drop_reason_desc, "POLICY_DENIED");
});

test("a CNP subject's k8s: namespace key is replaced by the policy's namespace; an unprefixed one stays and is ANDed", () => {
  const web = (key: string) => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: p, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: web, ${key}: other } }
  ingress: [{}]`;
  // k8s: — overridden by the policy's namespace, so default/web is selected (and denies everything)
  const k8s = makeDatapath(SCN, { "p.yaml": web("k8s:io.kubernetes.pod.namespace") });
  assert.equal(trace(k8s, { from: "default/client", to: "default/web", port: 8080 }).drop_reason_desc, "POLICY_DENIED");
  // unprefixed (any:) — kept: namespace must be both default and other, so the policy selects nothing
  const anyKey = makeDatapath(SCN, { "p.yaml": web("io.kubernetes.pod.namespace") });
  const r = trace(anyKey, { from: "default/client", to: "default/web", port: 8080 });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(verdictEvents(r).length, 0, "no policy selects web");
});

test("toServices k8sServiceSelector selects services by their own labels (and namespace)", () => {
  const scn = `${SCN}
services:
  - { name: web, namespace: default, labels: { exposure: public }, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
  - { name: tagged, namespace: default, labels: { exposure: internal }, selector: { env: dev }, ports: [{ port: 81, targetPort: 81 }] }
`;
  const egress = (sel: string) => clientEgress(`  egress:\n  - toServices: [{ k8sServiceSelector: { selector: ${sel} } }]`);
  const pub = makeDatapath(scn, { "p.yaml": egress("{ matchLabels: { exposure: public } }") });
  assert.equal(pub.warnings.length, 0, JSON.stringify(pub.warnings));
  assert.equal(trace(pub, { from: "default/client", toService: "default/web", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(pub, { from: "default/client", toService: "default/tagged", port: 81 }).drop_reason_desc, "POLICY_DENIED");
  const none = makeDatapath(scn, { "p.yaml": egress("{ matchLabels: { exposure: secret } }") });
  assert.equal(trace(none, { from: "default/client", toService: "default/web", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.throws(() => makeDatapath(SCN + "\nservices:\n  - { name: x, namespace: default, labels: { \"bad key!\": v }, selector: { app: web }, ports: [{ port: 80 }] }\n", {}), /services\[0\]\.labels/);
});

test("toServices with toPorts (accepted since Cilium 1.17): the ports apply to the backends after translation", () => {
  const scn = `${SCN}
services:
  - { name: web, namespace: default, selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8080 }, { name: admin, port: 81, targetPort: 9090 }] }
`;
  const dp = makeDatapath(scn, {
    "p.yaml": clientEgress(`  egress:
  - toServices: [{ k8sService: { serviceName: web, namespace: default } }]
    toPorts: [{ ports: [{ port: "8080", protocol: TCP }] }]`),
  });
  assert.equal(dp.warnings.length, 0, JSON.stringify(dp.warnings));
  assert.equal(trace(dp, { from: "default/client", toService: "default/web", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", toService: "default/web", port: 81 }).drop_reason_desc, "POLICY_DENIED", "backend port 9090 is not in toPorts");
  assert.equal(trace(dp, { from: "default/client", toIP: "1.1.1.1", port: 8080 }).drop_reason_desc, "POLICY_DENIED", "not a backend");
});

test("toFQDNs carries any L7 rules, Kafka among them", () => {
  const dp = makeDatapath(SCN, {
    "p.yaml": clientEgress(`  egress:
  - toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
  - toFQDNs: [{ matchName: api.example.com }]
    toPorts: [{ ports: [{ port: "9092", protocol: TCP }], rules: { kafka: [{ role: produce, topic: t1 }] } }]`),
  });
  assert.equal(dp.warnings.length, 0, JSON.stringify(dp.warnings));
  assert.equal(trace(dp, { from: "default/client", toFQDN: "api.example.com", port: 443 }).drop_reason_desc, "POLICY_DENIED");
  const produce = trace(dp, { from: "default/client", toFQDN: "api.example.com", port: 9092, kafka: { apiKey: "produce", topics: ["t1"] } });
  assert.equal(produce.verdict, "FORWARDED");
  const fetch = trace(dp, { from: "default/client", toFQDN: "api.example.com", port: 9092, kafka: { apiKey: "fetch", topics: ["t1"] } });
  assert.equal(fetch.verdict, "DROPPED");
  assert.equal(fetch.l7_denied, true);
});

test("CIDR rules: except, LPM identities, never matching pods", () => {
  const dp = makeDatapath(SCN, { "p.yaml": clientEgress(`  egress:
  - toCIDRSet: [{ cidr: 10.0.0.0/8, except: [10.10.0.0/16] }]
  - toCIDR: [0.0.0.0/0]
    toPorts: [{ ports: [{ port: "53", protocol: UDP }] }]`) });
  assert.equal(trace(dp, { from: "default/client", toIP: "10.20.0.1", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", toIP: "10.10.0.1", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, { from: "default/client", toIP: "9.9.9.9", port: 53, protocol: "UDP" }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", toIP: "10.10.0.1", port: 53, protocol: "UDP" }).verdict, "FORWARDED");
  const r = trace(dp, { from: "default/client", to: "default/web", port: 80 });
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.ok(r.explanation.some((l) => l.includes("never matches cluster pods")));
  const ids = dp.identities().filter((i) => i.kind === "cidr");
  assert.ok(ids.every((i) => i.id >= 16777217 && i.labels.includes("reserved:world")));
});

test("named ports (ingress resolves on the destination), endPort ranges, ANY protocol", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: http }, { port: "9000", endPort: 9010, protocol: TCP }, { port: "53" }] }]`) });
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 8080 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 9005 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 9011 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 53, protocol: "UDP" }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 53, protocol: "TCP" }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 9005, protocol: "UDP" }).drop_reason_desc, "POLICY_DENIED");
});

test("ICMP: icmps rules, and L4 rules block ICMP while L3-only allows it", () => {
  const icmp = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - fromEndpoints: [{}]\n    icmps: [{ fields: [{ type: EchoRequest, family: IPv4 }] }]") });
  assert.equal(trace(icmp, { from: "default/client", to: "default/web", protocol: "ICMP", icmpType: 8 }).verdict, "FORWARDED");
  assert.equal(trace(icmp, { from: "default/client", to: "default/web", protocol: "ICMP", icmpType: 13 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(icmp, { from: "default/client", to: "default/web", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  const l4 = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - toPorts: [{ ports: [{ port: \"80\" }] }]") });
  assert.equal(trace(l4, { from: "default/client", to: "default/web", protocol: "ICMP" }).drop_reason_desc, "POLICY_DENIED");
  const l3 = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - fromEndpoints: [{ matchLabels: { app: client } }]") });
  const r = trace(l3, { from: "default/client", to: "default/web", protocol: "ICMP" });
  assert.equal(r.verdict, "FORWARDED");
  assert.equal(verdictEvents(r)[0].policy_match_type, 1);
});

test("implied namespace: CNP fromEndpoints {} means this namespace; CCNP {} means all pods but no reserved identities", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - fromEndpoints: [{}]") });
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "other/client", to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  const cc = makeDatapath(SCN, { "p.yaml": `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: all-pods }
spec:
  endpointSelector: { matchLabels: { app: web } }
  ingress: [{ fromEndpoints: [{}] }]
` });
  assert.equal(trace(cc, { from: "other/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(cc, { from: { ip: "8.8.8.8" }, to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(cc, { from: { ip: "192.168.1.11" }, to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  // a CNP subject is always its own namespace, even with endpointSelector {}
  const other = makeDatapath(SCN, { "p.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: lock, namespace: other }
spec: { endpointSelector: {}, ingress: [{}] }
` });
  assert.equal(trace(other, { from: "default/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(other, { from: "default/client", to: "other/client", port: 1 }).drop_reason_desc, "POLICY_DENIED");
});

test("NotIn on an absent label selects; DoesNotExist; source prefixes", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:
  - fromEndpoints:
    - matchExpressions: [{ key: env, operator: NotIn, values: [dev] }, { key: k8s:app, operator: In, values: [client] }]`) });
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "default/tagged", to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  const dne = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:
  - fromEndpoints: [{ matchExpressions: [{ key: env, operator: DoesNotExist }] }]`) });
  assert.equal(trace(dne, { from: "default/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
  assert.equal(trace(dne, { from: "default/tagged", to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  const reserved = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:\n  - fromEndpoints: [{ matchLabels: { "reserved:world": "" } }]`) });
  assert.equal(trace(reserved, { from: { ip: "8.8.8.8" }, to: "default/web", port: 1 }).verdict, "FORWARDED");
});

test("egress needs an allow at the source, then ingress at the destination", () => {
  const dp = makeDatapath(SCN, { "e.yaml": clientEgress("  egress:\n  - toEndpoints: [{ matchLabels: { app: other } }]") });
  const r = trace(dp, { from: "default/client", to: "default/web", port: 8080 });
  assert.equal(r.egress?.verdict, "DROPPED");
  assert.equal(r.ingress, undefined);
  assert.equal(verdictEvents(r)[0].traffic_direction, "EGRESS");
});

test("replies of allowed connections pass (connection tracking); a new connection back is checked", () => {
  const dp = makeDatapath(SCN, { "p.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: lock-all, namespace: default }
spec:
  endpointSelector: {}
  ingress: [{ fromEndpoints: [{ matchLabels: { app: client } }] }]
` });
  const r = trace(dp, { from: "default/client", to: "default/web", port: 8080 });
  assert.equal(r.verdict, "FORWARDED");
  const reply = r.flows.find((f) => f.flow.is_reply === true && f.flow.event_type?.type === 4);
  assert.ok(reply, "reply delivered");
  assert.equal(reply!.flow.IP?.source, r.flows[0].flow.IP?.destination);
  assert.deepEqual(reply!.flow.l4?.TCP?.flags, { SYN: true, ACK: true });
  assert.equal(dp.connections().length, 1);
  assert.equal(trace(dp, { from: "default/web", to: "default/client", port: 40000 }).drop_reason_desc, "POLICY_DENIED");
});

test("policyEnforcementMode always and never", () => {
  const always = makeDatapath(SCN.replace("cluster:", "settings: { policyEnforcementMode: always }\ncluster:"));
  assert.equal(trace(always, { from: "default/client", to: "default/web", port: 1 }).drop_reason_desc, "POLICY_DENIED");
  const never = makeDatapath(SCN.replace("cluster:", "settings: { policyEnforcementMode: never }\ncluster:"), { "p.yaml": webIngress("  ingress: [{}]") });
  assert.equal(trace(never, { from: "default/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
});

test("enableDefaultDeny false: allows added without default deny", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress("  enableDefaultDeny: { ingress: false }\n  ingress:\n  - fromEndpoints: [{ matchLabels: { app: client } }]\n    toPorts: [{ ports: [{ port: \"8080\", protocol: TCP }] }]") });
  const r = trace(dp, { from: "other/client", to: "default/web", port: 9 });
  assert.equal(r.verdict, "FORWARDED");
  // Cilium still enforces the direction, through a wildcard allow-all of its own: packets are looked up
  // and logged as policy verdicts matching "all", named by the entry's derived-from label only
  const [pv] = verdictEvents(r);
  assert.equal(pv?.verdict, "FORWARDED");
  assert.equal(pv?.policy_match_type, 4);
  assert.deepEqual(pv?.ingress_allowed_by, [{ labels: ["reserved:io.cilium.policy.derived-from=allow-any-ingress"], revision: String(dp.revision()) }]);
  assert.equal(dp.endpoints().find((e) => e.workload === "web")!.policyEnabled.ingress, true);
  // the policy's own allow still decides its traffic
  assert.equal(verdictEvents(trace(dp, { from: "default/client", to: "default/web", port: 8080 }))[0]?.ingress_allowed_by?.[0]?.name, "p");
  // a deny still wins over the implicit allow-all
  const dd = makeDatapath(SCN, { "p.yaml": webIngress("  enableDefaultDeny: { ingress: false }\n  ingressDeny:\n  - fromEndpoints: [{ matchLabels: { app: client } }]") });
  assert.equal(trace(dd, { from: "default/client", to: "default/web", port: 8080 }).drop_reason_desc, "POLICY_DENY");
  assert.equal(trace(dd, { from: { ip: "8.8.8.8" }, to: "default/web", port: 8080 }).verdict, "FORWARDED");
});

test("toFQDNs: learns only from allowed DNS through the proxy, drops IPs never resolved", () => {
  const dns = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: fqdn, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: client } }
  egress:
  - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*.example.com" }] } }]
  - toFQDNs: [{ matchPattern: "*.example.com" }]
    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
`;
  const dp = makeDatapath(SCN, { "p.yaml": dns });
  const before = trace(dp, { from: "default/client", toIP: "93.184.216.34", port: 443 });
  assert.equal(before.drop_reason_desc, "POLICY_DENIED");
  const r = trace(dp, { from: "default/client", toFQDN: "api.example.com", port: 443 });
  assert.equal(r.verdict, "FORWARDED");
  assert.ok(r.flows.some((f) => f.flow.l7?.dns));
  assert.equal(dp.fqdnCache()[0].name, "api.example.com");
  const direct = trace(dp, { from: "default/client", toIP: "93.184.216.34", port: 443 });
  assert.equal(direct.verdict, "FORWARDED");
  assert.deepEqual(verdictEvents(direct)[0].destination_names, ["api.example.com"]);
  const refused = trace(dp, { from: "default/client", toFQDN: "evil.example.org", port: 443 });
  assert.equal(refused.verdict, "DROPPED");
  assert.equal(refused.l7_denied, true);
  assert.equal(refused.response?.dns_rcode, "REFUSED");
  // TTL expiry forgets the IP
  const later = dp.process({ from: "default/client", toIP: "93.184.216.34", port: 443 }, new Date("2024-05-01T11:00:00Z"));
  assert.equal(later.drop_reason_desc, "POLICY_DENIED");

  // ... once the DNS garbage collector runs (every 60 s): an IP whose TTL ran out between two runs stays allowed until the next
  const gc = makeDatapath(SCN, { "p.yaml": dns });
  const at = (s: number) => new Date(NOW.getTime() + s * 1000);
  const toIp = { from: "default/client", toIP: "93.184.216.34", port: 443 };
  gc.process(toIp, at(0)); // the collector's first run is a minute after the first request
  assert.equal(gc.process({ from: "default/client", toFQDN: "api.example.com", port: 443 }, at(30)).verdict, "FORWARDED"); // TTL 60 s: expires at 90 s
  assert.equal(gc.process(toIp, at(61)).verdict, "FORWARDED", "collector ran at 61 s: not expired yet");
  assert.equal(gc.process(toIp, at(100)).verdict, "FORWARDED", "expired at 90 s, but the collector does not run again before 121 s");
  assert.equal(gc.process(toIp, at(122)).drop_reason_desc, "POLICY_DENIED", "collected");
});

test("policy changes bump the revision and recompile only selected endpoints", () => {
  const dp = makeDatapath(SCN);
  const r0 = dp.revision();
  const { applied, warnings } = dp.upsertPolicyYaml(webIngress("  ingress: [{}]", "lock"), "api");
  assert.equal(warnings.length, 0);
  assert.equal(applied[0].selectedEndpoints.length, 1);
  assert.ok(dp.revision() > r0);
  const r = trace(dp, { from: "default/client", to: "default/web", port: 1 });
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.equal((r.flows[0].flow.extensions as { default_deny_by?: { revision?: string }[] }).default_deny_by?.[0].revision, String(dp.revision()));
  assert.equal(dp.deletePolicy("CiliumNetworkPolicy", "default", "lock"), true);
  assert.equal(trace(dp, { from: "default/client", to: "default/web", port: 1 }).verdict, "FORWARDED");
});

test("an explicit empty peer list selects no peer (Cilium 1.15+), where a missing one selects every peer", () => {
  const cases: [string, string][] = [
    ["fromCIDR", "  ingress:\n  - fromCIDR: []\n    toPorts: [{ ports: [{ port: \"8080\" }] }]"],
    ["fromEndpoints", "  ingress:\n  - fromEndpoints: []\n    toPorts: [{ ports: [{ port: \"8080\" }] }]"],
    ["fromEntities", "  ingress:\n  - fromEntities: []"],
    ["fromCIDRSet", "  ingress:\n  - fromCIDRSet: []\n    toPorts: [{ ports: [{ port: \"8080\" }] }]"],
  ];
  for (const [field, body] of cases) {
    const dp = makeDatapath(SCN, { "p.yaml": webIngress(body) });
    const r = trace(dp, { from: "default/client", to: "default/web", port: 8080 });
    assert.equal(r.verdict, "DROPPED", `${field}: []: the policy still puts web in default deny, and allows no one`);
    assert.equal(r.flows.find((f) => f.flow.verdict === "DROPPED")?.flow.drop_reason_desc, "POLICY_DENIED");
    assert.match(r.explanation.join("\n"), new RegExp(`${field} is an empty list`), `${field}: the explanation says why the rule did not apply`);
    const lint = lintDatapath(dp).map((f) => f.message).join("\n");
    assert.match(lint, new RegExp(`empty ${field} list selects no peer`));
  }
  // the same rule without the field: an L4-only allow from every peer, outside ones included
  const l4 = makeDatapath(SCN, { "p.yaml": webIngress("  ingress:\n  - toPorts: [{ ports: [{ port: \"8080\" }] }]") });
  assert.equal(trace(l4, { from: "default/client", to: "default/web", port: 8080 }).verdict, "FORWARDED");
  assert.equal(trace(l4, { from: { ip: "8.8.8.8" }, to: "default/web", port: 8080 }).verdict, "FORWARDED");
  // egress: toEndpoints: [] + port allows nothing (not every destination on 443)
  const eg = makeDatapath(SCN, { "p.yaml": clientEgress("  egress:\n  - toEndpoints: []\n    toPorts: [{ ports: [{ port: \"443\" }] }]") });
  assert.equal(trace(eg, { from: "default/client", toIP: "93.184.216.34", port: 443 }).verdict, "DROPPED");
  // a deny rule with an empty list denies nothing
  const deny = makeDatapath(SCN, {
    "p.yaml": webIngress("  ingress:\n  - fromEndpoints: [{}]\n  ingressDeny:\n  - fromEndpoints: []\n    toPorts: [{ ports: [{ port: \"8080\", protocol: TCP }] }]"),
  });
  const d = trace(deny, { from: "default/client", to: "default/web", port: 8080 });
  assert.equal(d.verdict, "FORWARDED", "the empty deny rule matches no peer");
  // toFQDNs and toServices are not among them: their empty list is "not set"
  const fq = makeDatapath(SCN, { "p.yaml": clientEgress("  egress:\n  - toFQDNs: []\n    toPorts: [{ ports: [{ port: \"443\" }] }]") });
  assert.equal(trace(fq, { from: "default/client", toIP: "93.184.216.34", port: 443 }).verdict, "FORWARDED");
});

test("an API server outside the nodes has a CIDR identity labelled kube-apiserver: world, CIDR and kube-apiserver rules all select it", () => {
  const scn = SCN.replace("cluster: { name: c1, podCIDR: 10.0.0.0/16 }", "cluster: { name: c1, podCIDR: 10.0.0.0/16, apiServer: { ips: [172.16.0.5], port: 443 } }");
  const egress = (peer: string) => makeDatapath(scn, { "p.yaml": clientEgress(`  egress:\n  - ${peer}\n    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]`) });
  const toApi = (dp: ReturnType<typeof makeDatapath>) => trace(dp, { from: "default/client", toIP: "172.16.0.5", port: 443 });
  const w = toApi(egress("toEntities: [world]"));
  assert.equal(w.verdict, "FORWARDED", "world selects it: Cilium gives it cidr and reserved:world labels");
  const dst = w.flows[0]!.flow.destination!;
  const ident = dst.identity ?? 0;
  assert.ok(ident >= 16777217, `a local CIDR identity, not 7 (got ${ident})`);
  assert.deepEqual(dst.labels, ["cidr:172.16.0.5/32", "reserved:kube-apiserver", "reserved:world"]);
  assert.equal(toApi(egress("toCIDR: [172.16.0.0/12]")).verdict, "FORWARDED");
  assert.equal(toApi(egress("toEntities: [kube-apiserver]")).verdict, "FORWARDED");
  assert.equal(toApi(egress("toEntities: [cluster]")).verdict, "FORWARDED", "the cluster entity includes reserved:kube-apiserver");
  assert.equal(toApi(egress("toEntities: [remote-node]")).verdict, "DROPPED", "it is no node");
  // another outside address is world but not kube-apiserver
  assert.equal(trace(egress("toEntities: [kube-apiserver]"), { from: "default/client", toIP: "172.16.0.6", port: 443 }).verdict, "DROPPED");
});

test("the HTTP Host is the name the client dialed: an IP literal stays an IP even when the FQDN cache knows a name for it", () => {
  const dp = makeDatapath(SCN, {
    "p.yaml": clientEgress(`  egress:
  - toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns } }]
    toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
  - toFQDNs: [{ matchName: api.example.com }]
    toPorts: [{ ports: [{ port: "80", protocol: TCP }], rules: { http: [{ host: "api\\\\.example\\\\.com" }] } }]`),
  });
  const urlOf = (r: ReturnType<typeof trace>) => r.flows.find((f) => f.flow.l7?.type === "REQUEST" && f.flow.l7.http)?.flow.l7?.http?.url;
  const byName = trace(dp, { from: "default/client", toFQDN: "api.example.com", port: 80, http: { method: "GET", path: "/x" } });
  assert.equal(urlOf(byName), "http://api.example.com/x");
  assert.equal(byName.verdict, "FORWARDED");
  // the IP is now in the FQDN cache (and selected by toFQDNs), but this client dials it directly
  const byIp = trace(dp, { from: "default/client", toIP: "93.184.216.34", port: 80, http: { method: "GET", path: "/x" } });
  assert.equal(urlOf(byIp), "http://93.184.216.34/x");
  assert.equal(byIp.response?.http_code, 403, "the host rule refuses a request whose Host is the bare IP");
  const explicit = trace(dp, { from: "default/client", toIP: "93.184.216.34", port: 80, http: { method: "GET", path: "/x", host: "api.example.com" } });
  assert.equal(explicit.verdict, "FORWARDED", "an explicit host is sent as given");
});

test("the host of a node running the API server is identity 1 with reserved:kube-apiserver among its labels; elsewhere it is 7", () => {
  const scn = SCN.replace("cluster: { name: c1, podCIDR: 10.0.0.0/16 }", "cluster: { name: c1, podCIDR: 10.0.0.0/16, apiServer: { ips: [192.168.1.10] } }");
  const dp = makeDatapath(scn);
  const local = trace(dp, { from: "default/client", toIP: "192.168.1.10", port: 6443 });
  const localDst = local.flows[0]!.flow.destination!;
  assert.equal(localDst.identity, 1);
  assert.deepEqual(localDst.labels, ["reserved:host", "reserved:kube-apiserver"]);
  const remote = trace(dp, { from: "other/client", toIP: "192.168.1.10", port: 6443 });
  const remoteDst = remote.flows[0]!.flow.destination!;
  assert.equal(remoteDst.identity, 7);
  assert.deepEqual(remoteDst.labels, ["reserved:kube-apiserver", "reserved:remote-node"]);
  // a node without the API server keeps the host's own labels
  const plain = trace(dp, { from: "other/client", toIP: "192.168.1.11", port: 22 });
  assert.deepEqual(plain.flows[0]!.flow.destination!.labels, ["reserved:host"]);
});

test("records carry the packet's MACs and the device a trace was taken at, as bpf_lxc sees them", () => {
  const dp = makeDatapath(SCN, { "p.yaml": webIngress(`  ingress:
  - fromEndpoints: [{ matchLabels: { app: client } }]
    toPorts: [{ ports: [{ port: "8080", protocol: TCP }], rules: { http: [{ method: GET }] } }]`) });
  const r = trace(dp, { from: "default/client", to: "default/web", port: 8080, http: { method: "GET", path: "/" } });
  const at = (type: number, point?: string, dir?: string) => r.flows.map((f) => f.flow).find((f) => f.event_type?.type === type && f.trace_observation_point === point && (dir === undefined || f.traffic_direction === dir))!;
  const verdict = at(5, undefined, "INGRESS");
  const delivered = at(4, "TO_ENDPOINT", "INGRESS");
  const reply = at(4, "TO_ENDPOINT", "EGRESS");
  const mac = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
  for (const f of [verdict, delivered, reply]) {
    assert.match(f.ethernet!.source!, mac);
    assert.match(f.ethernet!.destination!, mac);
    // locally administered unicast, like the MACs Cilium gives veths
    assert.equal(parseInt(f.ethernet!.source!.slice(0, 2), 16) & 0x03, 0x02);
  }
  // delivered to web: from web's lxc to web's eth0; the reply reaches the client's eth0 from its lxc
  assert.deepEqual(verdict.ethernet, delivered.ethernet);
  assert.match(delivered.interface!.name!, /^lxc[0-9a-f]{12}$/);
  assert.notEqual(delivered.interface!.name, reply.interface!.name);
  assert.notDeepEqual(reply.ethernet, delivered.ethernet);
  // L7 records come from the proxy, which sees no frames
  for (const f of r.flows.map((x) => x.flow).filter((f) => f.event_type?.type === 129)) assert.equal(f.ethernet, undefined);
  // the same pod keeps its MACs and interface from request to request (the second request rides the
  // ingress proxy's pooled connection to web, which shows no packet within 5 s: compared at the client)
  const again = trace(dp, { from: "default/client", to: "default/web", port: 8080, http: { method: "GET", path: "/" } });
  const againReply = again.flows.map((f) => f.flow).find((f) => f.trace_observation_point === "TO_ENDPOINT" && f.traffic_direction === "EGRESS")!;
  assert.deepEqual(againReply.interface, reply.interface);
  assert.deepEqual(againReply.ethernet, reply.ethernet);
});

test("default/kubernetes fronts the API server: pods reach it at 10.96.0.1:443, policy sees the API server's address and port", () => {
  const outside = SCN.replace("cluster: { name: c1, podCIDR: 10.0.0.0/16 }", "cluster: { name: c1, podCIDR: 10.0.0.0/16, apiServer: { ips: [172.20.0.10], port: 6443 } }");
  const egress = (body: string) => ({ "p.yaml": clientEgress(`  egress:\n${body}`) });
  const dp = makeDatapath(outside, egress(`  - toEntities: [kube-apiserver]\n    toPorts: [{ ports: [{ port: "6443", protocol: TCP }] }]`));
  const r = trace(dp, { from: "default/client", toService: "default/kubernetes", port: 443 });
  assert.equal(r.verdict, "FORWARDED", r.explanation.join("\n"));
  const v = verdictEvents(r)[0]!;
  assert.equal(v.IP?.destination, "172.20.0.10");
  assert.equal(v.l4?.TCP?.destination_port, 6443);
  assert.ok(v.destination?.labels?.includes("reserved:kube-apiserver"));
  assert.equal(v.destination_service, undefined, "the socket load balancer translated it: no packet carries the frontend");
  // the same by address and by name
  assert.equal(trace(dp, { from: "default/client", toIP: "10.96.0.1", port: 443 }).verdict, "FORWARDED");
  const byName = trace(makeDatapath(outside), { from: "default/client", toFQDN: "kubernetes.default.svc.cluster.local", port: 443 });
  assert.equal(byName.request.resolved_ip, "10.96.0.1");
  assert.equal(byName.verdict, "FORWARDED");
  // with no policy loaded at all, the API server is still its own identity, not world
  const unpoliced = trace(makeDatapath(outside), { from: "default/client", toService: "default/kubernetes", port: 443 });
  assert.ok(unpoliced.flows[0]!.flow.destination?.labels?.includes("reserved:kube-apiserver"), JSON.stringify(unpoliced.flows[0]!.flow.destination));
  // a rule on the service port, 443, is not what policy sees
  const wrongPort = makeDatapath(outside, egress(`  - toEntities: [kube-apiserver]\n    toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]`));
  assert.equal(trace(wrongPort, { from: "default/client", toService: "default/kubernetes", port: 443 }).drop_reason_desc, "POLICY_DENIED");
  // on a node: that node's host is the backend (kube-apiserver, 7, from elsewhere)
  const onNode = makeDatapath(SCN.replace("cluster: { name: c1, podCIDR: 10.0.0.0/16 }", "cluster: { name: c1, podCIDR: 10.0.0.0/16, apiServer: { ips: [192.168.1.11] } }"));
  const fromNode1 = trace(onNode, { from: "default/client", toService: "default/kubernetes", port: 443 });
  assert.equal(fromNode1.flows[0]!.flow.destination?.identity, 7);
  assert.equal(fromNode1.flows[0]!.flow.l4?.TCP?.destination_port, 6443);
  // no apiServer in the scenario: no such service
  assert.throws(() => trace(makeDatapath(SCN), { from: "default/client", toService: "default/kubernetes", port: 443 }), /unknown service/);
});

test("toServices on default/kubernetes is CIDR rules for the API server's addresses: an outside API server is allowed, one on a node is not (lint says why)", () => {
  const policy = { "p.yaml": clientEgress(`  egress:\n  - toServices: [{ k8sService: { serviceName: kubernetes, namespace: default } }]`) };
  const outside = makeDatapath(SCN.replace("cluster: { name: c1, podCIDR: 10.0.0.0/16 }", "cluster: { name: c1, podCIDR: 10.0.0.0/16, apiServer: { ips: [172.20.0.10], port: 6443 } }"), policy);
  assert.equal(trace(outside, { from: "default/client", toService: "default/kubernetes", port: 443 }).verdict, "FORWARDED");
  assert.equal(trace(outside, { from: "default/client", toIP: "172.20.0.11", port: 6443 }).drop_reason_desc, "POLICY_DENIED", "only its endpoints' addresses");
  assert.ok(!lintDatapath(outside).some((f) => f.path.endsWith("toServices[0]")));
  const onNode = makeDatapath(SCN.replace("cluster: { name: c1, podCIDR: 10.0.0.0/16 }", "cluster: { name: c1, podCIDR: 10.0.0.0/16, apiServer: { ips: [192.168.1.11] } }"), policy);
  assert.equal(trace(onNode, { from: "default/client", toService: "default/kubernetes", port: 443 }).drop_reason_desc, "POLICY_DENIED");
  assert.ok(lintDatapath(onNode).some((f) => f.path.endsWith("toServices[0]") && /node address.*kube-apiserver/.test(f.message)), JSON.stringify(lintDatapath(onNode)));
});

test("toServices on a Service with a selector is that selector against identity labels: a filtered-out label selects nothing", () => {
  const scn = `${SCN.replace("  - { name: web, namespace: default, labels: { app: web }", "  - { name: web, namespace: default, labels: { app: web, pod-template-hash: h1 }")}
services:
  - { name: by-app, namespace: default, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
  - { name: by-hash, namespace: default, selector: { pod-template-hash: h1 }, ports: [{ port: 80, targetPort: 8080 }] }
`;
  const to = (svc: string) => ({ "p.yaml": clientEgress(`  egress:\n  - toServices: [{ k8sService: { serviceName: ${svc}, namespace: default } }]`) });
  assert.equal(trace(makeDatapath(scn, to("by-app")), { from: "default/client", toService: "default/by-app", port: 80 }).verdict, "FORWARDED");
  // Kubernetes still sends by-hash's traffic to web, but Cilium's generated selector cannot match the hash
  assert.equal(trace(makeDatapath(scn, to("by-hash")), { from: "default/client", toService: "default/by-hash", port: 80 }).drop_reason_desc, "POLICY_DENIED");
});
