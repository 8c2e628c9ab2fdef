// What CEL knows of the flow: `_flow` is a flow.Flow message (Hubble's filter declares it so, with the
// container "flow"), each field typed as CEL types protobuf fields: int32 → int, uint32/uint64 → uint,
// enums → int, wrappers → nullable, Timestamp → timestamp, Any → dyn, repeated → list. Flowscope holds
// flows in protojson form (enum names, 64-bit numbers as strings, RFC 3339 times); reading a field
// turns its value into the CEL value Hubble's proto would give, default values included.
import { SCHEMA, ENUMS, type FieldType } from "../../flow/json";
import { DROP_REASON_NAMES, dropReasonCode } from "../../flow/enums";
import { CelEvalError, CelInt, CelMap, CelMessage, CelTimestamp, CelUint, mapKey, type CelValue } from "./values";

export type CelType =
  | { k: "int" | "uint" | "double" | "string" | "bool" | "null" | "bytes" | "timestamp" | "duration" | "dyn" }
  | { k: "list"; e: CelType }
  | { k: "map"; key: CelType; val: CelType }
  | { k: "msg"; name: string }
  /** google.protobuf.BoolValue and friends: the primitive, or null when unset */
  | { k: "wrapper"; p: CelType };

export const T = {
  int: { k: "int" } as CelType,
  uint: { k: "uint" } as CelType,
  double: { k: "double" } as CelType,
  string: { k: "string" } as CelType,
  bool: { k: "bool" } as CelType,
  null: { k: "null" } as CelType,
  bytes: { k: "bytes" } as CelType,
  timestamp: { k: "timestamp" } as CelType,
  duration: { k: "duration" } as CelType,
  dyn: { k: "dyn" } as CelType,
};

export function typeText(t: CelType): string {
  switch (t.k) {
    case "list":
      return `list(${typeText(t.e)})`;
    case "map":
      return `map(${typeText(t.key)}, ${typeText(t.val)})`;
    case "msg":
      return `flow.${t.name}`;
    case "wrapper":
      return `wrapper(${typeText(t.p)})`;
    case "timestamp":
      return "google.protobuf.Timestamp";
    case "duration":
      return "google.protobuf.Duration";
    case "null":
      return "null_type";
    default:
      return t.k;
  }
}

/** flow.proto's enum type names where they differ from the encoder's table names (nested enums) */
const ENUM_PROTO_NAME: Record<string, string> = { TunnelProtocol: "Tunnel.Protocol" };

/** every enum constant by its full name (`flow.Verdict.DROPPED`), as an int */
const ENUM_CONSTANTS = new Map<string, bigint>();
/** per enum type: name → number, for reading protojson names */
const ENUM_NUMBERS = new Map<string, Map<string, number>>();
for (const [table, values] of Object.entries(ENUMS)) {
  const byName = new Map<string, number>();
  for (const [n, name] of Object.entries(values)) {
    byName.set(name, Number(n));
    ENUM_CONSTANTS.set(`flow.${ENUM_PROTO_NAME[table] ?? table}.${name}`, BigInt(n));
  }
  ENUM_NUMBERS.set(table, byName);
}
{
  const byName = new Map<string, number>([["DROP_REASON_UNKNOWN", 0]]);
  ENUM_CONSTANTS.set("flow.DropReason.DROP_REASON_UNKNOWN", 0n);
  for (const name of DROP_REASON_NAMES) {
    const code = dropReasonCode(name)!;
    byName.set(name, code);
    ENUM_CONSTANTS.set(`flow.DropReason.${name}`, BigInt(code));
  }
  ENUM_NUMBERS.set("DropReason", byName);
}

/**
 * The value of a qualified name written in an expression, resolved in the container "flow" as CEL
 * resolves names: `Verdict.DROPPED` and `flow.Verdict.DROPPED` are the same constant; `.x` is absolute.
 */
export function enumConstant(name: string, absolute: boolean): bigint | undefined {
  if (absolute) return ENUM_CONSTANTS.get(name);
  return ENUM_CONSTANTS.get(`flow.${name}`) ?? ENUM_CONSTANTS.get(name);
}

export function fieldType(msg: string, field: string): CelType | undefined {
  const spec = SCHEMA[msg]?.find((f) => f.name === field);
  return spec ? celTypeOf(spec.type) : undefined;
}

function celTypeOf(t: FieldType): CelType {
  if (typeof t === "string") {
    switch (t) {
      case "string":
        return T.string;
      case "int":
        return T.int;
      case "uint":
      case "uint64":
        return T.uint;
      case "bool":
        return T.bool;
      case "boolvalue":
        return { k: "wrapper", p: T.bool };
      case "int32value":
        return { k: "wrapper", p: T.int };
      case "timestamp":
        return T.timestamp;
      case "any":
        return T.dyn;
    }
  }
  if ("enum" in t) return T.int;
  if ("msg" in t) return { k: "msg", name: t.msg };
  return { k: "list", e: t.repeated === "string" ? T.string : { k: "msg", name: t.repeated.msg } };
}

/** Field `field` of a message value, as proto would give it: unset fields read as their defaults. */
export function readField(m: CelMessage, field: string): CelValue {
  const spec = SCHEMA[m.type]?.find((f) => f.name === field);
  if (!spec) throw new CelEvalError(`no such field '${field}'`);
  return toCel(spec.type, m.obj?.[field]);
}

/** Whether a field is set: a message or wrapper present, a list not empty, a scalar not its zero value. */
export function hasField(m: CelMessage, field: string): boolean {
  const spec = SCHEMA[m.type]?.find((f) => f.name === field);
  if (!spec) throw new CelEvalError(`no such field '${field}'`);
  const raw = m.obj?.[field];
  if (raw === undefined || raw === null) return false;
  const t = spec.type;
  if (typeof t === "object" && "msg" in t) return true;
  if (typeof t === "object" && "repeated" in t) return Array.isArray(raw) && raw.length > 0;
  if (t === "boolvalue" || t === "int32value" || t === "any") return true;
  const v = toCel(t, raw);
  if (v instanceof CelInt || v instanceof CelUint) return v.v !== 0n;
  if (v instanceof CelTimestamp) return true;
  return v !== "" && v !== false && v !== 0;
}

function toCel(t: FieldType, raw: unknown): CelValue {
  if (typeof t === "string") {
    switch (t) {
      case "string":
        return typeof raw === "string" ? raw : raw === undefined || raw === null ? "" : String(raw);
      case "int":
        return new CelInt(bigintOf(raw));
      case "uint":
      case "uint64":
        return new CelUint(bigintOf(raw));
      case "bool":
        return raw === true;
      case "boolvalue":
        return raw === undefined || raw === null ? null : raw === true;
      case "int32value":
        return raw === undefined || raw === null ? null : new CelInt(bigintOf(raw));
      case "timestamp":
        return raw === undefined || raw === null || raw === "" ? new CelTimestamp(0n) : parseTimestamp(String(raw));
      case "any":
        return raw === undefined ? null : fromJson(raw);
    }
  }
  if ("enum" in t) {
    if (typeof raw === "number") return new CelInt(BigInt(Math.trunc(raw)));
    if (typeof raw === "string") return new CelInt(BigInt(ENUM_NUMBERS.get(t.enum)?.get(raw) ?? 0));
    return new CelInt(0n);
  }
  if ("msg" in t) return new CelMessage(t.msg, raw && typeof raw === "object" ? (raw as Record<string, unknown>) : undefined);
  const list = Array.isArray(raw) ? raw : [];
  const elem = t.repeated;
  return list.map((x) => (elem === "string" ? (typeof x === "string" ? x : String(x ?? "")) : new CelMessage(elem.msg, x && typeof x === "object" ? (x as Record<string, unknown>) : undefined)));
}

function bigintOf(raw: unknown): bigint {
  if (typeof raw === "bigint") return raw;
  if (typeof raw === "number" && Number.isFinite(raw)) return BigInt(Math.trunc(raw));
  if (typeof raw === "string" && /^-?\d+$/.test(raw)) return BigInt(raw);
  return 0n;
}

/** A JSON value (an Any's contents) as CEL's dynamic value: numbers are doubles, objects maps. */
function fromJson(v: unknown): CelValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") return v;
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === "object") {
    const m = new Map<string, [CelValue, CelValue]>();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(mapKey(k), [k, fromJson(x)]);
    return new CelMap(m);
  }
  return null;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 3339 with up to nanoseconds, as timestamp("…") takes it */
export function parseTimestamp(s: string): CelTimestamp {
  const m = RFC3339.exec(s);
  const ms = m ? Date.parse(`${m[1]}${m[3]!.toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new CelEvalError(`invalid timestamp ${JSON.stringify(s)}`);
  const nanos = BigInt((m[2] ?? "").padEnd(9, "0") || "0");
  return new CelTimestamp(BigInt(ms) * 1_000_000n + nanos);
}

export function formatTimestamp(t: CelTimestamp): string {
  const ms = t.ns / 1_000_000n - (t.ns % 1_000_000n < 0n ? 1n : 0n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  let nanos = t.ns % 1_000_000_000n;
  if (nanos < 0n) nanos += 1_000_000_000n;
  if (nanos === 0n) return `${base}Z`;
  return `${base}.${nanos.toString().padStart(9, "0").replace(/0+$/, "")}Z`;
}
