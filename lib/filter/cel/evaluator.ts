// Evaluation of a checked expression against one flow. Errors (division by zero, an index out of
// range, a field of a dynamic value that is not there…) make the expression's result an error, which
// `&&` and `||` absorb as CEL says (false && error is false, true || error is true); an error at the
// top means the flow does not match, as in Hubble. A cost budget bounds the work one flow may take.
import type { Node } from "./parser";
import { formatTimestamp, hasField, parseTimestamp, readField } from "./schema";
import {
  celEquals, CelBytes, CelDuration, CelEvalError, CelInt, CelMap, CelMessage, CelTimestamp, CelUint, int, mapKey, typeName, uint, type CelValue,
} from "./values";
import type { RegexMatcher } from "../regex";

/** Hubble's runtime cost limit for one evaluation (celProgramMaxRuntimeCost) */
export const MAX_COST = 100_000;

export interface EvalContext {
  vars: Map<string, CelValue>;
  cost: number;
  /** compiled patterns of matches(), by pattern text */
  regex: (pattern: string) => RegexMatcher;
}

function spend(ctx: EvalContext, n = 1): void {
  ctx.cost += n;
  if (ctx.cost > MAX_COST) throw new CelEvalError("runtime cost budget exceeded");
}

function bool(v: CelValue, what: string): boolean {
  if (typeof v !== "boolean") throw new CelEvalError(`${what} is ${typeName(v)}, not bool`);
  return v;
}

export function evaluate(n: Node, ctx: EvalContext): CelValue {
  spend(ctx);
  switch (n.t) {
    case "lit":
      return n.v;
    case "ident": {
      const v = ctx.vars.get(n.name);
      if (v === undefined) throw new CelEvalError(`no value for '${n.name}'`);
      return v;
    }
    case "select":
      return select(evaluate(n.operand, ctx), n.field);
    case "has": {
      const v = evaluate(n.operand, ctx);
      if (v instanceof CelMessage) return hasField(v, n.field);
      if (v instanceof CelMap) return v.entries.has(mapKey(n.field));
      throw new CelEvalError(`has() on ${typeName(v)}`);
    }
    case "index":
      return index(evaluate(n.operand, ctx), evaluate(n.index, ctx));
    case "list":
      return n.elems.map((e) => evaluate(e, ctx));
    case "map": {
      const m = new Map<string, [CelValue, CelValue]>();
      for (const [k, v] of n.entries) {
        const key = evaluate(k, ctx);
        const id = mapKey(key);
        if (m.has(id)) throw new CelEvalError("duplicate map key");
        m.set(id, [key, evaluate(v, ctx)]);
      }
      return new CelMap(m);
    }
    case "comp":
      return comprehension(n, ctx);
    case "cond":
      return bool(evaluate(n.c, ctx), "the condition") ? evaluate(n.a, ctx) : evaluate(n.b, ctx);
    case "and":
    case "or": {
      // either side decides alone (false for &&, true for ||) even when the other is an error
      const decisive = n.t === "or";
      let err: unknown;
      for (const side of [n.l, n.r]) {
        try {
          if (bool(evaluate(side, ctx), "an operand") === decisive) return decisive;
        } catch (e) {
          if (!(e instanceof CelEvalError) || e.message === "runtime cost budget exceeded") throw e;
          err ??= e;
        }
      }
      if (err) throw err;
      return !decisive;
    }
    case "not":
      return !bool(evaluate(n.e, ctx), "the operand of !");
    case "neg": {
      const v = evaluate(n.e, ctx);
      if (v instanceof CelInt) return int(-v.v);
      if (typeof v === "number") return -v;
      if (v instanceof CelDuration) return new CelDuration(-v.ns);
      throw new CelEvalError(`no such overload: -${typeName(v)}`);
    }
    case "bin":
      return binary(n.op, evaluate(n.l, ctx), evaluate(n.r, ctx), ctx);
    case "call":
      return call(n.fn, n.target ? [evaluate(n.target, ctx), ...n.args.map((a) => evaluate(a, ctx))] : n.args.map((a) => evaluate(a, ctx)), ctx);
  }
}

function select(v: CelValue, field: string): CelValue {
  if (v instanceof CelMessage) return readField(v, field);
  if (v instanceof CelMap) {
    const e = v.entries.get(mapKey(field));
    if (!e) throw new CelEvalError(`no such key: ${field}`);
    return e[1];
  }
  throw new CelEvalError(`type ${typeName(v)} does not support field selection`);
}

function index(c: CelValue, i: CelValue): CelValue {
  if (Array.isArray(c)) {
    const k = i instanceof CelInt || i instanceof CelUint ? i.v : typeof i === "number" && Number.isInteger(i) ? BigInt(i) : undefined;
    if (k === undefined) throw new CelEvalError(`list index of type ${typeName(i)}`);
    if (k < 0n || k >= BigInt(c.length)) throw new CelEvalError(`index out of range: ${k}`);
    return c[Number(k)]!;
  }
  if (c instanceof CelMap) {
    const e = c.entries.get(mapKey(i));
    if (!e) throw new CelEvalError("no such key");
    return e[1];
  }
  throw new CelEvalError(`type ${typeName(c)} does not support indexing`);
}

function comprehension(n: Extract<Node, { t: "comp" }>, ctx: EvalContext): CelValue {
  const range = evaluate(n.range, ctx);
  const items = Array.isArray(range) ? range : range instanceof CelMap ? [...range.entries.values()].map(([k]) => k) : undefined;
  if (!items) throw new CelEvalError(`${n.kind}() over ${typeName(range)}`);
  const saved = ctx.vars.get(n.v);
  const out: CelValue[] = [];
  let count = 0;
  let err: unknown;
  try {
    for (const item of items) {
      spend(ctx);
      ctx.vars.set(n.v, item);
      if (n.kind === "map") {
        if (!n.pred || bool(evaluate(n.pred, ctx), "the condition")) out.push(evaluate(n.result!, ctx));
        continue;
      }
      let p: boolean;
      try {
        p = bool(evaluate(n.pred!, ctx), "the condition");
      } catch (e) {
        // all() and exists() decide on any false / true element, errors elsewhere notwithstanding
        if (!(e instanceof CelEvalError) || e.message === "runtime cost budget exceeded" || (n.kind !== "all" && n.kind !== "exists")) throw e;
        err ??= e;
        continue;
      }
      if (n.kind === "all" && !p) return false;
      if (n.kind === "exists" && p) return true;
      if (n.kind === "exists_one" && p) count++;
      if (n.kind === "filter" && p) out.push(item);
    }
  } finally {
    if (saved === undefined) ctx.vars.delete(n.v);
    else ctx.vars.set(n.v, saved);
  }
  if (err) throw err;
  switch (n.kind) {
    case "all":
      return true;
    case "exists":
      return false;
    case "exists_one":
      return count === 1;
    default:
      return out;
  }
}

function compare(a: CelValue, b: CelValue): number {
  const num = (v: CelValue) => (v instanceof CelInt || v instanceof CelUint ? v.v : typeof v === "number" ? v : undefined);
  const x = num(a);
  const y = num(b);
  if (x !== undefined && y !== undefined) {
    if (typeof x === "number" || typeof y === "number") {
      const fx = Number(x);
      const fy = Number(y);
      if (Number.isNaN(fx) || Number.isNaN(fy)) throw new CelEvalError("NaN is not ordered");
      return fx < fy ? -1 : fx > fy ? 1 : 0;
    }
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if ((a instanceof CelTimestamp && b instanceof CelTimestamp) || (a instanceof CelDuration && b instanceof CelDuration)) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  throw new CelEvalError(`no such overload: ${typeName(a)} < ${typeName(b)}`);
}

function binary(op: string, a: CelValue, b: CelValue, ctx: EvalContext): CelValue {
  switch (op) {
    case "==":
      return celEquals(a, b);
    case "!=":
      return !celEquals(a, b);
    case "<":
      return compare(a, b) < 0;
    case "<=":
      return compare(a, b) <= 0;
    case ">":
      return compare(a, b) > 0;
    case ">=":
      return compare(a, b) >= 0;
    case "in":
      if (Array.isArray(b)) {
        spend(ctx, b.length);
        return b.some((x) => celEquals(a, x));
      }
      if (b instanceof CelMap) return b.entries.has(mapKey(a));
      throw new CelEvalError(`no such overload: in ${typeName(b)}`);
  }
  // int with int and uint with uint, each checked for 64-bit overflow by its constructor
  if (a instanceof CelInt && b instanceof CelInt) return integerOp(op, a.v, b.v, int);
  if (a instanceof CelUint && b instanceof CelUint) return integerOp(op, a.v, b.v, uint);
  if (typeof a === "number" && typeof b === "number") {
    switch (op) {
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
        return a / b;
    }
  }
  if (op === "+") {
    if (typeof a === "string" && typeof b === "string") {
      spend(ctx, Math.ceil((a.length + b.length) / 100));
      return a + b;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      spend(ctx, a.length + b.length);
      return [...a, ...b];
    }
    if (a instanceof CelTimestamp && b instanceof CelDuration) return new CelTimestamp(a.ns + b.ns);
    if (a instanceof CelDuration && b instanceof CelTimestamp) return new CelTimestamp(a.ns + b.ns);
    if (a instanceof CelDuration && b instanceof CelDuration) return new CelDuration(a.ns + b.ns);
  }
  if (op === "-") {
    if (a instanceof CelTimestamp && b instanceof CelTimestamp) return new CelDuration(a.ns - b.ns);
    if (a instanceof CelTimestamp && b instanceof CelDuration) return new CelTimestamp(a.ns - b.ns);
    if (a instanceof CelDuration && b instanceof CelDuration) return new CelDuration(a.ns - b.ns);
  }
  throw new CelEvalError(`no such overload: ${typeName(a)} ${op} ${typeName(b)}`);
}

function integerOp(op: string, x: bigint, y: bigint, make: (v: bigint) => CelValue): CelValue {
  switch (op) {
    case "+":
      return make(x + y);
    case "-":
      return make(x - y);
    case "*":
      return make(x * y);
    case "/":
      if (y === 0n) throw new CelEvalError("divide by zero");
      return make(x / y);
    case "%":
      if (y === 0n) throw new CelEvalError("modulus by zero");
      return make(x % y);
  }
  throw new CelEvalError(`no such overload: integer ${op}`);
}

function str(v: CelValue, fn: string): string {
  if (typeof v !== "string") throw new CelEvalError(`${fn}() on ${typeName(v)}`);
  return v;
}

function call(fn: string, args: CelValue[], ctx: EvalContext): CelValue {
  const [a, b] = args;
  switch (fn) {
    case "size":
      if (typeof a === "string") return new CelInt(BigInt([...a].length));
      if (Array.isArray(a)) return new CelInt(BigInt(a.length));
      if (a instanceof CelMap) return new CelInt(BigInt(a.entries.size));
      if (a instanceof CelBytes) return new CelInt(BigInt(a.b.length));
      break;
    case "contains":
      spend(ctx, Math.ceil(str(a!, fn).length / 100));
      return str(a!, fn).includes(str(b!, fn));
    case "startsWith":
      return str(a!, fn).startsWith(str(b!, fn));
    case "endsWith":
      return str(a!, fn).endsWith(str(b!, fn));
    case "matches":
      spend(ctx, Math.ceil(str(a!, fn).length / 100));
      return ctx.regex(str(b!, fn)).test(str(a!, fn));
    case "int":
      if (a instanceof CelInt) return a;
      if (a instanceof CelUint) return int(a.v);
      if (typeof a === "number") {
        if (!Number.isFinite(a) || a < -(2 ** 63) || a >= 2 ** 63) throw new CelEvalError("int64 overflow");
        return int(BigInt(Math.trunc(a)));
      }
      if (typeof a === "string") {
        if (!/^[+-]?\d+$/.test(a)) throw new CelEvalError(`cannot convert ${JSON.stringify(a)} to int`);
        return int(BigInt(a));
      }
      if (a instanceof CelTimestamp) return int(a.ns / 1_000_000_000n - (a.ns % 1_000_000_000n < 0n ? 1n : 0n));
      break;
    case "uint":
      if (a instanceof CelUint) return a;
      if (a instanceof CelInt) return uint(a.v);
      if (typeof a === "number") {
        if (!Number.isFinite(a) || a < 0 || a >= 2 ** 64) throw new CelEvalError("uint64 overflow");
        return uint(BigInt(Math.trunc(a)));
      }
      if (typeof a === "string") {
        if (!/^\+?\d+$/.test(a)) throw new CelEvalError(`cannot convert ${JSON.stringify(a)} to uint`);
        return uint(BigInt(a));
      }
      break;
    case "double":
      if (typeof a === "number") return a;
      if (a instanceof CelInt || a instanceof CelUint) return Number(a.v);
      if (typeof a === "string") {
        const d = Number(a);
        if (a.trim() === "" || Number.isNaN(d)) throw new CelEvalError(`cannot convert ${JSON.stringify(a)} to double`);
        return d;
      }
      break;
    case "string":
      if (typeof a === "string") return a;
      if (typeof a === "boolean") return String(a);
      if (a instanceof CelInt || a instanceof CelUint) return a.v.toString();
      if (typeof a === "number") return String(a);
      if (a instanceof CelTimestamp) return formatTimestamp(a);
      if (a instanceof CelDuration) return `${Number(a.ns) / 1e9}s`;
      if (a instanceof CelBytes) return new TextDecoder("utf-8", { fatal: false }).decode(a.b);
      break;
    case "bool":
      if (typeof a === "boolean") return a;
      if (typeof a === "string") {
        if (["true", "TRUE", "True", "t", "1"].includes(a)) return true;
        if (["false", "FALSE", "False", "f", "0"].includes(a)) return false;
        throw new CelEvalError(`cannot convert ${JSON.stringify(a)} to bool`);
      }
      break;
    case "timestamp":
      if (a instanceof CelTimestamp) return a;
      if (typeof a === "string") return parseTimestamp(a);
      if (a instanceof CelInt) return new CelTimestamp(a.v * 1_000_000_000n);
      break;
    case "duration":
      if (a instanceof CelDuration) return a;
      if (typeof a === "string") return parseDuration(a);
      break;
    case "dyn":
      return a!;
    case "getFullYear":
    case "getMonth":
    case "getDayOfYear":
    case "getDayOfMonth":
    case "getDate":
    case "getDayOfWeek":
    case "getHours":
    case "getMinutes":
    case "getSeconds":
    case "getMilliseconds":
      if (a instanceof CelTimestamp) return new CelInt(BigInt(timestampPart(fn, a, b === undefined ? "UTC" : str(b, fn))));
      if (a instanceof CelDuration) return new CelInt(durationPart(fn, a));
      break;
  }
  throw new CelEvalError(`no such overload: ${fn}(${args.map(typeName).join(", ")})`);
}

/** a calendar field of a timestamp as CEL's accessors number it (months, days of month and year from 0) */
function timestampPart(fn: string, t: CelTimestamp, zone: string): number {
  const ms = Number(t.ns / 1_000_000n - (t.ns % 1_000_000n < 0n ? 1n : 0n));
  if (fn === "getMilliseconds") return ((ms % 1000) + 1000) % 1000;
  let d: Date;
  const offset = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (zone === "UTC" || zone === "Z") d = new Date(ms);
  else if (offset) d = new Date(ms + (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000);
  else {
    let parts: Intl.DateTimeFormatPart[];
    try {
      parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" }).formatToParts(new Date(ms));
    } catch {
      throw new CelEvalError(`unknown time zone ${JSON.stringify(zone)}`);
    }
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    d = new Date(Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"), ((ms % 1000) + 1000) % 1000));
  }
  switch (fn) {
    case "getFullYear":
      return d.getUTCFullYear();
    case "getMonth":
      return d.getUTCMonth();
    case "getDayOfYear":
      return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
    case "getDayOfMonth":
      return d.getUTCDate() - 1;
    case "getDate":
      return d.getUTCDate();
    case "getDayOfWeek":
      return d.getUTCDay();
    case "getHours":
      return d.getUTCHours();
    case "getMinutes":
      return d.getUTCMinutes();
    default:
      return d.getUTCSeconds();
  }
}

/** a duration in whole hours, minutes or seconds, or its milliseconds past the second */
function durationPart(fn: string, d: CelDuration): bigint {
  switch (fn) {
    case "getHours":
      return d.ns / 3_600_000_000_000n;
    case "getMinutes":
      return d.ns / 60_000_000_000n;
    case "getSeconds":
      return d.ns / 1_000_000_000n;
    default:
      return (d.ns / 1_000_000n) % 1000n;
  }
}

const UNIT_NS: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, "µs": 1e3, ns: 1 };

/** Go's duration syntax, as duration("…") takes it: "1h30m", "-1.5s", "300ms" */
function parseDuration(s: string): CelDuration {
  const m = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|us|µs|ns|m|s))+$/.exec(s);
  if (!m && s !== "0") throw new CelEvalError(`invalid duration ${JSON.stringify(s)}`);
  let ns = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)/g)) ns += Number(part[1]) * UNIT_NS[part[2]!]!;
  return new CelDuration(BigInt(Math.round(s.startsWith("-") ? -ns : ns)));
}
