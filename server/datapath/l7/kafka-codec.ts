// Generic Kafka body codec driven by kafka-schema.ts: classic encodings (int16 string lengths,
// int32 array counts) below an API's first flexible version, compact encodings (unsigned varint
// length + 1) and tagged-field sections from it on.
import { ByteReader, ByteWriter } from "./bytes";
import { L7ParseError } from "./errors";
import { inVersions, type Field, type Primitive } from "./kafka-schema";

export type KafkaValue = Record<string, unknown>;

function isNullable(f: Field, version: number): boolean {
  return f.nullable !== undefined && inVersions(version, f.nullable);
}

function readLength(r: ByteReader, flexible: boolean, kind: "string" | "bytes" | "array", what: string): number {
  if (flexible) return r.uvarint(`${what} length`) - 1;
  if (kind === "string") return r.i16(`${what} length`);
  return r.i32(`${what} length`);
}

function readPrimitive(r: ByteReader, type: Primitive, flexible: boolean, nullable: boolean, what: string): unknown {
  switch (type) {
    case "int8":
      return r.i8(what);
    case "int16":
      return r.i16(what);
    case "int32":
      return r.i32(what);
    case "int64": {
      r.need(8, what);
      const v = r.buf.readBigInt64BE(r.pos);
      r.pos += 8;
      return v;
    }
    case "bool": {
      const b = r.u8(what);
      if (b > 1) r.fail(`${what}: boolean byte ${b}`, r.pos - 1);
      return b === 1;
    }
    case "uuid":
      return r.bytes(16, what).toString("hex");
    case "string":
    case "bytes": {
      const at = r.pos;
      const len = readLength(r, flexible, type, what);
      if (len < 0) {
        if (len === -1 && nullable) return null;
        r.fail(`${what}: ${len === -1 ? "null not allowed here" : `invalid length ${len}`}`, at);
      }
      if (len > r.remaining) r.fail(`${what}: length ${len} exceeds the ${r.remaining} byte(s) left`, at);
      return type === "string" ? r.utf8(len, what) : r.bytes(len, what);
    }
  }
}

function skipTaggedFields(r: ByteReader): void {
  const n = r.uvarint("tagged field count");
  for (let i = 0; i < n; i++) {
    r.uvarint("tag");
    const size = r.uvarint("tagged field size");
    r.skip(size, "tagged field");
  }
}

function withPath(e: unknown, prefix: string): never {
  if (e instanceof L7ParseError && !e.problem.startsWith(prefix)) throw new L7ParseError(e.protocol, e.offset, `${prefix}${e.problem}`);
  throw e;
}

export function decodeFields(r: ByteReader, fields: Field[], version: number, flexible: boolean): KafkaValue {
  const out: KafkaValue = {};
  for (const f of fields) {
    if (!inVersions(version, f.v)) continue;
    try {
      const nullable = isNullable(f, version);
      if (f.type === "struct[]" || f.array) {
        const at = r.pos;
        const n = readLength(r, flexible, "array", f.name);
        if (n < 0) {
          if (n === -1 && nullable) {
            out[f.name] = null;
            continue;
          }
          r.fail(`${n === -1 ? "null array not allowed here" : `invalid array count ${n}`}`, at);
        }
        if (n > r.remaining) r.fail(`array count ${n} exceeds the ${r.remaining} byte(s) left`, at);
        const items: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) {
          try {
            if (f.type === "struct[]") {
              items[i] = decodeFields(r, f.fields, version, flexible);
              if (flexible) skipTaggedFields(r);
            } else {
              items[i] = readPrimitive(r, f.type, flexible, false, "element");
            }
          } catch (e) {
            withPath(e, `[${i}]`);
          }
        }
        out[f.name] = items;
      } else {
        out[f.name] = readPrimitive(r, f.type, flexible, nullable, "value");
      }
    } catch (e) {
      withPath(e, `${f.name}`);
    }
  }
  return out;
}

export function decodeBody(r: ByteReader, fields: Field[], version: number, flexible: boolean): KafkaValue {
  const v = decodeFields(r, fields, version, flexible);
  if (flexible) skipTaggedFields(r);
  return v;
}

function writeLength(w: ByteWriter, flexible: boolean, kind: "string" | "bytes" | "array", len: number): void {
  if (flexible) w.uvarint(len + 1);
  else if (kind === "string") w.i16(len);
  else w.i32(len);
}

function writePrimitive(w: ByteWriter, type: Primitive, flexible: boolean, v: unknown): void {
  switch (type) {
    case "int8":
      w.i8(Number(v ?? 0));
      return;
    case "int16":
      w.i16(Number(v ?? 0));
      return;
    case "int32":
      w.i32(Number(v ?? 0));
      return;
    case "int64":
      w.i64(typeof v === "bigint" ? v : BigInt(Number(v ?? 0)));
      return;
    case "bool":
      w.u8(v ? 1 : 0);
      return;
    case "uuid": {
      const hex = typeof v === "string" && /^[0-9a-f]{32}$/i.test(v) ? v : "0".repeat(32);
      w.bytes(Buffer.from(hex, "hex"));
      return;
    }
    case "string":
    case "bytes": {
      if (v === null) {
        writeLength(w, flexible, type, -1);
        return;
      }
      const b = typeof v === "string" ? Buffer.from(v, "utf8") : v instanceof Uint8Array ? v : Buffer.alloc(0);
      writeLength(w, flexible, type, b.length);
      w.bytes(b);
    }
  }
}

export function encodeFields(w: ByteWriter, fields: Field[], version: number, flexible: boolean, value: KafkaValue): void {
  for (const f of fields) {
    if (!inVersions(version, f.v)) continue;
    const v = value[f.name];
    if (f.type === "struct[]" || f.array) {
      if (v === null && isNullable(f, version)) {
        writeLength(w, flexible, "array", -1);
        continue;
      }
      const items = Array.isArray(v) ? v : [];
      writeLength(w, flexible, "array", items.length);
      for (const item of items) {
        if (f.type === "struct[]") {
          encodeFields(w, f.fields, version, flexible, item as KafkaValue);
          if (flexible) w.uvarint(0);
        } else writePrimitive(w, f.type, flexible, item);
      }
    } else {
      // a null for a non-nullable string becomes "" rather than an invalid message
      const val = v === undefined || (v === null && !isNullable(f, version)) ? (f.type === "string" ? (isNullable(f, version) ? null : "") : f.type === "bytes" ? null : undefined) : v;
      writePrimitive(w, f.type, flexible, val);
    }
  }
}

export function encodeBody(w: ByteWriter, fields: Field[], version: number, flexible: boolean, value: KafkaValue): void {
  encodeFields(w, fields, version, flexible, value);
  if (flexible) w.uvarint(0);
}
