// IP addresses and CIDRs for source_ip/destination_ip filters, without Node's `net` (lib/ also runs in
// the browser). Addresses become 16-byte arrays (IPv4 as-is in 4 bytes) so prefixes compare bytewise.
import { FilterError } from "./types";

export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

export function parseIPv6(s: string): Uint8Array | null {
  if (s.includes("%")) s = s.slice(0, s.indexOf("%"));
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".") && lastColon >= 0) {
    // an embedded IPv4 tail (`::ffff:1.2.3.4`) is two hex groups
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    s = s.slice(0, lastColon + 1) + ((v4[0] << 8) | v4[1]).toString(16) + ":" + ((v4[2] << 8) | v4[3]).toString(16);
  }
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return null;
  const parseGroups = (t: string): number[] | null => {
    if (t === "") return [];
    const out: number[] = [];
    for (const g of t.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const rest = parseGroups(s.slice(dbl + 2));
    if (!head || !rest) return null;
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    const all = parseGroups(s);
    if (!all) return null;
    groups = all;
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** RFC 5952 text of a 16-byte address: lower case, the longest run (two or more, the first on ties) of zero groups as "::". */
export function formatIPv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export function parseIP(s: string): Uint8Array | null {
  return s.includes(":") ? parseIPv6(s) : parseIPv4(s);
}

export interface IPMatcher {
  /** the exact address, when the filter is not a CIDR (lets SQL use equality) */
  exact?: string;
  test(ip: string | undefined): boolean;
}

/** An exact IP or a CIDR (`10.0.0.0/8`, `fd00::/64`); throws FilterError naming the field otherwise. */
export function compileIPFilter(value: string, field: string): IPMatcher {
  const slash = value.indexOf("/");
  const addrText = slash >= 0 ? value.slice(0, slash) : value;
  const addr = parseIP(addrText);
  if (!addr) throw new FilterError(field, `invalid IP address or CIDR ${JSON.stringify(value)}`);
  if (slash < 0) {
    const canonical = addr;
    return {
      exact: value,
      test(ip) {
        if (!ip) return false;
        if (ip === value) return true;
        const other = parseIP(ip);
        return !!other && other.length === canonical.length && other.every((b, i) => b === canonical[i]);
      },
    };
  }
  const bitsText = value.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > addr.length * 8) {
    throw new FilterError(field, `invalid prefix length in CIDR ${JSON.stringify(value)}`);
  }
  return {
    test(ip) {
      if (!ip) return false;
      const other = parseIP(ip);
      if (!other || other.length !== addr.length) return false;
      const full = bits >> 3;
      for (let i = 0; i < full; i++) if (other[i] !== addr[i]) return false;
      const rem = bits & 7;
      if (rem === 0) return true;
      const mask = (0xff << (8 - rem)) & 0xff;
      return (other[full] & mask) === (addr[full] & mask);
    },
  };
}
