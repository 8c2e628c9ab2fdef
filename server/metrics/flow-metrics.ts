// Flow and server metrics at /metrics, named in the spirit of Hubble's (hubble_flows_processed_total,
// hubble_drop_total, hubble_policy_verdicts_total, hubble_http_requests_total, …) under a flowscope_
// prefix so they never collide with a real Hubble's series in the same Prometheus.
//
// Every label value is taken from a closed set or normalized into one. Flows may be imported from any
// `hubble observe -o json` file: the importer checks enum names, but HTTP methods, namespaces, Kafka
// api keys and DNS qtypes are free strings and numbers (sub_type, policy_match_type, codes) are any
// integers. A value outside a label's known set is counted as "other" instead of opening a new series
// (the registry also makes values safe, cuts them and caps series; see prometheus.ts).
import { DROP_REASON_NAMES, POLICY_MATCH_TYPE_NAMES, VERDICTS } from "../../lib/flow/enums";
import type { Flow } from "../../lib/flow/types";
import type { SequencedFlow } from "../bus";
import { KAFKA_API_KEYS } from "../datapath/l7/kafka-api";
import { OVERFLOW_LABEL_VALUE as OTHER, Registry } from "./prometheus";

export interface HealthSource {
  websocketClients(): number;
  queueDepths(): number[];
  lostEvents(): number;
  slowDisconnects(): number;
  ingestLag(): number;
  databaseBytes(): number;
  storedFlows(): number;
}

const L4_PROTOCOLS: ReadonlySet<string> = new Set(["TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP"]);

function protocolOf(f: Flow): string {
  if (f.l7?.http) return "http";
  if (f.l7?.dns) return "dns";
  if (f.l7?.kafka) return "kafka";
  const k = f.l4 ? Object.keys(f.l4)[0] : undefined;
  return k === undefined ? "unknown" : L4_PROTOCOLS.has(k) ? k : OTHER;
}

/** `String(n)` for an integer in [lo, hi], "" when absent, "other" for anything else */
function intLabel(n: unknown, lo: number, hi: number): string {
  if (n === undefined || n === null) return "";
  return typeof n === "number" && Number.isInteger(n) && n >= lo && n <= hi ? String(n) : OTHER;
}

function eventTypeName(t: number | undefined): string {
  switch (t) {
    case 1: return "Drop";
    case 4: return "Trace";
    case 5: return "PolicyVerdict";
    case 129: return "L7";
    // the monitor message type is one byte
    default: return intLabel(t ?? 0, 0, 255);
  }
}

const VERDICT_SET: ReadonlySet<string> = new Set(VERDICTS);
const DROP_REASON_SET: ReadonlySet<string> = new Set(["DROP_REASON_UNKNOWN", ...DROP_REASON_NAMES]);
const DIRECTIONS: ReadonlySet<string> = new Set(["ingress", "egress", "traffic_direction_unknown", "unknown"]);

function inSet(v: string | undefined, set: ReadonlySet<string>, absent: string): string {
  if (v === undefined) return absent;
  return set.has(v) ? v : OTHER;
}

/** A Kubernetes namespace name is a DNS-1123 label; "" for peers without one (world, host, …). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
function namespaceLabel(ns: string | undefined): string {
  if (ns === undefined || ns === "") return "";
  return NAMESPACE.test(ns) ? ns : OTHER;
}

/** RFC 9110 methods and PATCH (RFC 5789); any other method string is "other". */
const HTTP_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
const KAFKA_API_KEY_NAMES: ReadonlySet<string> = new Set(Object.keys(KAFKA_API_KEYS));
/** gopacket's DNSType names (A, AAAA, CAA, …) and its TYPE<n> form for numbers it has no name for */
const DNS_TYPE_NAME = /^(?:[A-Z][A-Z0-9]{0,9}|TYPE\d{1,5})$/;

function l7Method(f: Flow): string {
  const l7 = f.l7;
  if (l7?.http) return inSet(l7.http.method, HTTP_METHODS, "");
  if (l7?.dns) {
    const qtypes = l7.dns.qtypes;
    if (!qtypes?.length) return "";
    // a query carries one qtype; an imported record may carry any list, so name at most a few
    const names = [...new Set(qtypes.slice(0, 4).map((q) => (typeof q === "string" && DNS_TYPE_NAME.test(q) ? q : OTHER)))];
    return qtypes.length > 4 ? OTHER : names.join(",");
  }
  if (l7?.kafka) {
    const k = l7.kafka.api_key;
    if (k === undefined) return "";
    // Cilium names the keys it knows and prints the number for the others
    return KAFKA_API_KEY_NAMES.has(k) || /^\d{1,2}$/.test(k) ? k : OTHER;
  }
  return "";
}

function l7Status(f: Flow): string {
  const l7 = f.l7;
  if (l7?.http) return intLabel(l7.http.code, 0, 999);
  if (l7?.dns) return intLabel(l7.dns.rcode, 0, 4095);
  if (l7?.kafka) return intLabel(l7.kafka.error_code, -1, 999);
  return "";
}

export class FlowMetrics {
  readonly registry = new Registry();
  private readonly processed = this.registry.counter("flowscope_flows_processed_total", "Flows processed, by type, subtype, verdict, protocol and namespace", ["type", "subtype", "verdict", "protocol", "source_namespace", "destination_namespace"]);
  private readonly drops = this.registry.counter("flowscope_drop_total", "Dropped flows by reason and protocol", ["reason", "protocol", "namespace"]);
  private readonly verdicts = this.registry.counter("flowscope_policy_verdicts_total", "Policy verdict events by direction, match type and action", ["direction", "match", "action"]);
  private readonly l7 = this.registry.counter("flowscope_l7_requests_total", "L7 requests seen by the proxy, by protocol, method (HTTP method, Kafka api key or DNS qtype) and verdict", ["protocol", "method", "verdict"]);
  private readonly l7Responses = this.registry.counter("flowscope_l7_responses_total", "L7 responses by protocol, method and status (HTTP code, Kafka error code or DNS rcode)", ["protocol", "method", "status"]);
  private readonly tcpFlags = this.registry.counter("flowscope_tcp_flags_total", "TCP flag occurrences in forwarded flows (SYN, SYN-ACK, FIN, RST), by IP family", ["flag", "family"]);
  private readonly clients = this.registry.gauge("flowscope_websocket_clients", "Connected WebSocket clients");
  private readonly queueMax = this.registry.gauge("flowscope_websocket_queue_depth_max", "Largest per-client send queue (flows)");
  // a level, not a count: no _total suffix, which Prometheus keeps for counters
  private readonly queueTotal = this.registry.gauge("flowscope_websocket_queue_depth_sum", "Flows queued for all WebSocket clients");
  // running counts kept by the stream, copied at each scrape: counters, as their names say
  private readonly lost = this.registry.counter("flowscope_lost_events_total", "Flows a slow WebSocket client did not receive (reported to it as lost_events)");
  private readonly slow = this.registry.counter("flowscope_websocket_slow_disconnects_total", "WebSocket clients disconnected for not reading");
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
        intLabel(f.event_type?.sub_type ?? 0, 0, 255),
        inSet(f.verdict, VERDICT_SET, "VERDICT_UNKNOWN"),
        proto,
        namespaceLabel(f.source?.namespace),
        namespaceLabel(f.destination?.namespace),
      ]);
      if (f.verdict === "DROPPED" && f.drop_reason_desc) {
        const ns = f.traffic_direction === "EGRESS" ? f.source?.namespace : f.destination?.namespace;
        this.drops.inc([inSet(f.drop_reason_desc, DROP_REASON_SET, ""), proto, namespaceLabel(ns)]);
      }
      if (f.verdict === "FORWARDED" || f.verdict === "REDIRECTED") this.countTcpFlags(f);
      if (type === 5) {
        const action = f.verdict === "DROPPED" ? "dropped" : f.verdict === "AUDIT" ? "audit" : f.verdict === "REDIRECTED" ? "redirected" : "forwarded";
        const match = f.policy_match_type ?? 0;
        const matchName = Number.isInteger(match) && match >= 0 && match < POLICY_MATCH_TYPE_NAMES.length ? POLICY_MATCH_TYPE_NAMES[match] : OTHER;
        const direction = typeof f.traffic_direction === "string" ? inSet(f.traffic_direction.toLowerCase(), DIRECTIONS, "unknown") : "unknown";
        this.verdicts.inc([direction, matchName, action]);
      }
      if (type === 129 && f.l7?.type === "REQUEST") {
        this.l7.inc([proto, l7Method(f), f.verdict === undefined ? "" : inSet(f.verdict, VERDICT_SET, "")]);
      } else if (type === 129 && f.l7?.type === "RESPONSE") {
        this.l7Responses.inc([proto, l7Method(f), l7Status(f)]);
      }
    }
  }

  /** as Hubble's tcp handler counts them: one flow can count FIN and SYN-ACK both; ACK and PSH alone are not counted */
  private countTcpFlags(f: Flow): void {
    const flags = f.l4?.TCP?.flags;
    if (!flags || typeof flags !== "object") return;
    // Hubble skips a flow without an IP header, and names a missing version by its zero value
    if (!f.IP) return;
    const family = f.IP.ipVersion === "IPv6" || f.IP.ipVersion === "IPv4" ? f.IP.ipVersion : "IP_NOT_USED";
    if (flags.FIN === true) this.tcpFlags.inc(["FIN", family]);
    if (flags.SYN === true) this.tcpFlags.inc([flags.ACK === true ? "SYN-ACK" : "SYN", family]);
    if (flags.RST === true) this.tcpFlags.inc(["RST", family]);
  }

  render(): string {
    return this.registry.render();
  }
}
