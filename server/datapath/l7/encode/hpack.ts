// HPACK encoder: static and dynamic table indexing, literals with incremental indexing (so a
// second request on the connection reuses the entries), Huffman when it is shorter.
import { ByteWriter } from "../bytes";
import { STATIC_BY_NAME, STATIC_BY_PAIR, STATIC_COUNT, entrySize } from "../hpack-static";
import { huffmanEncode, huffmanEncodedLength } from "../huffman";

/** Headers never put in the dynamic table (RFC 7541 §7.1.3). */
const NEVER_INDEX = new Set(["authorization", "cookie", "proxy-authorization", "set-cookie"]);

export class HpackEncoder {
  private table: [string, string][] = [];
  private size = 0;
  private maxSize: number;
  private pendingSizeUpdate: number | undefined;
  huffman: boolean;

  constructor(opts: { maxTableSize?: number; huffman?: boolean } = {}) {
    this.maxSize = opts.maxTableSize ?? 4096;
    this.huffman = opts.huffman ?? true;
  }

  /** Announce a new table size at the start of the next header block. */
  setMaxTableSize(n: number): void {
    this.maxSize = n;
    this.pendingSizeUpdate = n;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize && this.table.length > 0) {
      const [n, v] = this.table.pop()!;
      this.size -= entrySize(n, v);
    }
  }

  private writeInt(w: ByteWriter, prefixBits: number, flags: number, v: number): void {
    const max = (1 << prefixBits) - 1;
    if (v < max) {
      w.u8(flags | v);
      return;
    }
    w.u8(flags | max);
    let rest = v - max;
    while (rest >= 128) {
      w.u8((rest % 128) | 0x80);
      rest = Math.floor(rest / 128);
    }
    w.u8(rest);
  }

  private writeString(w: ByteWriter, s: string): void {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0xff) throw new Error(`hpack: header text must be octets, got ${JSON.stringify(s)}`);
    }
    const hlen = huffmanEncodedLength(s);
    if (this.huffman && hlen < s.length) {
      this.writeInt(w, 7, 0x80, hlen);
      w.bytes(huffmanEncode(s));
    } else {
      this.writeInt(w, 7, 0, s.length);
      w.ascii(s);
    }
  }

  private findDynamic(name: string, value: string): { exact: number; name: number } {
    let byName = 0;
    for (let i = 0; i < this.table.length; i++) {
      const [n, v] = this.table[i];
      if (n === name) {
        if (v === value) return { exact: STATIC_COUNT + 1 + i, name: STATIC_COUNT + 1 + i };
        if (!byName) byName = STATIC_COUNT + 1 + i;
      }
    }
    return { exact: 0, name: byName };
  }

  encode(headers: [string, string][]): Buffer {
    const w = new ByteWriter(128);
    if (this.pendingSizeUpdate !== undefined) {
      this.writeInt(w, 5, 0x20, this.pendingSizeUpdate);
      this.pendingSizeUpdate = undefined;
    }
    for (const [rawName, value] of headers) {
      const name = rawName.toLowerCase();
      const sensitive = NEVER_INDEX.has(name);
      const staticExact = sensitive ? undefined : STATIC_BY_PAIR.get(`${name}\u0000${value}`);
      if (staticExact) {
        this.writeInt(w, 7, 0x80, staticExact);
        continue;
      }
      const dyn = this.findDynamic(name, value);
      if (dyn.exact && !sensitive) {
        this.writeInt(w, 7, 0x80, dyn.exact);
        continue;
      }
      const nameIndex = STATIC_BY_NAME.get(name) ?? dyn.name;
      if (sensitive) {
        this.writeInt(w, 4, 0x10, nameIndex);
      } else {
        this.writeInt(w, 6, 0x40, nameIndex);
      }
      if (!nameIndex) this.writeString(w, name);
      this.writeString(w, value);
      if (!sensitive) {
        const sz = entrySize(name, value);
        if (sz > this.maxSize) {
          this.table.length = 0;
          this.size = 0;
        } else {
          this.table.unshift([name, value]);
          this.size += sz;
          this.evict();
        }
      }
    }
    return w.finish();
  }
}
