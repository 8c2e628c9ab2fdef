// HPACK Huffman coding (RFC 7541 §5.2, Appendix B). Decoding is a byte-at-a-time state machine:
// the states are the 256 internal nodes of the code tree, and one packed Int32 entry per
// (state, input byte) gives the next state and the 0–2 symbols completed on the way, so a string
// costs one table load per input byte and no per-bit work. Decoded octets go to a scratch buffer
// and become one flat string at the end (no per-symbol string concatenation).
import { fail } from "./errors";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./hpack-huffman-table";

const EOS_CODE = 0x3fffffff;
const EOS_LEN = 30;

// Binary tree of the code: node 0 is the root; sym >= 0 marks a leaf.
const child0: number[] = [-1];
const child1: number[] = [-1];
const leafSym: number[] = [-1];
const depth: number[] = [0];
const allOnes: boolean[] = [true];

function insert(code: number, len: number, sym: number): void {
  let node = 0;
  for (let i = len - 1; i >= 0; i--) {
    const bit = Math.floor(code / 2 ** i) % 2;
    const kids = bit ? child1 : child0;
    let next = kids[node];
    if (next < 0) {
      next = child0.length;
      child0.push(-1);
      child1.push(-1);
      leafSym.push(-1);
      depth.push(depth[node] + 1);
      allOnes.push(allOnes[node] && bit === 1);
      kids[node] = next;
    }
    node = next;
  }
  leafSym[node] = sym;
}
for (let s = 0; s < 256; s++) insert(HUFFMAN_CODES[s], HUFFMAN_LENGTHS[s], s);
insert(EOS_CODE, EOS_LEN, 256);

// number the internal nodes 0..255 (the root stays 0): those are the decoder's states
const stateOf = new Int32Array(child0.length).fill(-1);
const nodeOf: number[] = [];
for (let n = 0; n < child0.length; n++) {
  if (leafSym[n] < 0) {
    stateOf[n] = nodeOf.length;
    nodeOf.push(n);
  }
}
const STATES = nodeOf.length; // 256

// Entry layout: bits 0-7 next state, 8-15 first symbol, 16-23 second symbol, 24-25 symbol count,
// bit 26 EOS decoded (an error). A string may end only in a state that is a valid padding
// prefix: fewer than 8 bits deep and all ones (a prefix of EOS), or the root.
const ERR_EOS = 1 << 26;
const TABLE = new Int32Array(STATES * 256);
const CAN_END = new Uint8Array(STATES);
for (let st = 0; st < STATES; st++) {
  const n0 = nodeOf[st];
  CAN_END[st] = n0 === 0 || (depth[n0] <= 7 && allOnes[n0]) ? 1 : 0;
  for (let b = 0; b < 256; b++) {
    let node = n0;
    let count = 0;
    let syms = 0;
    let eos = false;
    for (let i = 7; i >= 0; i--) {
      node = (b >> i) & 1 ? child1[node] : child0[node];
      const sym = leafSym[node];
      if (sym >= 0) {
        if (sym === 256) {
          eos = true;
          break;
        }
        syms |= sym << (8 + 8 * count);
        count++;
        node = 0;
      }
    }
    TABLE[st * 256 + b] = eos ? ERR_EOS : stateOf[node] | syms | (count << 24);
  }
}

// Buffer's native latin1 slicer: one flat one-byte string straight from the bytes, without the
// argument handling of toString().
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}
// Huffman output is at most 8/5 of its input (shortest code: 5 bits); grown on demand.
let scratch = Buffer.allocUnsafe(1024) as Latin1Buffer;

/** Decode Huffman-coded octets; `offset` is where they start in the header block (for errors). */
export function huffmanDecode(data: Uint8Array, start: number, end: number, offset: number): string {
  const need = (((end - start) * 8) / 5 + 2) | 0;
  if (need > scratch.length) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2)) as Latin1Buffer;
  const out = scratch;
  const table = TABLE;
  let state = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const e = table[(state << 8) | data[i]];
    if (e & ERR_EOS) fail("hpack", offset + (i - start), "Huffman string contains the EOS symbol");
    const count = e >>> 24;
    if (count !== 0) {
      out[o++] = (e >>> 8) & 0xff;
      if (count === 2) out[o++] = (e >>> 16) & 0xff;
    }
    state = e & 0xff;
  }
  if (CAN_END[state] === 0) {
    fail("hpack", offset + (end - start), "invalid Huffman padding (must be fewer than 8 one-bits, a prefix of EOS)");
  }
  return out.latin1Slice(0, o);
}

export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff];
  return Math.ceil(bits / 8);
}

export function huffmanEncode(s: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(s));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[c];
    acc = acc * 2 ** len + HUFFMAN_CODES[c];
    bits += len;
    while (bits >= 8) {
      const shift = 2 ** (bits - 8);
      out[o++] = Math.floor(acc / shift) & 0xff;
      acc = acc % shift;
      bits -= 8;
    }
  }
  if (bits > 0) {
    // pad with the most significant bits of EOS (all ones)
    out[o++] = ((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff;
  }
  return out;
}
