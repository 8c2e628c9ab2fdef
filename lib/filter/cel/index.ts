// Hubble's experimental CEL filter (FlowFilter.experimental.cel_expression, `observe --cel-expression`):
// each expression is parsed and type-checked against flow.Flow with `_flow` as the flow, and must be a
// bool; a flow matches when any expression is true. Limits are Hubble's: 4,096 characters an expression,
// a cost budget per evaluation. What Flowscope implements of CEL: its whole expression syntax and macros,
// and the standard functions a flow filter uses (size, contains, startsWith, endsWith, matches, the type
// conversions, timestamp and duration with their accessors such as getHours); other functions are
// refused when the filter is built, as Hubble's environment (no extension libraries) refuses them.
import type { Flow } from "../../flow/types";
import { compileSafeRegExp, type RegexMatcher } from "../regex";
import { FilterError } from "../types";
import { check } from "./checker";
import { CelSyntaxError } from "./lexer";
import { parse, type Node } from "./parser";
import { evaluate, type EvalContext } from "./evaluator";
import { CelEvalError, CelMessage } from "./values";

/** cel.ParserExpressionSizeLimit in Hubble's filter */
export const MAX_CEL_LENGTH = 4096;
/** `_flow`: "flow" would clash with the protobuf package name, as Hubble's filter explains */
const FLOW_VAR = "_flow";

export function compileCelExpressions(exprs: unknown[], field: string): (flow: Flow) => boolean {
  const programs = exprs.map((e, i) => compileOne(e, exprs.length > 1 ? `${field}[${i}]` : field));
  return (flow) => programs.some((p) => p(flow));
}

function compileOne(expr: unknown, field: string): (flow: Flow) => boolean {
  if (typeof expr !== "string") throw new FilterError(field, "expected a CEL expression string");
  if (expr.trim() === "") throw new FilterError(field, "empty CEL expression");
  if (expr.length > MAX_CEL_LENGTH) throw new FilterError(field, `CEL expression longer than ${MAX_CEL_LENGTH} characters`);
  let program: Node;
  try {
    const [type, checked] = check(parse(expr), new Map([[FLOW_VAR, { k: "msg", name: "Flow" }]]));
    if (type.k !== "bool") throw new CelSyntaxError(`the expression is ${type.k === "msg" ? `flow.${type.name}` : type.k}, a filter must be a bool`, 0);
    program = checked;
  } catch (err) {
    if (err instanceof CelSyntaxError) throw new FilterError(field, `invalid CEL expression: ${err.message}`);
    throw err;
  }
  const patterns = new Map<string, RegexMatcher>();
  // a literal pattern is compiled now, so a bad one is an error of the filter, not a silent non-match
  for (const p of literalPatterns(program)) {
    try {
      patterns.set(p, compileSafeRegExp(p, "matches()"));
    } catch (err) {
      throw new FilterError(field, `invalid CEL expression: ${(err as Error).message}`);
    }
  }
  const regex = (p: string): RegexMatcher => {
    let m = patterns.get(p);
    if (!m) {
      try {
        m = compileSafeRegExp(p, "matches");
      } catch (err) {
        throw new CelEvalError((err as Error).message);
      }
      if (patterns.size < 256) patterns.set(p, m);
    }
    return m;
  };
  return (flow) => {
    const ctx: EvalContext = { vars: new Map([[FLOW_VAR, new CelMessage("Flow", flow as unknown as Record<string, unknown>)]]), cost: 0, regex };
    try {
      return evaluate(program, ctx) === true;
    } catch (err) {
      if (err instanceof CelEvalError) return false;
      throw err;
    }
  };
}

function literalPatterns(n: Node): string[] {
  const out: string[] = [];
  const walk = (x: Node | undefined): void => {
    if (!x) return;
    switch (x.t) {
      case "call":
        if (x.fn === "matches") {
          const pat = x.target ? x.args[0] : x.args[1];
          if (pat?.t === "lit" && typeof pat.v === "string") out.push(pat.v);
        }
        walk(x.target);
        x.args.forEach(walk);
        return;
      case "select":
      case "has":
        return walk(x.operand);
      case "index":
        walk(x.operand);
        return walk(x.index);
      case "list":
        return x.elems.forEach(walk);
      case "map":
        return x.entries.forEach(([k, v]) => (walk(k), walk(v)));
      case "comp":
        walk(x.range);
        walk(x.pred);
        return walk(x.result);
      case "cond":
        walk(x.c);
        walk(x.a);
        return walk(x.b);
      case "and":
      case "or":
      case "bin":
        walk(x.l);
        return walk(x.r);
      case "not":
      case "neg":
        return walk(x.e);
      default:
        return;
    }
  };
  walk(n);
  return out;
}
