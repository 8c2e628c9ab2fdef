// DNS message parser (RFC 1035 §4.1): header, questions, resource records; names with
// compression pointers, bounded by a hop limit (pointer loops) and the 255-byte name limit.
import { ByteReader } from "../bytes";
import { DNS_TYPES } from "../dns-constants";
import { fail } from "../errors";
import { formatIPv6 } from "../../../../lib/filter/ip";

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}
export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A/AAAA: address text; CNAME/NS/PTR: target name (FQDN); other types: undefined */
  data?: string;
}
export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

const MAX_POINTER_HOPS = 64;

/** Read a (possibly compressed) name starting at r.pos; returns it in FQDN form, lower-cased. */
function readName(r: ByteReader): string {
  const buf = r.buf;
  let pos = r.pos;
  let jumped = false;
  let hops = 0;
  let out = "";
  let wireLen = 1;
  for (;;) {
    if (pos >= r.end) fail("dns", pos, "truncated name");
    const len = buf[pos];
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= r.end) fail("dns", pos, "truncated compression pointer");
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (++hops > MAX_POINTER_HOPS) fail("dns", pos, "compression pointer loop");
      if (target >= r.end) fail("dns", pos, `compression pointer to ${target} beyond the message (${r.end} bytes)`);
      if (!jumped) r.pos = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) fail("dns", pos, `unsupported label type 0x${(len & 0xc0).toString(16)}`);
    if (len === 0) {
      if (!jumped) r.pos = pos + 1;
      return out === "" ? "." : out;
    }
    if (pos + 1 + len > r.end) fail("dns", pos, `label length ${len} runs past the message end`);
    wireLen += len + 1;
    if (wireLen > 255) fail("dns", pos, "name longer than 255 bytes");
    let label = "";
    for (let i = pos + 1; i <= pos + len; i++) {
      let c = buf[i];
      if (c >= 65 && c <= 90) c += 32;
      // a dot inside a label would make the text form ambiguous
      label += c === 0x2e ? "\\." : String.fromCharCode(c);
    }
    out += `${label}.`;
    pos += 1 + len;
  }
}


function readRecord(r: ByteReader, section: string): DnsRecord {
  const name = readName(r);
  const type = r.u16(`${section} record type`);
  const klass = r.u16(`${section} record class`);
  const ttl = r.u32(`${section} record TTL`);
  const rdlen = r.u16(`${section} record RDLENGTH`);
  const rdStart = r.pos;
  r.need(rdlen, `${section} record RDATA`);
  const rdEnd = rdStart + rdlen;
  let data: string | undefined;
  if (type === DNS_TYPES.A) {
    if (rdlen !== 4) fail("dns", rdStart - 2, `A record RDLENGTH ${rdlen}, expected 4`);
    data = `${r.buf[rdStart]}.${r.buf[rdStart + 1]}.${r.buf[rdStart + 2]}.${r.buf[rdStart + 3]}`;
  } else if (type === DNS_TYPES.AAAA) {
    if (rdlen !== 16) fail("dns", rdStart - 2, `AAAA record RDLENGTH ${rdlen}, expected 16`);
    data = formatIPv6(r.buf.subarray(rdStart, rdEnd));
  } else if (type === DNS_TYPES.CNAME || type === DNS_TYPES.NS || type === DNS_TYPES.PTR) {
    const sub = new ByteReader("dns", r.buf, rdStart, r.end);
    data = readName(sub);
    if (sub.pos !== rdEnd) fail("dns", rdStart, `${type === DNS_TYPES.CNAME ? "CNAME" : "name"} RDATA length ${rdlen} does not match the name (${sub.pos - rdStart} bytes)`);
  }
  r.pos = rdEnd;
  return { name, type, class: klass, ttl, data };
}

export function parseDnsMessage(data: Uint8Array): DnsMessage {
  const r = new ByteReader("dns", data);
  if (r.remaining < 12) fail("dns", 0, `truncated header: ${r.remaining} of 12 bytes`);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  const ar = r.u16();
  const msg: DnsMessage = {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  // each question needs at least 5 bytes, each record 11: reject absurd counts before looping
  if (qd * 5 + (an + ns + ar) * 11 > r.remaining) {
    fail("dns", 4, `section counts (qd=${qd} an=${an} ns=${ns} ar=${ar}) exceed the ${r.remaining} byte(s) after the header`);
  }
  for (let i = 0; i < qd; i++) {
    const name = readName(r);
    msg.questions.push({ name, type: r.u16("question type"), class: r.u16("question class") });
  }
  for (let i = 0; i < an; i++) msg.answers.push(readRecord(r, "answer"));
  for (let i = 0; i < ns; i++) msg.authorities.push(readRecord(r, "authority"));
  for (let i = 0; i < ar; i++) msg.additionals.push(readRecord(r, "additional"));
  if (r.remaining > 0) fail("dns", r.pos, `${r.remaining} trailing byte(s) after the last record`);
  return msg;
}

/** DNS over TCP prefixes each message with a 2-byte length (RFC 1035 §4.2.2). */
export function unwrapDnsTcp(data: Uint8Array): Uint8Array {
  if (data.length < 2) fail("dns", 0, "truncated TCP length prefix");
  const len = (data[0] << 8) | data[1];
  if (len + 2 > data.length) fail("dns", 0, `TCP length prefix ${len} exceeds the ${data.length - 2} byte(s) received`);
  return data.subarray(2, 2 + len);
}
