// Flow and server metrics at /metrics, named in the spirit of Hubble's (hubble_flows_processed_total,
// hubble_drop_total, hubble_policy_verdicts_total, hubble_http_requests_total, …) under a flowscope_
// prefix so they never collide with a real Hubble's series in the same Prometheus.
import { POLICY_MATCH_TYPE_NAMES } from "../../lib/flow/enums";
import type { Flow } from "../../lib/flow/types";
import type { SequencedFlow } from "../bus";
import { Registry } from "./prometheus";

export interface HealthSource {
  websocketClients(): number;
  queueDepths(): number[];
  lostEvents(): number;
  slowDisconnects(): number;
  ingestLag(): number;
  databaseBytes(): number;
  storedFlows(): number;
}

function protocolOf(f: Flow): string {
  if (f.l7?.http) return "http";
  if (f.l7?.dns) return "dns";
  if (f.l7?.kafka) return "kafka";
  const k = f.l4 ? Object.keys(f.l4)[0] : undefined;
  return k ?? "unknown";
}

function eventTypeName(t: number | undefined): string {
  switch (t) {
    case 1: return "Drop";
    case 4: return "Trace";
    case 5: return "PolicyVerdict";
    case 129: return "L7";
    default: return String(t ?? 0);
  }
}

export class FlowMetrics {
  readonly registry = new Registry();
  private readonly processed = this.registry.counter("flowscope_flows_processed_total", "Flows processed, by type, subtype, verdict, protocol and namespace", ["type", "subtype", "verdict", "protocol", "source_namespace", "destination_namespace"]);
  private readonly drops = this.registry.counter("flowscope_drop_total", "Dropped flows by reason and protocol", ["reason", "protocol", "namespace"]);
  private readonly verdicts = this.registry.counter("flowscope_policy_verdicts_total", "Policy verdict events by direction, match type and action", ["direction", "match", "action"]);
  private readonly l7 = this.registry.counter("flowscope_l7_requests_total", "L7 requests seen by the proxy, by protocol, method (HTTP method, Kafka api key or DNS qtype) and verdict", ["protocol", "method", "verdict"]);
  private readonly l7Responses = this.registry.counter("flowscope_l7_responses_total", "L7 responses by protocol, method and status (HTTP code, Kafka error code or DNS rcode)", ["protocol", "method", "status"]);
  private readonly clients = this.registry.gauge("flowscope_websocket_clients", "Connected WebSocket clients");
  private readonly queueMax = this.registry.gauge("flowscope_websocket_queue_depth_max", "Largest per-client send queue (flows)");
  private readonly queueTotal = this.registry.gauge("flowscope_websocket_queue_depth_total", "Flows queued for all WebSocket clients");
  private readonly lost = this.registry.gauge("flowscope_lost_events_total", "Flows a slow WebSocket client did not receive (reported to it as lost_events)");
  private readonly slow = this.registry.gauge("flowscope_websocket_slow_disconnects_total", "WebSocket clients disconnected for not reading");
  private readonly lag = this.registry.gauge("flowscope_ingest_lag_flows", "Flows published but not yet written to SQLite");
  private readonly dbBytes = this.registry.gauge("flowscope_database_bytes", "SQLite database size including WAL");
  private readonly stored = this.registry.gauge("flowscope_stored_flows", "Flows in the history");

  constructor(health: HealthSource) {
    this.registry.onCollect(() => {
      const depths = health.queueDepths();
      this.clients.set([], health.websocketClients());
      this.queueMax.set([], depths.length ? Math.max(...depths) : 0);
      this.queueTotal.set([], depths.reduce((a, b) => a + b, 0));
      this.lost.set([], health.lostEvents());
      this.slow.set([], health.slowDisconnects());
      this.lag.set([], health.ingestLag());
      this.dbBytes.set([], health.databaseBytes());
      this.stored.set([], health.storedFlows());
    });
  }

  observe(batch: readonly SequencedFlow[]): void {
    for (const { envelope } of batch) {
      const f = envelope.flow;
      const proto = protocolOf(f);
      const type = f.event_type?.type;
      this.processed.inc([
        eventTypeName(type),
        String(f.event_type?.sub_type ?? 0),
        f.verdict ?? "VERDICT_UNKNOWN",
        proto,
        f.source?.namespace ?? "",
        f.destination?.namespace ?? "",
      ]);
      if (f.verdict === "DROPPED" && f.drop_reason_desc) {
        const ns = f.traffic_direction === "EGRESS" ? f.source?.namespace : f.destination?.namespace;
        this.drops.inc([f.drop_reason_desc, proto, ns ?? ""]);
      }
      if (type === 5) {
        const action = f.verdict === "DROPPED" ? "dropped" : f.verdict === "AUDIT" ? "audit" : f.verdict === "REDIRECTED" ? "redirected" : "forwarded";
        this.verdicts.inc([(f.traffic_direction ?? "unknown").toLowerCase(), POLICY_MATCH_TYPE_NAMES[f.policy_match_type ?? 0] ?? String(f.policy_match_type), action]);
      }
      if (type === 129 && f.l7?.type === "REQUEST") {
        const method = f.l7.http?.method ?? f.l7.kafka?.api_key ?? f.l7.dns?.qtypes?.join(",") ?? "";
        this.l7.inc([proto, method, f.verdict ?? ""]);
      } else if (type === 129 && f.l7?.type === "RESPONSE") {
        const status = f.l7.http?.code ?? f.l7.kafka?.error_code ?? f.l7.dns?.rcode;
        const method = f.l7.http?.method ?? f.l7.kafka?.api_key ?? f.l7.dns?.qtypes?.join(",") ?? "";
        this.l7Responses.inc([proto, method, String(status ?? "")]);
      }
    }
  }

  render(): string {
    return this.registry.render();
  }
}
