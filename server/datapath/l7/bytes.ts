// Bounds-checked reading and growable writing of big-endian wire data. Every read past the end
// becomes an L7ParseError naming the protocol and offset, never a RangeError.
import { fail, type WireProtocol } from "./errors";

export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class ByteReader {
  readonly buf: Buffer;
  pos: number;
  end: number;
  readonly protocol: WireProtocol;
  /** offset of buf[0] in the whole message, so errors point into the original input */
  readonly base: number;

  constructor(protocol: WireProtocol, data: Uint8Array, start = 0, end = data.byteLength, base = 0) {
    this.protocol = protocol;
    this.buf = asBuffer(data);
    this.pos = start;
    this.end = end;
    this.base = base;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(problem: string, at = this.pos): never {
    fail(this.protocol, this.base + at, problem);
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      this.fail(`truncated ${what}: need ${n} byte(s), ${this.end - this.pos} left`);
    }
  }

  u8(what = "uint8"): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  i8(what = "int8"): number {
    this.need(1, what);
    return this.buf.readInt8(this.pos++);
  }
  u16(what = "uint16"): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i16(what = "int16"): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what = "uint32"): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(what = "int32"): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  utf8(n: number, what: string): string {
    this.need(n, what);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** unsigned LEB128 varint (Kafka compact lengths, tagged fields) */
  uvarint(what = "varint"): number {
    let result = 0;
    let shift = 0;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end) this.fail(`truncated ${what}`, start);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) this.fail(`${what} longer than 5 bytes`, start);
    }
  }
  /** zig-zag signed varint */
  varint(what = "varint"): number {
    const u = this.uvarint(what);
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
}

export class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  i8(v: number): this {
    this.grow(1);
    this.buf.writeInt8(v, this.length++);
    return this;
  }
  u16(v: number): this {
    this.grow(2);
    this.buf.writeUInt16BE(v & 0xffff, this.length);
    this.length += 2;
    return this;
  }
  i16(v: number): this {
    this.grow(2);
    this.buf.writeInt16BE(v, this.length);
    this.length += 2;
    return this;
  }
  u24(v: number): this {
    this.grow(3);
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.grow(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }
  i32(v: number): this {
    this.grow(4);
    this.buf.writeInt32BE(v | 0, this.length);
    this.length += 4;
    return this;
  }
  i64(v: number | bigint): this {
    this.grow(8);
    this.buf.writeBigInt64BE(BigInt(v), this.length);
    this.length += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  ascii(s: string): this {
    this.grow(s.length);
    this.length += this.buf.write(s, this.length, "latin1");
    return this;
  }
  utf8(s: string): this {
    const n = Buffer.byteLength(s, "utf8");
    this.grow(n);
    this.buf.write(s, this.length, "utf8");
    this.length += n;
    return this;
  }
  uvarint(v: number): this {
    let x = v;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    return this.u8(x);
  }
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  /** overwrite a big-endian uint32 at a known position (length prefixes written after the body) */
  patchU32(at: number, v: number): this {
    this.buf.writeUInt32BE(v >>> 0, at);
    return this;
  }
  patchU24(at: number, v: number): this {
    this.buf[at] = (v >>> 16) & 0xff;
    this.buf[at + 1] = (v >>> 8) & 0xff;
    this.buf[at + 2] = v & 0xff;
    return this;
  }
  patchU8(at: number, v: number): this {
    this.buf[at] = v & 0xff;
    return this;
  }
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

export function concatBytes(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}
