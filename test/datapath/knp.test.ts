// §4.F of policy-semantics.md: Kubernetes NetworkPolicy translation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, trace } from "./helpers";

const SCN = `
apiVersion: flowscope/v1
kind: Scenario
namespaces:
  - { name: myns, labels: { project: myproject } }
  - { name: default }
  - { name: bob, labels: { user: bob } }
  - { name: alice, labels: { user: alice } }
  - { name: prod, labels: { component: redis, tier: cache, environment: production } }
  - { name: dev, labels: { component: redis, tier: cache, environment: dev } }
  - { name: nolabel, labels: { component: redis, tier: cache } }
  - { name: other }
workloads:
  - { name: frontend, namespace: myns, labels: { role: frontend } }
  - { name: backend, namespace: myns, labels: { role: backend } }
  - { name: inventory, namespace: myns, labels: { app: inventory } }
  - { name: db1, namespace: myns, labels: { app: db1 } }
  - { name: db2, namespace: myns, labels: { app: db2 } }
  - { name: frontend, namespace: default, labels: { role: frontend } }
  - { name: client, namespace: bob, labels: { app: client } }
  - { name: client, namespace: alice, labels: { app: client } }
  - { name: client, namespace: prod, labels: { app: client } }
  - { name: client, namespace: dev, labels: { app: client } }
  - { name: client, namespace: nolabel, labels: { app: client } }
  - { name: frontend, namespace: other, labels: { role: frontend } }
  - { name: redis, namespace: default, labels: { app: redis } }
`;
const knp = (name: string, ns: string, spec: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec}`;

test("F1–F3: podSelector peers imply the policy namespace", () => {
  const dp = makeDatapath(SCN, { "a.yaml": knp("allow-frontend", "myns", `  podSelector: { matchLabels: { role: backend } }
  ingress:
  - from: [{ podSelector: { matchLabels: { role: frontend } } }]
    ports: [{ protocol: TCP, port: 6379 }]`) });
  const r1 = trace(dp, { from: "myns/frontend", to: "myns/backend", port: 6379 });
  assert.equal(r1.verdict, "FORWARDED");
  assert.equal(r1.ingress?.allowed_by[0].kind, "NetworkPolicy");
  const r2 = trace(dp, { from: "default/frontend", to: "myns/backend", port: 6379 });
  assert.equal(r2.drop_reason_desc, "POLICY_DENIED");
  assert.ok(r2.explanation.some((l) => l.includes("wrong namespace")));
  assert.equal(trace(dp, { from: "myns/frontend", to: "myns/backend", port: 6380 }).drop_reason_desc, "POLICY_DENIED");
});

test("F4–F6: namespaceSelector and a ports-only rule", () => {
  const dp = makeDatapath(SCN, { "a.yaml": knp("allow-tcp-443", "default", `  podSelector: { matchLabels: { role: frontend } }
  ingress:
  - from: [{ namespaceSelector: { matchLabels: { user: bob } } }]
    ports: [{ protocol: TCP, port: 443 }]
  - ports: [{ protocol: UDP, port: 8080 }]`) });
  assert.equal(trace(dp, { from: "bob/client", to: "default/frontend", port: 443 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "bob/client", to: "default/frontend", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, { from: "alice/client", to: "default/frontend", port: 8080, protocol: "UDP" }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: { ip: "8.8.8.8" }, to: "default/frontend", port: 8080, protocol: "UDP" }).verdict, "FORWARDED");
});

test("F7–F11: multiple selectors, egress to two peers", () => {
  const dp = makeDatapath(SCN, { "a.yaml": knp("ingress-multiple-selectors", "myns", `  podSelector: { matchLabels: { role: backend } }
  ingress:
  - from:
    - podSelector: { matchLabels: { role: frontend } }
      namespaceSelector: { matchLabels: { project: myproject } }
    - podSelector: { matchLabels: { app: inventory } }
  egress:
  - to: [{ podSelector: { matchLabels: { app: db1 } } }, { podSelector: { matchLabels: { app: db2 } } }]
    ports: [{ protocol: TCP, port: 5432 }]`) });
  assert.equal(trace(dp, { from: "myns/frontend", to: "myns/backend", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "other/frontend", to: "myns/backend", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, { from: "myns/inventory", to: "myns/backend", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "myns/backend", to: "myns/db1", port: 5432 }).verdict, "FORWARDED");
  assert.equal(trace(dp, { from: "myns/backend", to: "myns/db2", port: 5432 }).verdict, "FORWARDED");
  const r = trace(dp, { from: "myns/backend", to: "myns/db1", port: 80 });
  assert.equal(r.drop_reason_desc, "POLICY_DENIED");
  assert.equal(r.egress?.verdict, "DROPPED");
});

test("F12–F14: matchExpressions In / NotIn (absent label passes NotIn)", () => {
  const dp = makeDatapath(SCN, { "a.yaml": knp("ex5", "default", `  podSelector: { matchLabels: { app: redis } }
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: { component: redis }
        matchExpressions:
        - { key: tier, operator: In, values: [cache] }
        - { key: environment, operator: NotIn, values: [dev] }
    ports: [{ protocol: UDP, port: 8080 }]`) });
  const req = (ns: string) => ({ from: `${ns}/client`, to: "default/redis", port: 8080, protocol: "UDP" as const });
  assert.equal(trace(dp, req("prod")).verdict, "FORWARDED");
  assert.equal(trace(dp, req("dev")).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(dp, req("nolabel")).verdict, "FORWARDED");
});

test("F15/F16: deny-all and allow-all", () => {
  const deny = makeDatapath(SCN, { "a.yaml": knp("deny-all", "default", "  podSelector: {}") });
  assert.equal(trace(deny, { from: "bob/client", to: "default/redis", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(deny, { from: "default/redis", to: "bob/client", port: 80 }).verdict, "FORWARDED");
  const allow = makeDatapath(SCN, { "a.yaml": knp("allow-all", "default", "  podSelector: {}\n  ingress: [{}]") });
  assert.equal(trace(allow, { from: { ip: "8.8.8.8" }, to: "default/redis", port: 9999 }).verdict, "FORWARDED");
  assert.equal(trace(allow, { from: "bob/client", to: "default/redis", port: 1, protocol: "UDP" }).verdict, "FORWARDED");
});

test("F17–F21: egress ports, endPort, ipBlock except, policyTypes Egress, default TCP", () => {
  const dp = (spec: string) => makeDatapath(SCN, { "a.yaml": knp("p", "myns", `  podSelector: { matchLabels: { role: backend } }\n${spec}`) });
  const f17 = dp("  egress:\n  - ports: [{ port: 80 }]");
  assert.equal(trace(f17, { from: "myns/backend", to: "myns/db1", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(f17, { from: "myns/backend", to: "myns/db1", port: 90 }).drop_reason_desc, "POLICY_DENIED");
  const f18 = dp("  egress:\n  - ports: [{ protocol: TCP, port: 8080, endPort: 8090 }]");
  for (const p of [8080, 8085, 8090]) assert.equal(trace(f18, { from: "myns/backend", to: "myns/db1", port: p }).verdict, "FORWARDED");
  assert.equal(trace(f18, { from: "myns/backend", to: "myns/db1", port: 8091 }).drop_reason_desc, "POLICY_DENIED");
  const f19 = dp("  egress:\n  - to: [{ ipBlock: { cidr: 10.0.0.0/8, except: [10.96.0.0/12] } }]");
  assert.equal(trace(f19, { from: "myns/backend", toIP: "10.1.1.1", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(f19, { from: "myns/backend", toIP: "10.96.0.1", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(f19, { from: "myns/backend", toIP: "8.8.8.8", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  // a pod IP inside the block is still a pod identity: CIDR rules never match managed pods
  assert.equal(trace(f19, { from: "myns/backend", to: "myns/db1", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  const f20 = dp("  policyTypes: [Egress]");
  assert.equal(trace(f20, { from: "myns/backend", to: "myns/db1", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(f20, { from: "myns/db1", to: "myns/backend", port: 80 }).verdict, "FORWARDED");
  const f21 = dp("  egress:\n  - ports: [{ port: 443 }]");
  assert.equal(trace(f21, { from: "myns/backend", toIP: "1.2.3.4", port: 443, protocol: "UDP" }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(f21, { from: "myns/backend", toIP: "1.2.3.4", port: 443, protocol: "TCP" }).verdict, "FORWARDED");
});

test("a NetworkPolicy port with endPort but no port is invalid (the API server rejects it), and the rest still load", () => {
  const dp = makeDatapath(SCN, { "a.yaml": knp("p", "myns", "  podSelector: { matchLabels: { role: backend } }\n  egress:\n  - ports: [{ endPort: 90 }]") });
  assert.ok(dp.warnings.some((w) => w.path === "spec.egress[0].ports[0].port" && /must be specified when endPort is specified/.test(w.message)), JSON.stringify(dp.warnings));
  assert.equal(dp.policies().length, 0);
  assert.equal(trace(dp, { from: "myns/backend", to: "myns/db1", port: 85 }).verdict, "FORWARDED", "the invalid policy is not enforced");
});

test("the policy's namespace replaces an io.kubernetes.pod.namespace the podSelector names in matchLabels (Cilium writes it into the same key); an expression on it is ANDed", () => {
  // subject: the policy is in myns whatever the selector says, so all of myns is in ingress default deny
  const subject = makeDatapath(SCN, { "a.yaml": knp("subj", "myns", "  podSelector: { matchLabels: { io.kubernetes.pod.namespace: bob } }\n  policyTypes: [Ingress]") });
  assert.equal(trace(subject, { from: "default/frontend", to: "myns/backend", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(subject, { from: "default/frontend", to: "bob/client", port: 80 }).verdict, "FORWARDED", "bob is not selected");
  // peer: "pods of bob" in a myns policy becomes "pods of myns"
  const peer = makeDatapath(SCN, { "a.yaml": knp("peer", "myns", "  podSelector: { matchLabels: { role: backend } }\n  ingress:\n  - from: [{ podSelector: { matchLabels: { io.kubernetes.pod.namespace: bob } } }]") });
  assert.equal(trace(peer, { from: "myns/frontend", to: "myns/backend", port: 80 }).verdict, "FORWARDED");
  assert.equal(trace(peer, { from: "bob/client", to: "myns/backend", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  // as an expression it stays: myns AND bob selects nobody
  const expr = makeDatapath(SCN, { "a.yaml": knp("expr", "myns", "  podSelector: { matchLabels: { role: backend } }\n  ingress:\n  - from: [{ podSelector: { matchExpressions: [{ key: io.kubernetes.pod.namespace, operator: In, values: [bob] }] } }]") });
  assert.equal(trace(expr, { from: "myns/frontend", to: "myns/backend", port: 80 }).drop_reason_desc, "POLICY_DENIED");
  assert.equal(trace(expr, { from: "bob/client", to: "myns/backend", port: 80 }).drop_reason_desc, "POLICY_DENIED");
});

test("NetworkPolicy ports the API server refuses are refused: 0, out of range, a number as a string, a bad port name", () => {
  for (const [port, why] of [["0", /between 1 and 65535/], ["65536", /between 1 and 65535/], ['"80"', /port name/], ["Http", /port name/], ["web--1", /port name/], ["a-very-long-port-name", /port name/]] as const) {
    const dp = makeDatapath(SCN, { "a.yaml": knp("p", "myns", `  podSelector: { matchLabels: { role: backend } }\n  ingress:\n  - ports: [{ port: ${port} }]`) });
    assert.ok(dp.warnings.some((w) => w.path === "spec.ingress[0].ports[0].port" && why.test(w.message)), `${port}: ${JSON.stringify(dp.warnings)}`);
    assert.equal(dp.policies().length, 0, `${port} is refused`);
  }
  const named = makeDatapath(SCN, { "a.yaml": knp("p", "myns", "  podSelector: { matchLabels: { role: backend } }\n  ingress:\n  - ports: [{ port: http-alt }, { port: 8080 }]") });
  assert.deepEqual(named.warnings, []);
  assert.equal(named.policies().length, 1);
});
