// CEL's runtime values. int and uint are 64-bit (bigint, told apart by class, as CEL keeps them apart);
// double is a JS number; string, bool and null are themselves; lists are arrays; a message is its
// schema type with the flow object's part (undefined: unset, read as the type's default instance).

export class CelInt {
  constructor(readonly v: bigint) {}
}
export class CelUint {
  constructor(readonly v: bigint) {}
}
/** nanoseconds since the Unix epoch */
export class CelTimestamp {
  constructor(readonly ns: bigint) {}
}
export class CelDuration {
  constructor(readonly ns: bigint) {}
}
export class CelBytes {
  constructor(readonly b: Uint8Array) {}
}
export class CelMessage {
  constructor(
    readonly type: string,
    readonly obj: Record<string, unknown> | undefined,
  ) {}
}
/** keys are strings, ints, uints or bools; kept by a canonical text of the key */
export class CelMap {
  constructor(readonly entries: Map<string, [CelValue, CelValue]>) {}
}

export type CelValue = null | boolean | string | number | CelInt | CelUint | CelTimestamp | CelDuration | CelBytes | CelMessage | CelMap | CelValue[];

/** An evaluation error: the expression does not match the flow (Hubble's filter returns false). */
export class CelEvalError extends Error {}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

export function int(v: bigint): CelInt {
  if (v < INT64_MIN || v > INT64_MAX) throw new CelEvalError("int64 overflow");
  return new CelInt(v);
}

export function uint(v: bigint): CelUint {
  if (v < 0n || v > UINT64_MAX) throw new CelEvalError("uint64 overflow");
  return new CelUint(v);
}

export function mapKey(k: CelValue): string {
  if (typeof k === "string") return `s:${k}`;
  if (typeof k === "boolean") return `b:${k}`;
  // int and uint keys of equal value are the same key (heterogeneous equality)
  if (k instanceof CelInt || k instanceof CelUint) return `n:${k.v}`;
  if (typeof k === "number" && Number.isInteger(k)) return `n:${k}`;
  throw new CelEvalError("unsupported map key type");
}

/** CEL's heterogeneous equality: numbers compare by value whatever their type; other kinds must match. */
export function celEquals(a: CelValue, b: CelValue): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    if (typeof na === "bigint" && typeof nb === "bigint") return na === nb;
    return Number(na) === Number(nb);
  }
  if (a === null || b === null) return a === b;
  if (typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => celEquals(x, b[i]!));
  }
  if (a instanceof CelTimestamp && b instanceof CelTimestamp) return a.ns === b.ns;
  if (a instanceof CelDuration && b instanceof CelDuration) return a.ns === b.ns;
  if (a instanceof CelBytes && b instanceof CelBytes) return a.b.length === b.b.length && a.b.every((x, i) => x === b.b[i]);
  if (a instanceof CelMessage && b instanceof CelMessage) return a.type === b.type && JSON.stringify(a.obj ?? {}) === JSON.stringify(b.obj ?? {});
  if (a instanceof CelMap && b instanceof CelMap) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, [, v]] of a.entries) {
      const other = b.entries.get(k);
      if (!other || !celEquals(v, other[1])) return false;
    }
    return true;
  }
  return false;
}

function numeric(v: CelValue): bigint | number | undefined {
  if (v instanceof CelInt || v instanceof CelUint) return v.v;
  if (typeof v === "number") return v;
  return undefined;
}

/** the CEL type name of a value, for error messages */
export function typeName(v: CelValue): string {
  if (v === null) return "null_type";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "double";
  if (Array.isArray(v)) return "list";
  if (v instanceof CelInt) return "int";
  if (v instanceof CelUint) return "uint";
  if (v instanceof CelTimestamp) return "google.protobuf.Timestamp";
  if (v instanceof CelDuration) return "google.protobuf.Duration";
  if (v instanceof CelBytes) return "bytes";
  if (v instanceof CelMap) return "map";
  return `flow.${v.type}`;
}
