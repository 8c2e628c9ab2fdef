// Flow metrics fed from imported Hubble flows: every label value from a flow is normalized into a
// known set or "other", so hostile or odd records can neither print raw control characters, nor hold
// large values, nor grow a metric's series past the cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importLine } from "../../lib/flow/import";
import type { FlowEnvelope } from "../../lib/flow/types";
import type { SequencedFlow } from "../../server/bus";
import { FlowMetrics } from "../../server/metrics/flow-metrics";
import { MAX_LABEL_VALUE_LENGTH } from "../../server/metrics/prometheus";

const health = {
  websocketClients: () => 0,
  queueDepths: () => [],
  lostEvents: () => 0,
  slowDisconnects: () => 0,
  ingestLag: () => 0,
  databaseBytes: () => 0,
  storedFlows: () => 0,
};

let seq = 0;
/** one line of `hubble observe -o json`, through the importer the REST import uses */
function imported(flow: Record<string, unknown>, after: Record<string, unknown> = {}): SequencedFlow {
  const line = JSON.stringify({ flow: { time: "2024-01-01T00:00:00.000000000Z", uuid: `u-${++seq}`, node_name: "n1", ...flow }, node_name: "n1", time: "2024-01-01T00:00:00.000000000Z" });
  const r = importLine(line);
  assert.equal(r.kind, "flow", JSON.stringify(r).slice(0, 300));
  const envelope = (r as { envelope: FlowEnvelope }).envelope;
  // fields the importer checks (drop reasons) set afterwards, as any other producer on the bus could
  Object.assign(envelope.flow, after);
  return { id: seq, envelope, json: line };
}

function httpRequest(method: string, extra: Record<string, unknown> = {}): SequencedFlow {
  return imported({
    verdict: "FORWARDED",
    event_type: { type: 129 },
    traffic_direction: "INGRESS",
    l4: { TCP: { source_port: 40000, destination_port: 80 } },
    source: { namespace: "default" },
    destination: { namespace: "default" },
    l7: { type: "REQUEST", http: { method, url: "http://x/", protocol: "HTTP/1.1" } },
    ...extra,
  });
}

function lines(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(name + "{"));
}

test("HTTP methods outside the standard set are counted as other", () => {
  const m = new FlowMetrics(health);
  const batch = [httpRequest("GET"), httpRequest("GET"), httpRequest("PATCH")];
  for (let i = 0; i < 3000; i++) batch.push(httpRequest(`DUPMETRIC${i}${"Z".repeat(300)}`));
  batch.push(httpRequest("get"), httpRequest("GET\r\nX-Injected: 1"));
  m.observe(batch);
  const l7 = lines(m.render(), "flowscope_l7_requests_total");
  assert.deepEqual(l7.sort(), [
    'flowscope_l7_requests_total{protocol="http",method="GET",verdict="FORWARDED"} 2',
    'flowscope_l7_requests_total{protocol="http",method="PATCH",verdict="FORWARDED"} 1',
    'flowscope_l7_requests_total{protocol="http",method="other",verdict="FORWARDED"} 3002',
  ]);
  assert.match(m.render(), /^flowscope_metrics_series_overflow_total\{metric="flowscope_l7_requests_total"\} 0$/m);
});

test("namespaces, drop reasons, verdicts and enum numbers from imported flows are bounded", () => {
  const m = new FlowMetrics(health);
  const big = "x".repeat(100_000);
  const batch: SequencedFlow[] = [];
  for (let i = 0; i < 300; i++) {
    batch.push(
      imported({
        verdict: "DROPPED",
        event_type: { type: 1, sub_type: 1000 + i },
        traffic_direction: "INGRESS",
        l4: { UDP: { source_port: 1, destination_port: 2 } },
        source: { namespace: `ns-${i}\u001b[31m${big}` },
        destination: { namespace: `Bad_NS_${i}` },
        drop_reason_desc: "POLICY_DENIED",
      }, { drop_reason_desc: `REASON_${i}_${big}` }),
    );
    batch.push(imported({ event_type: { type: 5, sub_type: 0 }, policy_match_type: 100 + i, l4: { TCP: {} } }, { verdict: `VERDICT_${i}`, traffic_direction: `DIR_${i}` }));
  }
  batch.push(imported({ verdict: "DROPPED", event_type: { type: 1, sub_type: 133 }, traffic_direction: "INGRESS", l4: { TCP: {} }, source: { namespace: "default" }, destination: { namespace: "kube-system" }, drop_reason_desc: "POLICY_DENIED" }));
  m.observe(batch);
  const text = m.render();
  assert.deepEqual(lines(text, "flowscope_drop_total").sort(), [
    'flowscope_drop_total{reason="POLICY_DENIED",protocol="TCP",namespace="kube-system"} 1',
    'flowscope_drop_total{reason="other",protocol="UDP",namespace="other"} 300',
  ]);
  assert.deepEqual(lines(text, "flowscope_policy_verdicts_total"), ['flowscope_policy_verdicts_total{direction="other",match="other",action="forwarded"} 300']);
  const processed = lines(text, "flowscope_flows_processed_total");
  assert.equal(processed.length, 3, processed.join("\n"));
  assert.ok(processed.includes('flowscope_flows_processed_total{type="Drop",subtype="other",verdict="DROPPED",protocol="UDP",source_namespace="other",destination_namespace="other"} 300'), processed.join("\n"));
  assert.ok(processed.includes('flowscope_flows_processed_total{type="PolicyVerdict",subtype="0",verdict="other",protocol="TCP",source_namespace="",destination_namespace=""} 300'), processed.join("\n"));
  assert.ok(text.length < 20_000, `a ${text.length}-character exposition`);
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
});

test("DNS qtypes, Kafka api keys and L7 status codes are bounded", () => {
  const m = new FlowMetrics(health);
  const batch: SequencedFlow[] = [];
  const l7 = (l7: Record<string, unknown>) =>
    imported({ verdict: "FORWARDED", event_type: { type: 129 }, traffic_direction: "EGRESS", l4: { UDP: {} }, l7 });
  for (let i = 0; i < 100; i++) {
    batch.push(l7({ type: "REQUEST", dns: { query: "a.example.", qtypes: [`q${i}\u0000`] } }));
    batch.push(l7({ type: "REQUEST", kafka: { api_key: `key-${i}`, topic: "t" } }));
    batch.push(l7({ type: "RESPONSE", http: { method: "GET", code: 100_000 + i } }));
  }
  batch.push(l7({ type: "REQUEST", dns: { query: "a.example.", qtypes: ["AAAA"] } }));
  batch.push(l7({ type: "REQUEST", kafka: { api_key: "produce", topic: "t" } }));
  batch.push(l7({ type: "RESPONSE", http: { method: "GET", code: 503 } }));
  batch.push(l7({ type: "RESPONSE", dns: { query: "a.example.", qtypes: ["A"], rcode: 3 } }));
  m.observe(batch);
  const text = m.render();
  assert.deepEqual(lines(text, "flowscope_l7_requests_total").sort(), [
    'flowscope_l7_requests_total{protocol="dns",method="AAAA",verdict="FORWARDED"} 1',
    'flowscope_l7_requests_total{protocol="dns",method="other",verdict="FORWARDED"} 100',
    'flowscope_l7_requests_total{protocol="kafka",method="other",verdict="FORWARDED"} 100',
    'flowscope_l7_requests_total{protocol="kafka",method="produce",verdict="FORWARDED"} 1',
  ]);
  assert.deepEqual(lines(text, "flowscope_l7_responses_total").sort(), [
    'flowscope_l7_responses_total{protocol="dns",method="A",status="3"} 1',
    'flowscope_l7_responses_total{protocol="http",method="GET",status="503"} 1',
    'flowscope_l7_responses_total{protocol="http",method="GET",status="other"} 100',
  ]);
  for (const l of text.split("\n")) assert.ok(l.length < 4 * MAX_LABEL_VALUE_LENGTH, l.slice(0, 100));
});

test("TCP flags are counted as Hubble's tcp metric counts them: SYN, SYN-ACK, FIN and RST of forwarded flows, by family", () => {
  const m = new FlowMetrics(health);
  const tcp = (flags: Record<string, boolean>, extra: Record<string, unknown> = {}) =>
    imported({
      verdict: "FORWARDED",
      event_type: { type: 4 },
      IP: { source: "10.0.0.1", destination: "10.0.0.2", ipVersion: "IPv4" },
      l4: { TCP: { source_port: 40000, destination_port: 80, flags } },
      ...extra,
    });
  m.observe([
    tcp({ SYN: true }),
    tcp({ SYN: true, ACK: true }),
    tcp({ ACK: true }),
    tcp({ PSH: true, ACK: true }),
    // one flow can count twice
    tcp({ FIN: true, SYN: true, ACK: true }),
    tcp({ RST: true }),
    tcp({ FIN: true, ACK: true }, { IP: { source: "fd00::1", destination: "fd00::2", ipVersion: "IPv6" } }),
    // not forwarded, or no IP header: not counted
    tcp({ SYN: true }, { verdict: "DROPPED" }),
    tcp({ SYN: true }, { IP: undefined }),
  ]);
  assert.deepEqual(lines(m.render(), "flowscope_tcp_flags_total").sort(), [
    'flowscope_tcp_flags_total{flag="FIN",family="IPv4"} 1',
    'flowscope_tcp_flags_total{flag="FIN",family="IPv6"} 1',
    'flowscope_tcp_flags_total{flag="RST",family="IPv4"} 1',
    'flowscope_tcp_flags_total{flag="SYN",family="IPv4"} 1',
    'flowscope_tcp_flags_total{flag="SYN-ACK",family="IPv4"} 2',
  ]);
});
