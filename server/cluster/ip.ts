// IPv4 arithmetic for pod IP allocation, the ipcache and CIDR rules. Addresses are kept as unsigned
// 32-bit numbers so prefix tests are two shifts instead of string work on the per-packet path.
// Policies may also name IPv6 prefixes (dual-stack policy sets do): they are parsed, validated and
// kept, but the simulated cluster and its traffic are IPv4, so they never contain an address in it.
import { formatIPv6, parseIPv6 } from "../../lib/filter/ip";

export interface Cidr {
  /** network address (host bits cleared); 0 for an IPv6 prefix */
  addr: number;
  len: number;
  text: string;
  /** an IPv6 prefix: its network address as a 128-bit number */
  v6?: bigint;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(s: string): number | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i].length > 1 && m[i][0] === "0")) return undefined;
    n = n * 256 + o;
  }
  return n >>> 0;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

function parseCidr6(s: string, ipPart: string, lenPart: string | undefined): Cidr | { error: string } {
  // a zone ("%eth0") names an interface, not a network: Go's ParseCIDR refuses it too
  const bytes = ipPart.includes("%") ? null : parseIPv6(ipPart);
  if (!bytes) return { error: `"${s}" is not a valid IPv6 address or CIDR` };
  const len = lenPart === undefined ? 128 : /^\d{1,3}$/.test(lenPart) ? Number(lenPart) : -1;
  if (len < 0 || len > 128) return { error: `"${s}" has an invalid prefix length` };
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  const v6 = len === 0 ? 0n : (n >> BigInt(128 - len)) << BigInt(128 - len);
  const network = new Uint8Array(16);
  for (let i = 0; i < 16; i++) network[i] = Number((v6 >> BigInt(8 * (15 - i))) & 0xffn);
  return { addr: 0, len, text: `${formatIPv6(network)}/${len}`, v6 };
}

/** Parses "a.b.c.d/len" (or a bare address = /32), or an IPv6 prefix (a bare address = /128). */
export function parseCidr(s: string): Cidr | { error: string } {
  const slash = s.indexOf("/");
  const ipPart = slash < 0 ? s : s.slice(0, slash);
  if (ipPart.includes(":")) return parseCidr6(s, ipPart, slash < 0 ? undefined : s.slice(slash + 1));
  const lenPart = slash < 0 ? "32" : s.slice(slash + 1);
  const ip = parseIPv4(ipPart);
  if (ip === undefined) return { error: `"${s}" is not a valid IPv4 or IPv6 address or CIDR` };
  if (!/^\d{1,2}$/.test(lenPart) || Number(lenPart) > 32) return { error: `"${s}" has an invalid prefix length` };
  const len = Number(lenPart);
  const addr = (ip & maskOf(len)) >>> 0;
  return { addr, len, text: `${formatIPv4(addr)}/${len}` };
}

/**
 * Parses a prefix that must be written as "address/length", as a CIDRRule's `cidr` and `except` and a
 * NetworkPolicy ipBlock must be (Cilium's CIDRRule.sanitize uses netip.ParsePrefix; Kubernetes
 * validates ipBlock as a CIDR). Only toCIDR/fromCIDR also take a bare address.
 */
export function parsePrefixNotation(s: string): Cidr | { error: string } {
  if (!s.includes("/")) return { error: `"${s}" is not in <IP address>/<prefix length> notation (write "${s}/${s.includes(":") ? 128 : 32}" for one address)` };
  return parseCidr(s);
}

/** whether IPv4 address `ip` is in `c` (never, for an IPv6 prefix) */
export function cidrContainsIp(c: Cidr, ip: number): boolean {
  return c.v6 === undefined && ((ip & maskOf(c.len)) >>> 0) === c.addr;
}

/** true when `inner` lies entirely inside `outer` (prefixes of different families never do) */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (inner.len < outer.len || (outer.v6 === undefined) !== (inner.v6 === undefined)) return false;
  if (outer.v6 !== undefined) {
    const shift = BigInt(128 - outer.len);
    return inner.v6! >> shift === outer.v6 >> shift;
  }
  return ((inner.addr & maskOf(outer.len)) >>> 0) === outer.addr;
}
