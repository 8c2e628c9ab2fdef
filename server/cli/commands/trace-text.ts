// `trace -o text`: one request's outcome for a person at a terminal. The verdict first, then each side's
// decision with the policies behind it, the datapath's steps, and the flow records as hubble prints them.
import type { SideResult, TraceResult } from "../../datapath";
import type { Policy } from "../../../lib/flow/types";
import { derivedFrom } from "../../../lib/flow/derived-policy";
import { formatCompact } from "../../../lib/flow/print";

function policyText(p: Policy): string {
  return derivedFrom(p) ?? `${p.kind ?? "CiliumNetworkPolicy"} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`;
}

function endpointText(e: unknown): string {
  const o = (e ?? {}) as { name?: string; ip?: string; identity?: number; port?: number; service?: string; service_ip?: string };
  const who = o.name && o.name !== o.ip ? (o.ip && !o.name.includes(o.ip) ? `${o.name} (${o.ip})` : o.name) : (o.ip ?? "?");
  return `${who}${o.identity !== undefined ? ` identity ${o.identity}` : ""}`;
}

function sideText(s: SideResult | undefined, unreached = false): string {
  if (!s) return unreached ? "not reached: the packet was dropped at egress" : "not a Cilium endpoint (or a host no host policy selects): not checked";
  if (!s.enforced && s.match_type === "none" && s.verdict === "FORWARDED") return "not enforced (no policy selecting it has rules for this direction): allowed";
  const parts = [s.verdict, s.match_type !== "none" ? `match ${s.match_type}` : ""].filter(Boolean);
  if (s.denied_by.length) parts.push(`denied by ${s.denied_by.map(policyText).join(", ")}`);
  else if (s.allowed_by.length) parts.push(`allowed by ${s.allowed_by.map(policyText).join(", ")}`);
  else if (s.default_deny_by?.length) parts.push(`default deny from ${s.default_deny_by.map(policyText).join(", ")}`);
  return parts.join(", ");
}

function outcomeText(r: TraceResult): string {
  const why = r.l7_denied ? " (refused by the L7 proxy)" : r.drop_reason_desc ? ` (${r.drop_reason_desc})` : "";
  const res = r.response;
  const answer = res?.http_code !== undefined ? `HTTP ${res.http_code}` : res?.kafka_error_code !== undefined ? `Kafka error ${res.kafka_error_code}` : res?.dns_rcode ? `DNS ${res.dns_rcode}` : "";
  return `${r.verdict}${why}${answer ? `; answer ${answer}` : ""}`;
}

interface RequestEcho {
  source?: unknown;
  destination?: { port?: number; service?: string };
  connection?: RequestEcho;
  toFQDN?: string;
  resolved_ip?: string;
  http?: { method?: string; path?: string };
  grpc?: string | { method?: string };
  kafka?: { apiKey?: string | number; topics?: string[] };
  dns?: { query?: string; type?: string };
}

function l7Text(r: RequestEcho): string {
  if (r.http) return `HTTP ${r.http.method ?? "GET"} ${r.http.path ?? "/"}`;
  if (r.grpc) return `gRPC ${typeof r.grpc === "string" ? r.grpc : (r.grpc.method ?? "")}`;
  if (r.kafka) return `Kafka ${r.kafka.apiKey ?? ""}${r.kafka.topics?.length ? ` topics ${r.kafka.topics.join(", ")}` : ""}`;
  if (r.dns) return `DNS ${r.dns.type ?? "A"} ${r.dns.query ?? ""}`;
  return "";
}

export function formatTraceText(r: TraceResult, index?: number): string {
  const req = r.request as RequestEcho;
  // a request to a name resolves it first; the connection is what was then sent
  const conn = req.connection ?? req;
  const dst = conn.destination;
  const via = [
    // ICMP has no port (the request's port is 0)
    dst?.port ? `port ${dst.port}` : "",
    dst?.service ? `via service ${dst.service}` : "",
    req.toFQDN ? `resolved ${req.toFQDN}${req.resolved_ip ? ` to ${req.resolved_ip}` : ""}` : "",
    l7Text(req),
  ].filter(Boolean);
  const lines: string[] = [];
  lines.push(`${index !== undefined ? `#${index} ` : ""}${endpointText(conn.source ?? req.source)} → ${endpointText(dst)}${via.length ? `  (${via.join(", ")})` : ""}`);
  lines.push(`  verdict  ${outcomeText(r)}`);
  lines.push(`  egress   ${sideText(r.egress)}`);
  lines.push(`  ingress  ${sideText(r.ingress, r.egress?.verdict === "DROPPED")}`);
  if (r.explanation.length) {
    lines.push("  steps");
    r.explanation.forEach((s, i) => lines.push(`    ${String(i + 1).padStart(2)}. ${s}`));
  }
  if (r.flows.length) {
    lines.push("  flows");
    for (const f of r.flows) lines.push(`    ${formatCompact(f)}`);
  }
  return lines.join("\n");
}
