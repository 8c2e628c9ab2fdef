// The precomputed answers of one policy map, in flat Int32Arrays: a lookup is a probe or two
// whatever the number of rules, allocates nothing, and ports inside port ranges (which used to fall
// back to scanning the range lists, 4-7x slower per packet) are answered from a short sorted segment
// list. Between 10 and 10,000 rules the code path is the same; what differs is how much memory the
// lookups touch. Tables are per compiled map, and a map is shared by every endpoint with the same
// compile inputs (engine.ts), so the bench's 500 endpoints read 100 tables, not 500.
//
// Two open-addressing Int32Array tables. `rows` has one slot per (identity, protocol) with answers of
// its own: [row key, port filter], row key = identity · 8 + protocol, and beside it in `rowAnswers`
// [answer for every other port, segment offset]. `exact` has one slot per exact port of a row:
// [row key, port, answer]. A lookup probes the row first; its port filter (a 32-bit Bloom filter of
// the row's exact ports) says whether the port can be in `exact` at all, so a packet to a port with
// no entry of its own is answered from the row alone. Row slots are 8 bytes, so the rows of a hundred
// maps stay in L1; only ports with entries of their own read `exact`.
// Ports inside port ranges are answered by a sorted segment list in `segs`: the answer is constant
// between segment starts, which are the range bounds and the starts of their aligned prefix blocks
// (where a range's precedence changes, see portPrefixLen in policy-map.ts).
// Answers are non-negative integers (policy-map.ts packs verdict codes into them).

/** row key of an unused slot; keys are never negative */
const EMPTY = -1;

function rowKey(identity: number, proto: number): number {
  return identity * 8 + proto;
}

function portBit(port: number): number {
  return 1 << (Math.imul(port, 0x9e3779b1) >>> 27);
}

/** slot index of (a, b) before probing; `shift` = 32 − log2(capacity) */
function slotOf(a: number, b: number, shift: number): number {
  return Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) >>> shift;
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
  rows: Int32Array;
  rowAnswers: Int32Array;
  rowShift: number;
  rowMask: number;
  exact: Int32Array;
  exactShift: number;
  exactMask: number;
  /** per row with ranges: lo, hi, n, starts[n], results[n] */
  segs: Int32Array;
}

/** capacity bits for `count` keys at a load factor of at most 1/2 (misses then end within a probe or two) */
function capacityBits(count: number): number {
  let bits = 2;
  while (1 << bits < count * 2) bits++;
  return bits;
}

export function buildFlatTable(rows: readonly FlatRow[]): FlatTable {
  let exactCount = 0;
  let segLen = 0;
  for (const r of rows) {
    exactCount += r.exact.length;
    if (r.segments) segLen += 3 + 2 * r.segments.starts.length;
  }
  const rowBits = capacityBits(rows.length);
  const exactBits = capacityBits(exactCount);
  const t: FlatTable = {
    rows: new Int32Array((1 << rowBits) * 2).fill(EMPTY),
    rowAnswers: new Int32Array((1 << rowBits) * 2),
    rowShift: 32 - rowBits,
    rowMask: (1 << rowBits) - 1,
    exact: new Int32Array((1 << exactBits) * 3).fill(EMPTY),
    exactShift: 32 - exactBits,
    exactMask: (1 << exactBits) - 1,
    segs: new Int32Array(segLen),
  };
  let segAt = 0;
  for (const r of rows) {
    const key = rowKey(r.identity, r.proto);
    let filter = 0;
    for (const [port, result] of r.exact) {
      filter |= portBit(port);
      let i = slotOf(key, port, t.exactShift);
      while (t.exact[i * 3] !== EMPTY) i = (i + 1) & t.exactMask;
      t.exact.set([key, port, result], i * 3);
    }
    let segOff = -1;
    const s = r.segments;
    if (s) {
      segOff = segAt;
      const n = s.starts.length;
      t.segs[segAt++] = s.lo;
      t.segs[segAt++] = s.hi;
      t.segs[segAt++] = n;
      for (let i = 0; i < n; i++) t.segs[segAt + i] = s.starts[i]!;
      for (let i = 0; i < n; i++) t.segs[segAt + n + i] = s.results[i]!;
      segAt += 2 * n;
    }
    let i = slotOf(key, 0, t.rowShift);
    while (t.rows[i << 1] !== EMPTY) {
      if (t.rows[i << 1] === key) throw new Error(`flat table: row (${r.identity}, ${r.proto}) given twice`);
      i = (i + 1) & t.rowMask;
    }
    t.rows.set([key, filter], i << 1);
    t.rowAnswers.set([r.fallback, segOff], i << 1);
  }
  return t;
}

/** offset of the row slot for `key` in `rows` (and `rowAnswers`), or −1 */
function findRow(rows: Int32Array, shift: number, mask: number, key: number): number {
  let i = slotOf(key, 0, shift);
  for (;;) {
    const o = i << 1;
    const k = rows[o];
    if (k === key) return o;
    if (k === EMPTY) return -1;
    i = (i + 1) & mask;
  }
}

/**
 * The answer for (identity, protocol, port), or −1 when neither the identity nor `anyIdentity` has a
 * row for the protocol. A peer without a row of its own gets the `anyIdentity` row's answers.
 */
export function lookupAnswer(t: FlatTable, identity: number, proto: number, port: number, anyIdentity: number): number {
  const rows = t.rows;
  let key = rowKey(identity, proto);
  let o = findRow(rows, t.rowShift, t.rowMask, key);
  if (o < 0) {
    if (identity === anyIdentity) return -1;
    key = rowKey(anyIdentity, proto);
    o = findRow(rows, t.rowShift, t.rowMask, key);
    if (o < 0) return -1;
  }
  if ((rows[o + 1]! & portBit(port)) !== 0) {
    const exact = t.exact;
    let i = slotOf(key, port, t.exactShift);
    for (;;) {
      const e = i * 3;
      const k = exact[e];
      if (k === key && exact[e + 1] === port) return exact[e + 2]!;
      if (k === EMPTY) break;
      i = (i + 1) & t.exactMask;
    }
  }
  const answers = t.rowAnswers;
  const segOff = answers[o + 1]!;
  return segOff < 0 ? answers[o]! : segmentResult(t.segs, segOff, port, answers[o]!);
}

function segmentResult(segs: Int32Array, off: number, port: number, fallback: number): number {
  if (port < segs[off]! || port > segs[off + 1]!) return fallback;
  const n = segs[off + 2]!;
  const starts = off + 3;
  // last segment starting at or before the port
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[starts + mid]! <= port) lo = mid;
    else hi = mid - 1;
  }
  return segs[starts + n + lo]!;
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
