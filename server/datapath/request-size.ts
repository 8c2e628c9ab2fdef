// The size in bytes of a request's first packet, for the policy-map byte counters: IPv4 header, L4
// header and an estimate of the L7 payload as it would go on the wire.
import type { TrafficRequest } from "../scenario/types";

const IPV4_HEADER = 20;
const L4_HEADER: Record<string, number> = { TCP: 20, UDP: 8, SCTP: 12, ICMP: 8 };
const ICMP_ECHO_PAYLOAD = 56; // ping's default

export function requestBytes(req: TrafficRequest, proto: string): number {
  const l4 = L4_HEADER[proto] ?? 20;
  return IPV4_HEADER + l4 + payloadBytes(req, proto);
}

function payloadBytes(req: TrafficRequest, proto: string): number {
  if (proto === "ICMP") return ICMP_ECHO_PAYLOAD;
  if (req.http) {
    let n = `${req.http.method} ${req.http.path} HTTP/1.1\r\n`.length + `Host: ${req.http.host ?? "x"}\r\n\r\n`.length;
    for (const [k, v] of Object.entries(req.http.headers ?? {})) n += k.length + v.length + 4;
    return n;
  }
  // gRPC: HTTP/2 HEADERS with :path /service/method plus a small frame overhead
  if (req.grpc) return 9 + 40 + req.grpc.service.length + req.grpc.method.length;
  // Kafka: size + header (api key, version, correlation id, client id) + topic names
  if (req.kafka) return 14 + (req.kafka.clientId?.length ?? 0) + (req.kafka.topics ?? []).reduce((n, t) => n + 2 + t.length, 0);
  // DNS: header + QNAME labels + QTYPE/QCLASS
  if (req.dns) return 12 + req.dns.query.replace(/\.$/, "").length + 2 + 4;
  return 0; // a bare SYN
}
