// `lint` finds policies that do nothing or surprise people, and exits non-zero on invalid ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeDatapath, STAR_WARS } from "./helpers";
import { lintDatapath } from "../../server/datapath/lint";

test("lint warnings and errors", () => {
  const dp = makeDatapath(STAR_WARS, {
    "a.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: empty-ingress, namespace: default }
spec:
  endpointSelector: { matchLabels: { org: empire } }
  ingress: []
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: nobody, namespace: default }
spec:
  endpointSelector: { matchLabels: { app: ghost } }
  ingress: [{ fromEndpoints: [{ matchLabels: { "k8s.io.kubernetes.pod.namespace": default } }] }]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: fqdn-no-dns, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: xwing } }
  egress: [{ toFQDNs: [{ matchName: api.github.com }] }]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: broken, namespace: default }
spec:
  endpointSelector: {}
  ingress: [{ http: [{ method: GET }] }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: knp-nobody, namespace: default }
spec:
  podSelector: { matchLabels: { app: ghost } }
`,
  });
  const f = lintDatapath(dp);
  const text = f.map((x) => `${x.level} ${x.policy ?? ""} ${x.path} ${x.message}`).join("\n");
  assert.match(text, /warning .*empty-ingress spec\.ingress "ingress: \[\]" does not enable default deny/);
  assert.match(text, /warning .*\/nobody spec\.endpointSelector selects no workload in this scenario/);
  assert.match(text, /warning .*knp-nobody spec\.podSelector selects no workload in this scenario/);
  assert.match(text, /warning .*nobody .*k8s\.io\.kubernetes\.pod\.namespace.*instead of ":"/);
  assert.match(text, /warning .*fqdn-no-dns .*no egress rule with "rules: dns"/);
  assert.match(text, /warning .*fqdn-no-dns .*may not reach kube-dns on port 53/);
  assert.match(text, /error .*broken.*spec\.ingress\[0\]\.http: unknown field "http"/);
  assert.ok(f.some((x) => x.level === "error"));
});

test("TLS server names and listeners are flagged as not simulated, and the port stays an L3/L4 allow", () => {
  const dp = makeDatapath(STAR_WARS, {
    "sni.yaml": `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: sni, namespace: default }
spec:
  endpointSelector: { matchLabels: { class: xwing } }
  egress:
  - toEntities: [world]
    toPorts: [{ ports: [{ port: "443", protocol: TCP }], serverNames: [allowed.example.com] }]
`,
  });
  const text = lintDatapath(dp).map((x) => `${x.level} ${x.policy ?? ""} ${x.path} ${x.message}`).join("\n");
  assert.match(text, /warning .*sni spec\.egress\[0\]\.toPorts\[0\] serverNames not simulated: Cilium sends this port to Envoy/);
});
