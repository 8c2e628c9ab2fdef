// IPv4 arithmetic for pod IP allocation, the ipcache and CIDR rules. Addresses are kept as unsigned
// 32-bit numbers so prefix tests are two shifts instead of string work on the per-packet path.

export interface Cidr {
  /** network address (host bits cleared) */
  addr: number;
  len: number;
  text: string;
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

export function isIPv6(s: string): boolean {
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s);
}

export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parses "a.b.c.d/len" (or a bare address = /32). Host bits set are an error, as in Cilium's API. */
export function parseCidr(s: string): Cidr | { error: string } {
  const slash = s.indexOf("/");
  const ipPart = slash < 0 ? s : s.slice(0, slash);
  const lenPart = slash < 0 ? "32" : s.slice(slash + 1);
  const ip = parseIPv4(ipPart);
  if (ip === undefined) {
    if (isIPv6(ipPart)) return { error: `IPv6 prefix "${s}" is not supported by this simulator (IPv4 only)` };
    return { error: `"${s}" is not a valid IPv4 address or CIDR` };
  }
  if (!/^\d{1,2}$/.test(lenPart) || Number(lenPart) > 32) return { error: `"${s}" has an invalid prefix length` };
  const len = Number(lenPart);
  const addr = (ip & maskOf(len)) >>> 0;
  return { addr, len, text: `${formatIPv4(addr)}/${len}` };
}

export function cidrContainsIp(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.len)) >>> 0) === c.addr;
}

/** true when `inner` lies entirely inside `outer` */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.len >= outer.len && ((inner.addr & maskOf(outer.len)) >>> 0) === outer.addr;
}
