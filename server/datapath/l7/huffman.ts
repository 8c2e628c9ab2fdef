// HPACK Huffman coding (RFC 7541 §5.2, Appendix B). Decoding walks a byte-at-a-time transition
// table built once from the canonical code, so a string costs one lookup per input byte.
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

const NODES = child0.length;
// per (node, byte): next node, up to two emitted symbols; next = -1 means EOS was decoded
const tNext = new Int16Array(NODES * 256);
const tSym1 = new Int16Array(NODES * 256).fill(-1);
const tSym2 = new Int16Array(NODES * 256).fill(-1);
for (let n = 0; n < NODES; n++) {
  if (leafSym[n] >= 0) continue;
  for (let b = 0; b < 256; b++) {
    let node = n;
    let s1 = -1;
    let s2 = -1;
    let bad = false;
    for (let i = 7; i >= 0; i--) {
      node = (b >> i) & 1 ? child1[node] : child0[node];
      const sym = leafSym[node];
      if (sym >= 0) {
        if (sym === 256) {
          bad = true;
          break;
        }
        if (s1 < 0) s1 = sym;
        else s2 = sym;
        node = 0;
      }
    }
    const idx = n * 256 + b;
    tNext[idx] = bad ? -1 : node;
    tSym1[idx] = s1;
    tSym2[idx] = s2;
  }
}

/** Decode Huffman-coded octets; `offset` is where they start in the header block (for errors). */
export function huffmanDecode(data: Uint8Array, start: number, end: number, offset: number): string {
  let node = 0;
  let out = "";
  for (let i = start; i < end; i++) {
    const idx = node * 256 + data[i];
    const next = tNext[idx];
    if (next < 0) fail("hpack", offset + (i - start), "Huffman string contains the EOS symbol");
    const s1 = tSym1[idx];
    if (s1 >= 0) {
      out += String.fromCharCode(s1);
      const s2 = tSym2[idx];
      if (s2 >= 0) out += String.fromCharCode(s2);
    }
    node = next;
  }
  if (node !== 0 && (depth[node] > 7 || !allOnes[node])) {
    fail("hpack", offset + (end - start), "invalid Huffman padding (must be fewer than 8 one-bits, a prefix of EOS)");
  }
  return out;
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
