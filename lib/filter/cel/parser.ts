// CEL's grammar (cel-spec langdef.md) into a syntax tree, with its macros (has, all, exists,
// exists_one, map, filter) expanded here as the spec says parsers do.
import { CelSyntaxError, RESERVED, tokenize, type Token } from "./lexer";
import { CelBytes, CelInt, CelUint, INT64_MAX, UINT64_MAX, type CelValue } from "./values";

export type Node =
  | { t: "lit"; v: CelValue; pos: number }
  /** a name; `absolute` when written with a leading dot */
  | { t: "ident"; name: string; absolute: boolean; pos: number }
  | { t: "select"; operand: Node; field: string; pos: number }
  /** has(operand.field) */
  | { t: "has"; operand: Node; field: string; pos: number }
  | { t: "call"; fn: string; target?: Node; args: Node[]; pos: number }
  | { t: "index"; operand: Node; index: Node; pos: number }
  | { t: "list"; elems: Node[]; pos: number }
  | { t: "map"; entries: [Node, Node][]; pos: number }
  | { t: "comp"; kind: "all" | "exists" | "exists_one" | "map" | "filter"; range: Node; v: string; pred?: Node; result?: Node; pos: number }
  | { t: "cond"; c: Node; a: Node; b: Node; pos: number }
  | { t: "and" | "or"; l: Node; r: Node; pos: number }
  | { t: "not" | "neg"; e: Node; pos: number }
  | { t: "bin"; op: "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "+" | "-" | "*" | "/" | "%"; l: Node; r: Node; pos: number };

/** cel-go's default limit on nesting, which also keeps recursion here bounded */
const MAX_DEPTH = 250;

export function parse(src: string): Node {
  const p = new Parser(tokenize(src));
  const e = p.expr();
  p.expectEnd();
  return e;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === "op" && t.text === text;
  }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === "ident" && t.text === text;
  }
  private take(): Token {
    return this.toks[this.i++]!;
  }
  private expect(text: string): Token {
    const t = this.peek();
    if (t.kind !== "op" || t.text !== text) throw new CelSyntaxError(`expected "${text}", found ${describe(t)}`, t.pos);
    return this.take();
  }
  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== "eof") throw new CelSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }

  expr(): Node {
    if (++this.depth > MAX_DEPTH) throw new CelSyntaxError("expression nested too deeply", this.peek().pos);
    try {
      const c = this.or();
      if (!this.isOp("?")) return c;
      const pos = this.take().pos;
      const a = this.or();
      this.expect(":");
      const b = this.expr();
      return { t: "cond", c, a, b, pos };
    } finally {
      this.depth--;
    }
  }

  private or(): Node {
    let l = this.and();
    while (this.isOp("||")) {
      const pos = this.take().pos;
      l = { t: "or", l, r: this.and(), pos };
    }
    return l;
  }

  private and(): Node {
    let l = this.relation();
    while (this.isOp("&&")) {
      const pos = this.take().pos;
      l = { t: "and", l, r: this.relation(), pos };
    }
    return l;
  }

  private relation(): Node {
    let l = this.addition();
    for (;;) {
      const t = this.peek();
      const op = t.kind === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.text) ? t.text : t.kind === "ident" && t.text === "in" ? "in" : undefined;
      if (!op) return l;
      this.take();
      l = { t: "bin", op: op as "==", l, r: this.addition(), pos: t.pos };
    }
  }

  private addition(): Node {
    let l = this.multiplication();
    while (this.isOp("+") || this.isOp("-")) {
      const t = this.take();
      l = { t: "bin", op: t.text as "+", l, r: this.multiplication(), pos: t.pos };
    }
    return l;
  }

  private multiplication(): Node {
    let l = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const t = this.take();
      l = { t: "bin", op: t.text as "*", l, r: this.unary(), pos: t.pos };
    }
    return l;
  }

  private unary(): Node {
    if (this.isOp("!")) {
      const pos = this.take().pos;
      return { t: "not", e: this.nested(() => this.unary()), pos };
    }
    if (this.isOp("-")) {
      const pos = this.take().pos;
      const n = this.peek();
      // -9223372036854775808 is an int literal, not the negation of one that overflows
      if (n.kind === "int" && !this.followedByMember()) {
        this.take();
        const v = -BigInt(n.text);
        if (v < -(INT64_MAX + 1n)) throw new CelSyntaxError("int literal out of range", n.pos);
        return this.member({ t: "lit", v: new CelInt(v), pos });
      }
      return { t: "neg", e: this.nested(() => this.unary()), pos };
    }
    return this.member(this.primary());
  }

  /** `!!!…x`: counted like parentheses, so no expression nests deeper than MAX_DEPTH */
  private nested(parse: () => Node): Node {
    if (++this.depth > MAX_DEPTH) throw new CelSyntaxError("expression nested too deeply", this.peek().pos);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /** whether the token after the next one continues a member expression (then `-` applies to all of it) */
  private followedByMember(): boolean {
    const t = this.toks[this.i + 1];
    return t !== undefined && t.kind === "op" && (t.text === "." || t.text === "[");
  }

  private member(operand: Node): Node {
    for (;;) {
      if (this.isOp(".")) {
        this.take();
        const name = this.take();
        if (name.kind !== "ident") throw new CelSyntaxError(`expected a field or method name, found ${describe(name)}`, name.pos);
        if (this.isOp("(")) {
          this.take();
          const args = this.args(")");
          operand = this.macro(name.text, operand, args, name.pos) ?? { t: "call", fn: name.text, target: operand, args, pos: name.pos };
        } else operand = { t: "select", operand, field: name.text, pos: name.pos };
      } else if (this.isOp("[")) {
        const pos = this.take().pos;
        const index = this.expr();
        this.expect("]");
        operand = { t: "index", operand, index, pos };
      } else return operand;
    }
  }

  private args(close: string): Node[] {
    const out: Node[] = [];
    if (this.isOp(close)) {
      this.take();
      return out;
    }
    for (;;) {
      out.push(this.expr());
      if (this.isOp(",")) {
        this.take();
        // a trailing comma is allowed in list and map literals, not in calls
        if (close === "]" && this.isOp(close)) break;
        continue;
      }
      break;
    }
    this.expect(close);
    return out;
  }

  private macro(name: string, target: Node, args: Node[], pos: number): Node | undefined {
    const kinds = ["all", "exists", "exists_one", "map", "filter"] as const;
    const kind = kinds.find((k) => k === name);
    if (!kind) return undefined;
    const arity = kind === "map" ? [2, 3] : [2];
    if (!arity.includes(args.length)) return undefined;
    const v = args[0]!;
    if (v.t !== "ident" || v.absolute) throw new CelSyntaxError(`${name}() needs a variable name as its first argument`, v.pos);
    if (kind === "map") return { t: "comp", kind, range: target, v: v.name, pred: args.length === 3 ? args[1] : undefined, result: args[args.length - 1], pos };
    return { t: "comp", kind, range: target, v: v.name, pred: args[1], pos };
  }

  private primary(): Node {
    const t = this.take();
    switch (t.kind) {
      case "int": {
        const v = BigInt(t.text);
        if (v > INT64_MAX) throw new CelSyntaxError("int literal out of range", t.pos);
        return { t: "lit", v: new CelInt(v), pos: t.pos };
      }
      case "uint": {
        const v = BigInt(t.text);
        if (v > UINT64_MAX) throw new CelSyntaxError("uint literal out of range", t.pos);
        return { t: "lit", v: new CelUint(v), pos: t.pos };
      }
      case "double":
        return { t: "lit", v: Number(t.text), pos: t.pos };
      case "string":
        return { t: "lit", v: t.text, pos: t.pos };
      case "bytes":
        return { t: "lit", v: new CelBytes(new TextEncoder().encode(t.text)), pos: t.pos };
      case "ident":
        return this.name(t, false);
      case "op":
        if (t.text === ".") {
          const n = this.take();
          if (n.kind !== "ident") throw new CelSyntaxError(`expected a name after ".", found ${describe(n)}`, n.pos);
          return this.name(n, true);
        }
        if (t.text === "(") {
          const e = this.expr();
          this.expect(")");
          return e;
        }
        if (t.text === "[") return { t: "list", elems: this.args("]"), pos: t.pos };
        if (t.text === "{") return { t: "map", entries: this.mapEntries(), pos: t.pos };
        break;
      default:
        break;
    }
    throw new CelSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }

  private name(t: Token, absolute: boolean): Node {
    const word = t.text;
    if (!absolute && (word === "true" || word === "false")) return { t: "lit", v: word === "true", pos: t.pos };
    if (!absolute && word === "null") return { t: "lit", v: null, pos: t.pos };
    if (word === "in") throw new CelSyntaxError('unexpected "in"', t.pos);
    if (RESERVED.has(word)) throw new CelSyntaxError(`reserved identifier "${word}"`, t.pos);
    if (!this.isOp("(")) return { t: "ident", name: word, absolute, pos: t.pos };
    this.take();
    const args = this.args(")");
    if (word === "has" && !absolute) {
      const a = args[0];
      if (args.length !== 1 || !a || a.t !== "select") throw new CelSyntaxError("has() takes one field selection, like has(_flow.l7.http)", t.pos);
      return { t: "has", operand: a.operand, field: a.field, pos: t.pos };
    }
    return { t: "call", fn: word, args, pos: t.pos };
  }

  private mapEntries(): [Node, Node][] {
    const out: [Node, Node][] = [];
    while (!this.isOp("}")) {
      const k = this.expr();
      this.expect(":");
      out.push([k, this.expr()]);
      if (!this.isOp(",")) break;
      this.take();
    }
    this.expect("}");
    return out;
  }
}

function describe(t: Token): string {
  if (t.kind === "eof") return "end of expression";
  if (t.kind === "op") return `"${t.text}"`;
  if (t.kind === "ident") return `"${t.text}"`;
  return `a ${t.kind} literal`;
}
