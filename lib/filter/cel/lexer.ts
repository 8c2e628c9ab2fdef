// Tokens of the Common Expression Language (cel-spec, langdef.md "Syntax"): identifiers, int, uint
// (`80u`), double, string and bytes literals (quoted, triple-quoted, raw) and the operators. Positions
// are kept so every error names where it is.

export type TokenKind = "ident" | "int" | "uint" | "double" | "string" | "bytes" | "op" | "eof";

export interface Token {
  kind: TokenKind;
  /** the identifier or operator text; a literal's decoded value */
  text: string;
  pos: number;
}

export class CelSyntaxError extends Error {
  constructor(message: string, readonly pos: number) {
    super(`${message} at position ${pos + 1}`);
  }
}

/**
 * Words CEL keeps for itself (langdef.md "Reserved words"): not a variable or function name, but a
 * field may have one (`_flow.source.namespace`), as cel-go checks them only where a name stands alone.
 */
export const RESERVED = new Set(["as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);

const OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"];

const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "?": "?", '"': '"', "'": "'", "`": "`" };

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    const start = i;
    // string and bytes literals, with their r/b prefixes
    const prefix = stringPrefix(src, i);
    if (prefix !== undefined) {
      const raw = /r/i.test(prefix);
      const bytes = /b/i.test(prefix);
      i += prefix.length;
      const q = src[i]!;
      const triple = src.startsWith(q.repeat(3), i);
      const close = triple ? q.repeat(3) : q;
      i += close.length;
      let value = "";
      for (;;) {
        if (i >= src.length) throw new CelSyntaxError("unterminated string literal", start);
        if (src.startsWith(close, i)) {
          i += close.length;
          break;
        }
        const ch = src[i]!;
        if (!triple && (ch === "\n" || ch === "\r")) throw new CelSyntaxError("newline in a string literal (use a triple-quoted string)", i);
        if (ch === "\\" && !raw) {
          const [s, n] = escape(src, i);
          value += s;
          i = n;
          continue;
        }
        if (ch === "\\" && raw && src[i + 1] === q && !triple) {
          value += "\\" + q;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      out.push({ kind: bytes ? "bytes" : "string", text: value, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      const word = src.slice(start, i);
      out.push({ kind: "ident", text: word, pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const hex = /^0[xX][0-9a-fA-F]+/.exec(src.slice(i));
      if (hex) {
        i += hex[0].length;
        const unsigned = /[uU]/.test(src[i] ?? "");
        if (unsigned) i++;
        out.push({ kind: unsigned ? "uint" : "int", text: BigInt(hex[0]).toString(), pos: start });
      } else {
        const m = /^(?:[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]+)/.exec(src.slice(i))!;
        i += m[0].length;
        const isDouble = /[.eE]/.test(m[0]);
        if (!isDouble && /[uU]/.test(src[i] ?? "")) {
          i++;
          out.push({ kind: "uint", text: m[0], pos: start });
        } else out.push({ kind: isDouble ? "double" : "int", text: m[0], pos: start });
      }
      if (/[A-Za-z_]/.test(src[i] ?? "")) throw new CelSyntaxError(`unexpected "${src[i]}" after a number`, i);
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new CelSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    out.push({ kind: "op", text: op, pos: start });
    i += op.length;
  }
  out.push({ kind: "eof", text: "", pos: src.length });
  return out;
}

/** the r/b prefix of a string literal starting at `i` ("" for none), or undefined when none starts there */
function stringPrefix(src: string, i: number): string | undefined {
  const quote = (k: number) => src[k] === '"' || src[k] === "'";
  if (quote(i)) return "";
  const a = src[i]?.toLowerCase();
  if (a !== "r" && a !== "b") return undefined;
  if (quote(i + 1)) return src[i]!;
  const b = src[i + 1]?.toLowerCase();
  if ((b === "r" || b === "b") && b !== a && quote(i + 2)) return src.slice(i, i + 2);
  return undefined;
}

/** one escape sequence at `i` (the backslash): its text and where the literal goes on */
function escape(src: string, i: number): [string, number] {
  const e = src[i + 1];
  if (e === undefined) throw new CelSyntaxError("unterminated escape", i);
  if (e in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[e]!, i + 2];
  const hexLen = e === "x" || e === "X" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
  if (hexLen) {
    const digits = src.slice(i + 2, i + 2 + hexLen);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(digits)) throw new CelSyntaxError(`invalid \\${e} escape`, i);
    const cp = parseInt(digits, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new CelSyntaxError(`invalid code point in \\${e} escape`, i);
    return [String.fromCodePoint(cp), i + 2 + hexLen];
  }
  if (/[0-3]/.test(e)) {
    const digits = src.slice(i + 1, i + 4);
    if (!/^[0-3][0-7]{2}$/.test(digits)) throw new CelSyntaxError("invalid octal escape", i);
    return [String.fromCharCode(parseInt(digits, 8)), i + 4];
  }
  throw new CelSyntaxError(`invalid escape \\${e}`, i);
}
