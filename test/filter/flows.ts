// A small hand-made set of flows used by the filter tests; each has an id in `uuid`.
import type { Flow } from "../../lib/flow/types";

const pol = (name: string, namespace: string, kind = "CiliumNetworkPolicy") => ({ name, namespace, kind, revision: "3" });

export const FLOWS: Flow[] = [
  {
    time: "2024-05-01T10:00:00.100Z", uuid: "f1", verdict: "DROPPED", IP: { source: "10.0.1.5", destination: "10.0.2.7", ipVersion: "IPv4" },
    l4: { TCP: { source_port: 40000, destination_port: 8080, flags: { SYN: true } } },
    source: { identity: 1001, namespace: "payments", labels: ["k8s:app=web", "k8s:tier=front"], pod_name: "web-1" },
    destination: { identity: 1002, namespace: "payments", labels: ["k8s:app=db"], pod_name: "db-0" },
    Type: "L3_L4", node_name: "kind/worker-1", event_type: { type: 5 }, traffic_direction: "INGRESS", drop_reason_desc: "POLICY_DENIED",
    node_labels: ["kubernetes.io/hostname=worker-1", "topology.kubernetes.io/zone=zone-a"], interface: { index: 27, name: "lxcca3d36ab92f9" },
    extensions: { "@type": "type.googleapis.com/flowscope.v1.FlowDecision", default_deny_by: [pol("db-allow", "payments")] },
  },
  {
    time: "2024-05-01T10:00:01.200Z", uuid: "f2", verdict: "FORWARDED", IP: { source: "10.0.1.5", destination: "10.0.3.9", ipVersion: "IPv4" },
    l4: { TCP: { source_port: 40001, destination_port: 80 } },
    source: { identity: 1001, namespace: "payments", labels: ["k8s:app=web"], pod_name: "web-1" },
    destination: { identity: 1003, namespace: "shop", labels: ["k8s:app=api"], pod_name: "api-5" },
    Type: "L7", node_name: "kind/worker-2", l7: { type: "REQUEST", http: { method: "GET", url: "http://api.shop:80/orders/42", protocol: "HTTP/1.1" } },
    event_type: { type: 129 }, traffic_direction: "EGRESS", is_reply: false,
    egress_allowed_by: [pol("web-egress", "payments")],
  },
  {
    time: "2024-05-01T10:00:02.300Z", uuid: "f3",
    trace_context: { parent: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" } }, verdict: "FORWARDED", IP: { source: "10.0.3.9", destination: "10.0.1.5", ipVersion: "IPv4" },
    l4: { TCP: { source_port: 80, destination_port: 40001 } },
    source: { identity: 1003, namespace: "shop", labels: ["k8s:app=api"], pod_name: "api-5" },
    destination: { identity: 1001, namespace: "payments", labels: ["k8s:app=web"], pod_name: "web-1" },
    Type: "L7", node_name: "kind/worker-2", l7: { type: "RESPONSE", http: { code: 503, method: "GET", url: "http://api.shop:80/orders/42" } },
    event_type: { type: 129 }, traffic_direction: "INGRESS", is_reply: true,
  },
  {
    time: "2024-05-01T10:00:03.400Z", uuid: "f4", ip_trace_id: { trace_id: "12460542740415775846", ip_option_type: 136 }, verdict: "FORWARDED", IP: { source: "10.0.1.5", destination: "10.96.0.10", ipVersion: "IPv4" },
    l4: { UDP: { source_port: 5353, destination_port: 53 } },
    source: { identity: 1001, namespace: "payments", labels: ["k8s:app=web"], pod_name: "web-1" },
    destination: { identity: 102, namespace: "kube-system", labels: ["k8s:k8s-app=kube-dns"], pod_name: "coredns-abc" },
    Type: "L7", node_name: "kind/worker-1", l7: { type: "REQUEST", dns: { query: "api.github.com.", observation_source: "proxy", qtypes: ["A"] } },
    event_type: { type: 129 }, traffic_direction: "EGRESS", is_reply: false,
  },
  {
    time: "2024-05-01T10:00:04.500Z", uuid: "f5", verdict: "DROPPED", IP: { source: "10.0.4.4", destination: "140.82.112.3", ipVersion: "IPv4" },
    l4: { TCP: { source_port: 50000, destination_port: 443 } },
    source: { identity: 1004, namespace: "shop", labels: ["k8s:app=worker"], pod_name: "worker-9" },
    destination: { identity: 2, labels: ["reserved:world"] }, destination_names: ["api.github.com"],
    Type: "L3_L4", node_name: "kind/worker-1", event_type: { type: 1, sub_type: 181 }, traffic_direction: "EGRESS", drop_reason_desc: "POLICY_DENY",
    egress_denied_by: [pol("deny-world", "", "CiliumClusterwideNetworkPolicy")],
  },
  {
    time: "2024-05-01T10:00:05.600Z", uuid: "f6", verdict: "FORWARDED", IP: { source: "10.0.2.7", destination: "10.0.1.5", ipVersion: "IPv4", encrypted: true },
    interface: { index: 10, name: "lxc_health" }, node_labels: ["kubernetes.io/hostname=worker-3"],
    l4: { TCP: { source_port: 8080, destination_port: 40000, flags: { ACK: true } } },
    source: { identity: 1002, namespace: "payments", labels: ["k8s:app=db"], pod_name: "db-0" },
    destination: { identity: 1001, namespace: "payments", labels: ["k8s:app=web", "k8s:tier=front"], pod_name: "web-1" },
    Type: "L3_L4", node_name: "worker-3", event_type: { type: 4 }, trace_observation_point: "TO_ENDPOINT", is_reply: true,
  },
];
