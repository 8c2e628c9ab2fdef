// DNS messages (RFC 1035 §4) as a stub resolver sends a query and a server answers: header,
// question, answer RRs (A, AAAA, CNAME) with name compression against earlier names.
import { ByteWriter } from "../bytes";
import { DNS_TYPES, Rcode, dnsTypeNumber, toFqdn } from "../dns-constants";

export interface DnsQuestionSpec {
  name: string;
  type: string | number;
}

function typeNum(t: string | number): number {
  if (typeof t === "number") {
    if (!Number.isInteger(t) || t < 0 || t > 0xffff) throw new Error(`dns: record type ${t} is not a 16-bit number`);
    return t;
  }
  const n = dnsTypeNumber(t);
  if (n === undefined) throw new Error(`dns: unknown record type ${JSON.stringify(t)}`);
  return n;
}

/** Writes names, pointing repeated suffixes at their first occurrence (offsets < 0x4000). */
class NameWriter {
  private seen = new Map<string, number>();
  constructor(private readonly w: ByteWriter) {}

  write(name: string): void {
    const fqdn = toFqdn(name);
    if (fqdn === ".") {
      this.w.u8(0);
      return;
    }
    const labels = fqdn.slice(0, -1).split(".");
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      const ptr = this.seen.get(suffix);
      if (ptr !== undefined) {
        this.w.u16(0xc000 | ptr);
        return;
      }
      if (this.w.length < 0x4000) this.seen.set(suffix, this.w.length);
      const label = Buffer.from(labels[i], "latin1");
      if (label.length === 0 || label.length > 63) throw new Error(`dns: invalid label ${JSON.stringify(labels[i])} in ${name}`);
      this.w.u8(label.length).bytes(label);
    }
    this.w.u8(0);
  }
}

export function encodeDnsQuery(id: number, q: DnsQuestionSpec, opts: { rd?: boolean } = {}): Buffer {
  const w = new ByteWriter(64);
  w.u16(id).u16(opts.rd === false ? 0 : 0x0100).u16(1).u16(0).u16(0).u16(0);
  new NameWriter(w).write(q.name);
  w.u16(typeNum(q.type)).u16(1);
  return w.finish();
}

export interface DnsAnswerRecord {
  name: string;
  type: string | number;
  ttl: number;
  /** A/AAAA: address text; CNAME: target name */
  data: string;
}

export interface DnsResponseSpec {
  id: number;
  question: DnsQuestionSpec;
  rcode: number;
  answers?: DnsAnswerRecord[];
  rd?: boolean;
}

function ipv4Bytes(ip: string): number[] {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`dns: invalid IPv4 address ${ip}`);
  return parts.map(Number);
}

function ipv6Bytes(ip: string): number[] {
  let text = ip;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail = ipv4Bytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) throw new Error(`dns: invalid IPv6 address ${ip}`);
  const parse = (s: string) => (s === "" ? [] : s.split(":"));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) throw new Error(`dns: invalid IPv6 address ${ip}`);
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`dns: invalid IPv6 address ${ip}`);
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

export function encodeDnsResponse(spec: DnsResponseSpec): Buffer {
  const w = new ByteWriter(128);
  const answers = spec.answers ?? [];
  // QR=1, opcode 0, AA=0, TC=0, RD copied, RA=1
  const flags = 0x8000 | (spec.rd === false ? 0 : 0x0100) | 0x0080 | (spec.rcode & 0xf);
  w.u16(spec.id).u16(flags).u16(1).u16(answers.length).u16(0).u16(0);
  const names = new NameWriter(w);
  names.write(spec.question.name);
  w.u16(typeNum(spec.question.type)).u16(1);
  for (const rr of answers) {
    const t = typeNum(rr.type);
    names.write(rr.name);
    w.u16(t).u16(1).u32(rr.ttl);
    const lenAt = w.length;
    w.u16(0);
    if (t === DNS_TYPES.A) w.bytes(Uint8Array.from(ipv4Bytes(rr.data)));
    else if (t === DNS_TYPES.AAAA) w.bytes(Uint8Array.from(ipv6Bytes(rr.data)));
    else if (t === DNS_TYPES.CNAME) names.write(rr.data);
    else throw new Error(`dns: cannot encode answer type ${rr.type}`);
    const rdlen = w.length - lenAt - 2;
    w.patchU8(lenAt, rdlen >> 8).patchU8(lenAt + 1, rdlen & 0xff);
  }
  return w.finish();
}

/** The answer Cilium's DNS proxy sends when policy refuses the query. */
export function encodeDnsRefused(id: number, question: DnsQuestionSpec, rcode: number = Rcode.REFUSED): Buffer {
  return encodeDnsResponse({ id, question, rcode, answers: [] });
}
