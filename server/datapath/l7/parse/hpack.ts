// HPACK decoder (RFC 7541): indexed fields, literals with/without/never indexing, dynamic table
// size updates, Huffman strings. One decoder per direction of a connection, since the dynamic
// table persists across header blocks.
//
// This runs once per proxied HTTP/2 request, so the hot path avoids allocation: the dynamic table
// is two parallel arrays (newest at the end, eviction advances a start index), plain strings are
// sliced straight out of the block and the static table is read through module-local arrays.
import { asBuffer } from "../bytes";
import { fail } from "../errors";
import { HPACK_STATIC_TABLE } from "../hpack-huffman-table";
import { huffmanDecode } from "../huffman";

export const HPACK_MAX_HEADER_LIST = 64 * 1024;

const STATIC_NAMES: readonly string[] = HPACK_STATIC_TABLE.map(([n]) => n);
const STATIC_PAIRS: readonly [string, string][] = HPACK_STATIC_TABLE.map(([n, v]) => [n, v]);
const STATIC_N = STATIC_NAMES.length; // 61
/** RFC 7541 §4.1: an entry's size is its name and value length plus 32 octets of overhead */
const ENTRY_OVERHEAD = 32;

const EMPTY = Buffer.alloc(0) as Latin1Buffer;

export class HpackDecoder {
  // dynamic table: entries first..names.length-1, newest last
  private names: string[] = [];
  private values: string[] = [];
  private first = 0;
  private size = 0;
  private maxSize: number;
  /** upper bound the peer may set with a size update: our SETTINGS_HEADER_TABLE_SIZE */
  private limit: number;

  // cursor over the block being decoded (instance fields rather than closures: this runs per request)
  private block: Latin1Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  /** offset of block[0] in the connection bytes, so errors point at the right place */
  private base = 0;

  constructor(settingsHeaderTableSize = 4096) {
    this.limit = settingsHeaderTableSize;
    this.maxSize = settingsHeaderTableSize;
  }

  get dynamicEntries(): number {
    return this.names.length - this.first;
  }

  private evict(): void {
    const names = this.names;
    const values = this.values;
    while (this.size > this.maxSize && this.first < names.length) {
      this.size -= names[this.first].length + values[this.first].length + ENTRY_OVERHEAD;
      this.first++;
    }
    // compact now and then so the arrays do not grow without bound on a long connection
    if (this.first > 64 && this.first * 2 > names.length) {
      names.splice(0, this.first);
      values.splice(0, this.first);
      this.first = 0;
    }
  }

  private insert(name: string, value: string): void {
    const sz = name.length + value.length + ENTRY_OVERHEAD;
    if (sz > this.maxSize) {
      // RFC 7541 §4.4: an entry larger than the table empties it and is not added
      this.names.length = 0;
      this.values.length = 0;
      this.first = 0;
      this.size = 0;
      return;
    }
    this.names.push(name);
    this.values.push(value);
    this.size += sz;
    if (this.size > this.maxSize) this.evict();
  }

  /** dynamic-table position of an index > 61, or fails naming the index */
  private dynamicSlot(index: number, at: number): number {
    const slot = this.names.length - (index - STATIC_N);
    if (slot < this.first) {
      fail("hpack", at, `header index ${index} beyond the dynamic table (${this.names.length - this.first} entries)`);
    }
    return slot;
  }

  private nameAt(index: number, at: number): string {
    if (index === 0) fail("hpack", at, "header index 0 is invalid");
    if (index <= STATIC_N) return STATIC_NAMES[index - 1];
    return this.names[this.dynamicSlot(index, at)];
  }

  private readInt(prefixBits: number): number {
    const at = this.pos;
    const block = this.block;
    if (this.pos >= this.end) fail("hpack", this.base + at, "truncated integer");
    const mask = (1 << prefixBits) - 1;
    let v = block[this.pos++] & mask;
    if (v < mask) return v;
    let m = 0;
    for (;;) {
      if (this.pos >= this.end) fail("hpack", this.base + at, "truncated integer");
      const b = block[this.pos++];
      v += (b & 0x7f) * 2 ** m;
      m += 7;
      if (v > 0x7fffffff) fail("hpack", this.base + at, "integer overflow");
      if ((b & 0x80) === 0) return v;
    }
  }

  private readString(): string {
    if (this.pos >= this.end) fail("hpack", this.base + this.pos, "truncated string length");
    const huff = (this.block[this.pos] & 0x80) !== 0;
    const len = this.readInt(7);
    const at = this.pos;
    if (at + len > this.end) fail("hpack", this.base + at, `string length ${len} exceeds header block (${this.end - at} byte(s) left)`);
    if (len > HPACK_MAX_HEADER_LIST) fail("hpack", this.base + at, "header string larger than the header list limit");
    this.pos += len;
    if (huff) return huffmanDecode(this.block, at, at + len, this.base + at);
    return this.block.latin1Slice(at, at + len);
  }

  /**
   * Decode one complete header block: `block[start..end)`, which sits at offset `base` of the
   * connection bytes (for error offsets).
   */
  decode(block: Uint8Array, base = 0, start = 0, end = block.length): [string, string][] {
    const out: [string, string][] = [];
    const buf = asBuffer(block) as Latin1Buffer;
    this.block = buf;
    this.pos = start;
    this.end = end;
    // errors report offsets relative to `base` = block[start]
    this.base = base - start;
    const origin = this.base;
    let listSize = 0;
    while (this.pos < this.end) {
      const at = this.pos;
      const b = buf[at];
      let field: [string, string];
      if (b & 0x80) {
        const idx = this.readInt(7);
        if (idx === 0) fail("hpack", origin + at, "header index 0 is invalid");
        if (idx <= STATIC_N) {
          const s = STATIC_PAIRS[idx - 1];
          field = [s[0], s[1]];
        } else {
          const slot = this.dynamicSlot(idx, origin + at);
          field = [this.names[slot], this.values[slot]];
        }
      } else if ((b & 0xc0) === 0x40) {
        const idx = this.readInt(6);
        const name = idx === 0 ? this.readString() : this.nameAt(idx, origin + at);
        const value = this.readString();
        this.insert(name, value);
        field = [name, value];
      } else if ((b & 0xe0) === 0x20) {
        if (out.length > 0) fail("hpack", origin + at, "dynamic table size update after a header field");
        const n = this.readInt(5);
        if (n > this.limit) fail("hpack", origin + at, `dynamic table size update ${n} exceeds the limit ${this.limit}`);
        this.maxSize = n;
        this.evict();
        continue;
      } else {
        // literal without indexing (0000) or never indexed (0001)
        const idx = this.readInt(4);
        const name = idx === 0 ? this.readString() : this.nameAt(idx, origin + at);
        field = [name, this.readString()];
      }
      listSize += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listSize > HPACK_MAX_HEADER_LIST) fail("hpack", origin + at, `header list larger than ${HPACK_MAX_HEADER_LIST} bytes`);
      out.push(field);
    }
    this.block = EMPTY;
    return out;
  }
}

// Buffer's native latin1 slicer (what toString("latin1", …) ends in, minus its argument handling)
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}
