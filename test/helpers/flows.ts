// Hubble flow envelopes for tests of the parts after the datapath (store, stream, filters), built the
// way the datapath builds them. Tests of the datapath itself use the real datapath.
import crypto from "node:crypto";
import type { FlowEnvelope, Verdict } from "../../lib/flow/types";

export interface FakeFlowSpec {
  srcNs?: string;
  srcPod?: string;
  dstNs?: string;
  dstPod?: string;
  verdict?: Verdict;
  port?: number;
  time?: Date;
  dropReason?: string;
  /** the observing node (default node-1) */
  node?: string;
}

export function makeFlow(spec: FakeFlowSpec = {}): FlowEnvelope {
  const time = (spec.time ?? new Date()).toISOString().replace("Z", "000000Z");
  const verdict = spec.verdict ?? "FORWARDED";
  const srcNs = spec.srcNs ?? "default";
  const dstNs = spec.dstNs ?? "default";
  const flow: FlowEnvelope["flow"] = {
    time,
    uuid: crypto.randomUUID(),
    verdict,
    ...(verdict === "DROPPED" ? { drop_reason: 133 } : {}),
    IP: { source: "10.0.0.1", destination: "10.0.0.2", ipVersion: "IPv4" },
    l4: { TCP: { source_port: 40000, destination_port: spec.port ?? 80, flags: { SYN: true } } },
    source: { ID: 1, identity: 300, namespace: srcNs, labels: [`k8s:app=${spec.srcPod ?? "client"}`, `k8s:io.kubernetes.pod.namespace=${srcNs}`], pod_name: spec.srcPod ?? "client-0" },
    destination: { ID: 2, identity: 301, namespace: dstNs, labels: [`k8s:app=${spec.dstPod ?? "server"}`, `k8s:io.kubernetes.pod.namespace=${dstNs}`], pod_name: spec.dstPod ?? "server-0" },
    Type: "L3_L4",
    node_name: spec.node ?? "node-1",
    event_type: verdict === "DROPPED" ? { type: 1, sub_type: 133 } : { type: 4 },
    traffic_direction: "INGRESS",
    ...(verdict === "DROPPED" ? { drop_reason_desc: spec.dropReason ?? "POLICY_DENIED" } : { trace_observation_point: "TO_ENDPOINT" as const, is_reply: false }),
    Summary: "TCP Flags: SYN",
  };
  return { flow, node_name: spec.node ?? "node-1", time };
}
