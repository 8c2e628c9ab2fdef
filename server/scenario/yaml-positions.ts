// Maps field paths ("traffic[2].port") to source lines so validation errors can point at the line a
// user has to fix. The `yaml` package keeps node ranges; a LineCounter turns offsets into lines.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, type Document, type Node } from "yaml";

export interface PositionedDoc {
  value: unknown;
  /** path → 1-based line */
  lines: Map<string, number>;
  /** line where the document starts */
  startLine: number;
  /** YAML syntax errors, already formatted with line numbers */
  syntaxErrors: string[];
  /** the document's own source text */
  text: string;
}

function walk(node: unknown, path: string, lc: LineCounter, out: Map<string, number>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const p = path ? `${path}.${key}` : key;
      const off = keyNode?.range?.[0];
      if (off !== undefined) out.set(p, lc.linePos(off).line);
      walk(pair.value, p, lc, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const p = `${path}[${i}]`;
      const off = (item as Node | null)?.range?.[0];
      if (off !== undefined) out.set(p, lc.linePos(off).line);
      walk(item, p, lc, out);
    });
  }
}

/** The parser's message, except that running out of stack is said as what it means for the document. */
function readable(message: string): string {
  return message.replace(/^(?:RangeError: )?Maximum call stack size exceeded/, "nested too deeply to read");
}

/**
 * `v` with every string (keys too) that fits in Latin-1 made a string of its own in V8's one-byte form.
 * A document with a single character beyond Latin-1 anywhere, even an arrow in a comment, is read as a
 * two-byte string, and every name sliced out of it stays two-byte: so would every flow record built
 * with them, which then costs twice the memory, and measured ~2x the time to hand to the writer thread.
 */
export function oneByteStrings(v: unknown): unknown {
  if (typeof v === "string") return oneByte(v);
  if (Array.isArray(v)) return v.map(oneByteStrings);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    // fromEntries defines each key as data, so a "__proto__" key stays a key
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [oneByte(k), oneByteStrings(x)]));
  }
  return v;
}

function oneByte(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return s;
  return Buffer.from(s, "latin1").toString("latin1");
}

function toPositioned(doc: Document, lc: LineCounter, src: string): PositionedDoc {
  const lines = new Map<string, number>();
  walk(doc.contents, "", lc, lines);
  const syntaxErrors = doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    const message = readable(e.message.split("\n")[0]!);
    return pos ? `line ${pos.line}: ${message}` : message;
  });
  const start = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
  let value: unknown;
  if (!syntaxErrors.length) {
    try {
      value = oneByteStrings(doc.toJS({ maxAliasCount: 1000 }));
    } catch (err) {
      // an alias bomb ("billion laughs") is refused while it is expanded: a problem with this document
      syntaxErrors.push(`line ${lc.linePos(start).line}: ${readable((err as Error).message)}`);
    }
  }
  return {
    value,
    lines,
    startLine: lc.linePos(start).line,
    syntaxErrors,
    text: doc.range ? src.slice(doc.range[0], doc.range[2]).trim() + "\n" : src,
  };
}

export function parseYamlWithPositions(text: string): PositionedDoc {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  return toPositioned(doc, lc, text);
}

export function parseAllYamlWithPositions(text: string): PositionedDoc[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) return [toPositioned(docs as unknown as Document, lc, text)];
  return docs.map((d) => toPositioned(d as Document, lc, text));
}

/** the line of `path`, or of its nearest ancestor that has one */
export function lineOf(lines: Map<string, number>, path: string): number | undefined {
  let p = path;
  for (;;) {
    const l = lines.get(p);
    if (l !== undefined) return l;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return lines.get(p.slice(0, cut)) ?? undefined;
    p = p.slice(0, cut);
  }
}
