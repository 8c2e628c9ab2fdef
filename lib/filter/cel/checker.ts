// Type checking, as Hubble's filter does before it runs an expression (cel-go's Check): every name
// resolves, every field exists on its message, every operator and function has an overload for its
// argument types, and the whole is a bool. Enum constants (`Verdict.DROPPED`) become int literals here.
import { CelSyntaxError } from "./lexer";
import type { Node } from "./parser";
import { enumConstant, fieldType, T, typeText, type CelType } from "./schema";
import { CelInt, CelUint, CelBytes, CelTimestamp, CelDuration, type CelValue } from "./values";

export class CelTypeError extends CelSyntaxError {}

type Scope = ReadonlyMap<string, CelType>;

export function check(node: Node, scope: Scope): [CelType, Node] {
  return new Checker().check(node, scope);
}

const ORDERED = new Set(["int", "uint", "double", "string", "bool", "bytes", "timestamp", "duration"]);

/** a wrapper reads as its primitive (or null) in operators */
function unwrap(t: CelType): CelType {
  return t.k === "wrapper" ? t.p : t;
}

function same(a: CelType, b: CelType): boolean {
  if (a.k === "dyn" || b.k === "dyn") return true;
  if (a.k !== b.k) return false;
  if (a.k === "list" && b.k === "list") return same(a.e, b.e);
  if (a.k === "map" && b.k === "map") return same(a.key, b.key) && same(a.val, b.val);
  if (a.k === "msg" && b.k === "msg") return a.name === b.name;
  if (a.k === "wrapper" && b.k === "wrapper") return same(a.p, b.p);
  return true;
}

/** whether values of the two types may be compared for equality (CEL's `_==_(A, A)`, null with nullable types) */
function comparable(a: CelType, b: CelType): boolean {
  if (same(a, b)) return true;
  const nullable = (t: CelType) => t.k === "msg" || t.k === "wrapper" || t.k === "null" || t.k === "timestamp" || t.k === "duration";
  if (a.k === "null" && nullable(b)) return true;
  if (b.k === "null" && nullable(a)) return true;
  if (a.k === "wrapper" || b.k === "wrapper") return same(unwrap(a), unwrap(b));
  return false;
}

function literalType(v: CelValue): CelType {
  if (v === null) return T.null;
  if (typeof v === "boolean") return T.bool;
  if (typeof v === "string") return T.string;
  if (typeof v === "number") return T.double;
  if (v instanceof CelInt) return T.int;
  if (v instanceof CelUint) return T.uint;
  if (v instanceof CelBytes) return T.bytes;
  if (v instanceof CelTimestamp) return T.timestamp;
  if (v instanceof CelDuration) return T.duration;
  return T.dyn;
}

/** the dotted name a chain of selections spells (`flow.Verdict.DROPPED`), if it is one */
function qualifiedName(n: Node): { name: string; absolute: boolean } | undefined {
  if (n.t === "ident") return { name: n.name, absolute: n.absolute };
  if (n.t === "select") {
    const left = qualifiedName(n.operand);
    return left && { name: `${left.name}.${n.field}`, absolute: left.absolute };
  }
  return undefined;
}

/** functions by name: each overload's receiver (for member calls), arguments and result */
interface Overload {
  member: boolean;
  args: CelType[];
  result: CelType;
}
const o = (member: boolean, args: CelType[], result: CelType): Overload => ({ member, args, result });
const ANY_LIST: CelType = { k: "list", e: T.dyn };
const ANY_MAP: CelType = { k: "map", key: T.dyn, val: T.dyn };
const FUNCTIONS: Record<string, Overload[]> = {
  size: [T.string, T.bytes, ANY_LIST, ANY_MAP].flatMap((t) => [o(false, [t], T.int), o(true, [t], T.int)]),
  contains: [o(true, [T.string, T.string], T.bool)],
  startsWith: [o(true, [T.string, T.string], T.bool)],
  endsWith: [o(true, [T.string, T.string], T.bool)],
  matches: [o(true, [T.string, T.string], T.bool), o(false, [T.string, T.string], T.bool)],
  int: [T.int, T.uint, T.double, T.string, T.timestamp].map((t) => o(false, [t], T.int)),
  uint: [T.int, T.uint, T.double, T.string].map((t) => o(false, [t], T.uint)),
  double: [T.int, T.uint, T.double, T.string].map((t) => o(false, [t], T.double)),
  string: [T.int, T.uint, T.double, T.string, T.bool, T.bytes, T.timestamp, T.duration].map((t) => o(false, [t], T.string)),
  bool: [T.bool, T.string].map((t) => o(false, [t], T.bool)),
  timestamp: [T.string, T.timestamp, T.int].map((t) => o(false, [t], T.timestamp)),
  duration: [T.string, T.duration].map((t) => o(false, [t], T.duration)),
  dyn: [o(false, [T.dyn], T.dyn)],
  // timestamp accessors, in UTC or the time zone given (an IANA name or ±HH:MM); durations give totals
  ...Object.fromEntries(
    ["getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds"].map((fn) => [
      fn,
      [
        o(true, [T.timestamp], T.int),
        o(true, [T.timestamp, T.string], T.int),
        ...(["getHours", "getMinutes", "getSeconds", "getMilliseconds"].includes(fn) ? [o(true, [T.duration], T.int)] : []),
      ],
    ]),
  ),
};

class Checker {
  check(n: Node, scope: Scope): [CelType, Node] {
    switch (n.t) {
      case "lit":
        return [literalType(n.v), n];
      case "ident": {
        const v = n.absolute ? undefined : scope.get(n.name);
        if (v) return [v, n];
        return this.constant(n);
      }
      case "select": {
        const q = qualifiedName(n);
        // a name not starting with a variable is a constant (`Verdict.DROPPED`)
        if (q && !(scope.has(q.name.split(".")[0]!) && !q.absolute)) return this.constant(n);
        const [ot, operand] = this.check(n.operand, scope);
        return [this.selectType(ot, n.field, n.pos), { ...n, operand }];
      }
      case "has": {
        const [ot, operand] = this.check(n.operand, scope);
        this.selectType(ot, n.field, n.pos);
        return [T.bool, { ...n, operand }];
      }
      case "index": {
        const [ot, operand] = this.check(n.operand, scope);
        const [it, index] = this.check(n.index, scope);
        const t = unwrap(ot);
        if (t.k === "list" && (it.k === "int" || it.k === "dyn")) return [t.e, { ...n, operand, index }];
        if (t.k === "map" && same(t.key, it)) return [t.val, { ...n, operand, index }];
        if (t.k === "dyn") return [T.dyn, { ...n, operand, index }];
        throw this.noOverload("_[_]", [ot, it], n.pos);
      }
      case "list": {
        const elems = n.elems.map((e) => this.check(e, scope));
        const first = elems[0]?.[0];
        const e = first && elems.every(([t]) => same(t, first) && t.k !== "dyn") ? first : T.dyn;
        return [{ k: "list", e }, { ...n, elems: elems.map(([, x]) => x) }];
      }
      case "map": {
        const entries = n.entries.map(([k, v]) => [this.check(k, scope), this.check(v, scope)] as const);
        for (const [[kt], ] of entries) if (!["string", "int", "uint", "bool", "dyn"].includes(kt.k)) throw new CelTypeError(`unsupported map key type ${typeText(kt)}`, n.pos);
        const key = entries[0] && entries.every(([[kt]]) => same(kt, entries[0]![0][0])) ? entries[0][0][0] : T.dyn;
        const val = entries[0] && entries.every(([, [vt]]) => same(vt, entries[0]![1][0])) ? entries[0][1][0] : T.dyn;
        return [{ k: "map", key, val }, { ...n, entries: entries.map(([[, k], [, v]]) => [k, v] as [Node, Node]) }];
      }
      case "comp": {
        const [rt, range] = this.check(n.range, scope);
        const r = unwrap(rt);
        const elem = r.k === "list" ? r.e : r.k === "map" ? r.key : r.k === "dyn" ? T.dyn : undefined;
        if (!elem) throw new CelTypeError(`${n.kind}() ranges over a list or a map, not ${typeText(rt)}`, n.pos);
        const inner = new Map(scope);
        inner.set(n.v, elem);
        let pred: Node | undefined;
        if (n.pred) {
          const [pt, p] = this.check(n.pred, inner);
          if (pt.k !== "bool" && pt.k !== "dyn") throw new CelTypeError(`${n.kind}() needs a bool condition, got ${typeText(pt)}`, n.pred.pos);
          pred = p;
        }
        if (n.kind === "map") {
          const [ret, result] = this.check(n.result!, inner);
          return [{ k: "list", e: ret }, { ...n, range, pred, result }];
        }
        return [n.kind === "filter" ? { k: "list", e: elem } : T.bool, { ...n, range, pred }];
      }
      case "cond": {
        const [ct, c] = this.check(n.c, scope);
        if (ct.k !== "bool" && ct.k !== "dyn") throw new CelTypeError(`the condition of ?: must be a bool, got ${typeText(ct)}`, n.pos);
        const [at, a] = this.check(n.a, scope);
        const [bt, b] = this.check(n.b, scope);
        if (!comparable(at, bt)) throw this.noOverload("_?_:_", [ct, at, bt], n.pos);
        return [at.k === "null" ? bt : at, { ...n, c, a, b }];
      }
      case "and":
      case "or": {
        const [lt, l] = this.check(n.l, scope);
        const [rt, r] = this.check(n.r, scope);
        for (const t of [lt, rt]) if (t.k !== "bool" && t.k !== "dyn") throw this.noOverload(n.t === "and" ? "_&&_" : "_||_", [lt, rt], n.pos);
        return [T.bool, { ...n, l, r }];
      }
      case "not": {
        const [et, e] = this.check(n.e, scope);
        if (et.k !== "bool" && et.k !== "dyn") throw this.noOverload("!_", [et], n.pos);
        return [T.bool, { ...n, e }];
      }
      case "neg": {
        const [et, e] = this.check(n.e, scope);
        const t = unwrap(et);
        if (!["int", "double", "duration", "dyn"].includes(t.k)) throw this.noOverload("-_", [et], n.pos);
        return [t, { ...n, e }];
      }
      case "bin":
        return this.binary(n, scope);
      case "call":
        return this.call(n, scope);
    }
  }

  private constant(n: Node): [CelType, Node] {
    const q = qualifiedName(n)!;
    const v = enumConstant(q.name, q.absolute);
    if (v === undefined) throw new CelTypeError(`undeclared reference to '${q.name}' (in container 'flow'; the flow is _flow)`, n.pos);
    return [T.int, { t: "lit", v: new CelInt(v), pos: n.pos }];
  }

  private selectType(ot: CelType, field: string, pos: number): CelType {
    const t = unwrap(ot);
    if (t.k === "msg") {
      const ft = fieldType(t.name, field);
      if (!ft) throw new CelTypeError(`undefined field '${field}' (of flow.${t.name})`, pos);
      return ft;
    }
    if (t.k === "map" && (t.key.k === "string" || t.key.k === "dyn")) return t.val;
    if (t.k === "dyn") return T.dyn;
    throw new CelTypeError(`type '${typeText(ot)}' does not support field selection`, pos);
  }

  private binary(n: Extract<Node, { t: "bin" }>, scope: Scope): [CelType, Node] {
    const [lt, l] = this.check(n.l, scope);
    const [rt, r] = this.check(n.r, scope);
    const out: Node = { ...n, l, r };
    const a = unwrap(lt);
    const b = unwrap(rt);
    const fn = n.op === "in" ? "@in" : `_${n.op}_`;
    switch (n.op) {
      case "==":
      case "!=":
        if (comparable(lt, rt)) return [T.bool, out];
        break;
      case "<":
      case "<=":
      case ">":
      case ">=":
        if ((a.k === "dyn" && (ORDERED.has(b.k) || b.k === "dyn")) || (b.k === "dyn" && ORDERED.has(a.k)) || (a.k === b.k && ORDERED.has(a.k))) return [T.bool, out];
        break;
      case "in":
        if (b.k === "list" && comparable(a, b.e)) return [T.bool, out];
        if (b.k === "map" && comparable(a, b.key)) return [T.bool, out];
        if (b.k === "dyn") return [T.bool, out];
        break;
      case "+":
        if (a.k === "dyn" || b.k === "dyn") return [a.k === "dyn" ? b : a, out];
        if (a.k === b.k && ["int", "uint", "double", "string", "bytes", "duration"].includes(a.k)) return [a, out];
        if (a.k === "list" && b.k === "list" && same(a.e, b.e)) return [a.e.k === "dyn" ? b : a, out];
        if ((a.k === "timestamp" && b.k === "duration") || (a.k === "duration" && b.k === "timestamp")) return [T.timestamp, out];
        break;
      case "-":
        if (a.k === "dyn" || b.k === "dyn") return [a.k === "dyn" ? b : a, out];
        if (a.k === b.k && ["int", "uint", "double", "duration"].includes(a.k)) return [a, out];
        if (a.k === "timestamp" && b.k === "timestamp") return [T.duration, out];
        if (a.k === "timestamp" && b.k === "duration") return [T.timestamp, out];
        break;
      case "*":
      case "/":
        if (a.k === "dyn" || b.k === "dyn") return [a.k === "dyn" ? b : a, out];
        if (a.k === b.k && ["int", "uint", "double"].includes(a.k)) return [a, out];
        break;
      case "%":
        if (a.k === "dyn" || b.k === "dyn") return [a.k === "dyn" ? b : a, out];
        if (a.k === b.k && ["int", "uint"].includes(a.k)) return [a, out];
        break;
    }
    throw this.noOverload(fn, [lt, rt], n.pos);
  }

  private call(n: Extract<Node, { t: "call" }>, scope: Scope): [CelType, Node] {
    const overloads = FUNCTIONS[n.fn];
    if (!overloads) throw new CelTypeError(`undeclared reference to '${n.fn}'${n.target ? " (method)" : ""}: not a CEL function Flowscope provides`, n.pos);
    const checked = [...(n.target ? [n.target] : []), ...n.args].map((a) => this.check(a, scope));
    const types = checked.map(([t]) => unwrap(t));
    const member = n.target !== undefined;
    for (const ov of overloads) {
      if (ov.member !== member || ov.args.length !== types.length) continue;
      if (ov.args.every((want, i) => fits(types[i]!, want))) {
        const nodes = checked.map(([, x]) => x);
        return [ov.result, { ...n, target: member ? nodes[0] : undefined, args: member ? nodes.slice(1) : nodes }];
      }
    }
    throw this.noOverload(member ? `${n.fn} (method)` : n.fn, checked.map(([t]) => t), n.pos);
  }

  private noOverload(fn: string, args: CelType[], pos: number): CelTypeError {
    return new CelTypeError(`found no matching overload for '${fn}' applied to '(${args.map(typeText).join(", ")})'`, pos);
  }
}

/** whether an argument of type `have` fits a parameter declared `want` (dyn fits and takes anything; list(dyn) any list) */
function fits(have: CelType, want: CelType): boolean {
  if (want.k === "dyn" || have.k === "dyn") return true;
  if (want.k === "list") return have.k === "list";
  if (want.k === "map") return have.k === "map";
  return have.k === want.k;
}
