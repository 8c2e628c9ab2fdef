// HPACK decoder (RFC 7541): indexed fields, literals with/without/never indexing, dynamic table
// size updates, Huffman strings. One decoder per direction of a connection, since the dynamic
// table persists across header blocks.
import { fail } from "../errors";
import { HPACK_STATIC_TABLE } from "../hpack-huffman-table";
import { STATIC_COUNT, entrySize } from "../hpack-static";
import { huffmanDecode } from "../huffman";

export const HPACK_MAX_HEADER_LIST = 64 * 1024;

export class HpackDecoder {
  /** newest first */
  private table: [string, string][] = [];
  private size = 0;
  private maxSize: number;
  /** upper bound the peer may set with a size update: our SETTINGS_HEADER_TABLE_SIZE */
  private limit: number;

  constructor(settingsHeaderTableSize = 4096) {
    this.limit = settingsHeaderTableSize;
    this.maxSize = settingsHeaderTableSize;
  }

  get dynamicEntries(): number {
    return this.table.length;
  }

  private evict(): void {
    while (this.size > this.maxSize && this.table.length > 0) {
      const [n, v] = this.table.pop()!;
      this.size -= entrySize(n, v);
    }
  }

  private lookup(index: number, at: number): [string, string] {
    if (index === 0) fail("hpack", at, "header index 0 is invalid");
    if (index <= STATIC_COUNT) return HPACK_STATIC_TABLE[index - 1] as [string, string];
    const d = this.table[index - STATIC_COUNT - 1];
    if (!d) fail("hpack", at, `header index ${index} beyond the dynamic table (${this.table.length} entries)`);
    return d;
  }

  // cursor over the block being decoded (instance fields rather than closures: this runs per request)
  private block: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private base = 0;

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
    return Buffer.from(this.block.buffer, this.block.byteOffset + at, len).toString("latin1");
  }

  /**
   * Decode one complete header block. `base` is the block's offset in the connection bytes so
   * errors point at the right place.
   */
  decode(block: Uint8Array, base = 0): [string, string][] {
    const out: [string, string][] = [];
    this.block = block;
    this.pos = 0;
    this.end = block.length;
    this.base = base;
    let listSize = 0;
    while (this.pos < this.end) {
      const at = this.pos;
      const b = block[at];
      let name: string;
      let value: string;
      if (b & 0x80) {
        [name, value] = this.lookup(this.readInt(7), base + at);
      } else if ((b & 0xc0) === 0x40) {
        const idx = this.readInt(6);
        name = idx === 0 ? this.readString() : this.lookup(idx, base + at)[0];
        value = this.readString();
        const sz = entrySize(name, value);
        if (sz > this.maxSize) {
          this.table.length = 0;
          this.size = 0;
        } else {
          this.table.unshift([name, value]);
          this.size += sz;
          this.evict();
        }
      } else if ((b & 0xe0) === 0x20) {
        if (out.length > 0) fail("hpack", base + at, "dynamic table size update after a header field");
        const n = this.readInt(5);
        if (n > this.limit) fail("hpack", base + at, `dynamic table size update ${n} exceeds the limit ${this.limit}`);
        this.maxSize = n;
        this.evict();
        continue;
      } else {
        // literal without indexing (0000) or never indexed (0001)
        const idx = this.readInt(4);
        name = idx === 0 ? this.readString() : this.lookup(idx, base + at)[0];
        value = this.readString();
      }
      listSize += entrySize(name, value);
      if (listSize > HPACK_MAX_HEADER_LIST) fail("hpack", base + at, `header list larger than ${HPACK_MAX_HEADER_LIST} bytes`);
      out.push([name, value]);
    }
    this.block = EMPTY;
    return out;
  }
}

const EMPTY = new Uint8Array(0);
