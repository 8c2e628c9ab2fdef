// DNS through the proxy: parse the query, decide on the query name, forward allowed queries to
// the scenario's DNS server (NXDOMAIN for unknown names) or answer REFUSED, parse the answer and
// extract what Cilium's DNS proxy extracts (IPs, lowest TTL along the CNAME chain, CNAMEs,
// answer types). A refused query is logged as one request record, as Cilium does.
import { DNS_TYPES, Rcode, rcodeName } from "./dns-constants";
import { encodeDnsRefused, encodeDnsResponse, type DnsAnswerRecord } from "./encode/dns";
import { inspectDns } from "./inspect";
import { parseDnsMessage, type DnsMessage } from "./parse/dns";
import type { ProxyEnv } from "./proxy-env";
import type { DnsAnswerSource, L7Context, L7Outcome } from "./proxy-types";
import { dnsLayer7, dnsRequestSummary, dnsResponseSummary, type DnsRecordInput } from "./records";

const MAX_TTL = 4294967295;

function answersFor(server: DnsAnswerSource | undefined, qname: string, qtype: number): DnsAnswerRecord[] | undefined {
  if (!server) return undefined;
  const bare = qname.endsWith(".") ? qname.slice(0, -1) : qname;
  const typeName = qtype === DNS_TYPES.AAAA ? "AAAA" : qtype === DNS_TYPES.A ? "A" : String(qtype);
  const found = server.resolve(bare, typeName) ?? server.resolve(qname, typeName);
  if (!found) return undefined;
  const out: DnsAnswerRecord[] = [];
  let owner = bare;
  for (const c of found.cnames ?? []) {
    out.push({ name: owner, type: "CNAME", ttl: found.ttl, data: c });
    owner = c;
  }
  for (const ip of found.ips) {
    const v6 = ip.includes(":");
    if (qtype === DNS_TYPES.A && !v6) out.push({ name: owner, type: "A", ttl: found.ttl, data: ip });
    if (qtype === DNS_TYPES.AAAA && v6) out.push({ name: owner, type: "AAAA", ttl: found.ttl, data: ip });
  }
  return out;
}

/** Cilium dnsproxy ExtractMsgDetails: follow the CNAME chain from the question name. */
export function extractAnswer(msg: DnsMessage): { ips: string[]; ttl: number; cnames: string[]; rrtypes: number[] } {
  let name = msg.questions[0]?.name ?? "";
  let ttl = MAX_TTL;
  const ips: string[] = [];
  const cnames: string[] = [];
  const rrtypes: number[] = [];
  for (const rr of msg.answers) {
    if (rr.name !== name) continue;
    if (rr.type === DNS_TYPES.A || rr.type === DNS_TYPES.AAAA) {
      ips.push(rr.data!);
      ttl = Math.min(ttl, rr.ttl);
    } else if (rr.type === DNS_TYPES.CNAME) {
      name = rr.data!;
      cnames.push(rr.data!);
      ttl = Math.min(ttl, rr.ttl);
    }
    rrtypes.push(rr.type);
  }
  return { ips, ttl, cnames, rrtypes };
}

export function handleDns(ctx: L7Context, bytes: Uint8Array, env: ProxyEnv, _startedAt: bigint): L7Outcome {
  const { message, qname, qtype, decision } = inspectDns(bytes, ctx.grants);
  const reqRec: DnsRecordInput = { query: qname, qtypes: [qtype] };
  const question = { name: qname, type: qtype };
  let answer: Buffer;
  if (!decision.allowed) {
    answer = encodeDnsRefused(message.id, question, env.dnsRejectRcode);
  } else {
    const answers = answersFor(ctx.dnsServer, qname, qtype);
    answer = encodeDnsResponse({ id: message.id, question, rcode: answers ? Rcode.NOERROR : Rcode.NXDOMAIN, answers, rd: message.rd });
  }
  const res = parseDnsMessage(answer);
  if (res.id !== message.id || !res.qr) throw new Error(`dns: answer id ${res.id} does not match query id ${message.id}`);
  const base = {
    allowed: decision.allowed,
    request: dnsLayer7("REQUEST", reqRec),
    requestSummary: dnsRequestSummary(reqRec),
    decidedBy: decision.decidedBy,
    rule: decision.rule,
    response_code: { dns_rcode: rcodeName(res.rcode) },
    bytes: bytes.length,
  };
  if (!decision.allowed) return base;
  const a = extractAnswer(res);
  const resRec: DnsRecordInput = { ...reqRec, ...a, rcode: res.rcode };
  // no latency_ns: Hubble measures latency only for HTTP (by X-Request-Id, parser/seven computeResponseTime)
  const out: L7Outcome = { ...base, response: dnsLayer7("RESPONSE", resRec), responseSummary: dnsResponseSummary(resRec) };
  if (res.rcode === Rcode.NOERROR) out.dnsAnswer = { query: qname, ips: a.ips, ttl: a.ttl === MAX_TTL ? 0 : a.ttl, ...(a.cnames.length ? { cnames: a.cnames } : {}) };
  return out;
}
