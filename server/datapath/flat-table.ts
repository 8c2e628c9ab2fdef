// The precomputed answers of one policy map, packed into one Int32Array open-addressing table: a
// hit is one probe, a miss two, and ports inside port ranges (which used to fall back to scanning
// the range lists, 4-7x slower per packet) are answered from a short sorted segment list.
// Between 10 and 10,000 rules the code path is the same; what differs is how much memory the
// lookups touch. Tables are per compiled map, and a map is shared by every endpoint with the same
// compile inputs (engine.ts), so the bench's 500 endpoints read 100 tables with their entries, not
// 500: that working set stays in L2 even at ~60 entries per map.
//
// Slots are 4 ints: [identity, key, result code, segment offset]. key = proto << 17 | port for an
// exact port, or proto << 17 | FALLBACK_PORT for "every other port of this protocol". Ports inside
// port ranges are answered by a sorted segment list in `segs`: the answer is constant between
// segment starts, which are the range bounds and the starts of their aligned prefix blocks (where a
// range's precedence changes, see portPrefixLen in policy-map.ts).

/** identity column value of an unused slot; identities are never negative */
const EMPTY = -1;
/** port value of the fallback key: above every real port, so it never collides with one */
export const FALLBACK_PORT = 0x10000;

export function keyOf(proto: number, port: number): number {
  return (proto << 17) | port;
}

/** slot index of (identity, key) before probing; `shift` = 32 − log2(capacity) */
export function slotOf(identity: number, key: number, shift: number): number {
  return Math.imul(Math.imul(identity, 0x9e3779b1) ^ key, 0x85ebca6b) >>> shift;
}

export interface RangeSegments {
  /** the ports [lo, hi] that segments answer; outside, the fallback answers */
  lo: number;
  hi: number;
  /** ascending; starts[0] === lo; segment i covers [starts[i], starts[i+1] − 1] */
  starts: number[];
  results: number[];
}

/** the answers for one (identity, protocol) */
export interface FlatRow {
  identity: number;
  proto: number;
  exact: [port: number, result: number][];
  fallback: number;
  segments: RangeSegments | null;
}

export interface FlatTable {
  slots: Int32Array;
  shift: number;
  mask: number;
  /** per row with ranges: lo, hi, n, starts[n], results[n] */
  segs: Int32Array;
}

export function buildFlatTable(rows: readonly FlatRow[]): FlatTable {
  let count = 0;
  let segLen = 0;
  for (const r of rows) {
    count += r.exact.length + 1;
    if (r.segments) segLen += 3 + 2 * r.segments.starts.length;
  }
  // load factor ≤ 1/2 keeps misses (half of real traffic) to a probe or two
  let bits = 3;
  while (1 << bits < count * 2) bits++;
  const cap = 1 << bits;
  const shift = 32 - bits;
  const mask = cap - 1;
  const slots = new Int32Array(cap * 4).fill(EMPTY);
  const segs = new Int32Array(segLen);
  let segAt = 0;
  const put = (identity: number, key: number, result: number, segOff: number) => {
    let i = slotOf(identity, key, shift);
    while (slots[i << 2] !== EMPTY) i = (i + 1) & mask;
    const o = i << 2;
    slots[o] = identity;
    slots[o + 1] = key;
    slots[o + 2] = result;
    slots[o + 3] = segOff;
  };
  for (const r of rows) {
    for (const [port, result] of r.exact) put(r.identity, keyOf(r.proto, port), result, -1);
    let segOff = -1;
    const s = r.segments;
    if (s) {
      segOff = segAt;
      const n = s.starts.length;
      segs[segAt++] = s.lo;
      segs[segAt++] = s.hi;
      segs[segAt++] = n;
      for (let i = 0; i < n; i++) segs[segAt + i] = s.starts[i];
      for (let i = 0; i < n; i++) segs[segAt + n + i] = s.results[i];
      segAt += 2 * n;
    }
    put(r.identity, keyOf(r.proto, FALLBACK_PORT), r.fallback, segOff);
  }
  return { slots, shift, mask, segs };
}

/**
 * Result index for (identity, key), or −1 when the table has no such slot. For a fallback key,
 * `port` selects the segment when the row has port ranges. The table's parts are passed one by one
 * so the caller can keep them in its own fields: one object fewer to load per lookup.
 */
export function probe(slots: Int32Array, shift: number, mask: number, segs: Int32Array, identity: number, key: number, port: number): number {
  let i = slotOf(identity, key, shift);
  for (;;) {
    const o = i << 2;
    const id = slots[o];
    if (id === identity && slots[o + 1] === key) {
      const segOff = slots[o + 3];
      if (segOff < 0) return slots[o + 2];
      return segmentResult(segs, segOff, port, slots[o + 2]);
    }
    if (id === EMPTY) return -1;
    i = (i + 1) & mask;
  }
}

function segmentResult(segs: Int32Array, off: number, port: number, fallback: number): number {
  if (port < segs[off] || port > segs[off + 1]) return fallback;
  const n = segs[off + 2];
  const starts = off + 3;
  // last segment starting at or before the port
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[starts + mid] <= port) lo = mid;
    else hi = mid - 1;
  }
  return segs[starts + n + lo];
}

/** starts of the aligned blocks Cilium expands [lo, hi] into; each is the largest that fits */
export function prefixBlockStarts(lo: number, hi: number): number[] {
  const out: number[] = [];
  let p = lo;
  while (p <= hi) {
    out.push(p);
    let size = 1;
    while (size < 65536 && p % (size * 2) === 0 && p + size * 2 - 1 <= hi) size *= 2;
    p += size;
  }
  return out;
}
