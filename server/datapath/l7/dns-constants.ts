// DNS type and rcode numbers (IANA) and the text Hubble prints for them (gopacket's String()).
export const DNS_TYPES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  HTTPS: 65,
  ANY: 255,
};
const TYPE_NAMES = new Map<number, string>(Object.entries(DNS_TYPES).map(([k, v]) => [v, k]));

export function dnsTypeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `TYPE${t}`;
}

export function dnsTypeNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  if (upper in DNS_TYPES) return DNS_TYPES[upper];
  // RFC 3597 generic names: TYPE0 … TYPE65535 (a larger number would not fit the 16-bit QTYPE)
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : undefined;
}

export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

/** gopacket DNSResponseCode.String(), which Hubble's DNS summary prints after "RCode: ". */
const RCODE_TEXT = [
  "No Error",
  "Format Error",
  "Server Failure ",
  "Non-Existent Domain",
  "Not Implemented",
  "Query Refused",
  "Name Exists when it should not",
  "RR Set Exists when it should not",
  "RR Set that should exist does not",
  "Server Not Authoritative for zone",
  "Name not contained in zone",
];
export function rcodeText(code: number): string {
  return RCODE_TEXT[code] ?? "Unknown";
}

/** Lower-case FQDN form with exactly one trailing dot, as Cilium compares names. */
export function toFqdn(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith(".") ? n : `${n}.`;
}
