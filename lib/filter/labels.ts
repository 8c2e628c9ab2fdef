// Kubernetes label selectors over Cilium's `source:key=value` labels. A selector key may carry a source
// (`k8s:app`, `reserved:world`); without one (or with `any:`) it matches a label of any source, the way
// Cilium's `any` source does.
import { FilterError } from "./types";

export type LabelOp = "exists" | "notexists" | "eq" | "neq" | "in" | "notin";

export interface LabelRequirement {
  /** undefined = any source */
  source?: string;
  key: string;
  op: LabelOp;
  values: string[];
}

export interface ParsedLabel {
  source: string;
  key: string;
  value: string;
}

const SOURCE_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function splitSource(s: string): { source?: string; key: string } {
  const i = s.indexOf(":");
  if (i > 0 && SOURCE_RE.test(s.slice(0, i))) {
    const source = s.slice(0, i);
    return { source: source === "any" ? undefined : source, key: s.slice(i + 1) };
  }
  return { key: s };
}

/** Splits a flow label `k8s:app=foo` (or `reserved:host`, `app=foo`) into its parts. */
export function parseFlowLabel(label: string): ParsedLabel {
  const eq = label.indexOf("=");
  const kv = eq >= 0 ? label.slice(0, eq) : label;
  const value = eq >= 0 ? label.slice(eq + 1) : "";
  const { source, key } = splitSource(kv);
  return { source: source ?? "unspec", key, value };
}

// Flows are matched against many filters; parse each label array once.
const parsedCache = new WeakMap<readonly string[], ParsedLabel[]>();
function parsedLabels(labels: readonly string[]): ParsedLabel[] {
  let p = parsedCache.get(labels);
  if (!p) {
    p = labels.map(parseFlowLabel);
    parsedCache.set(labels, p);
  }
  return p;
}

function splitTopLevel(sel: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of sel) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const KEY_RE = /^[A-Za-z0-9_.\-/:]+$/;

function checkKey(key: string, field: string, sel: string): void {
  if (!key || !KEY_RE.test(key)) {
    throw new FilterError(field, `invalid label key ${JSON.stringify(key)} in selector ${JSON.stringify(sel)}`);
  }
}

/** Parses one selector (`app=x,tier in (a,b),!debug`) into requirements, all of which must hold. */
export function parseLabelSelector(selector: string, field: string): LabelRequirement[] {
  if (typeof selector !== "string" || selector.trim() === "") {
    throw new FilterError(field, "empty label selector");
  }
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTopLevel(selector)) {
    const part = raw.trim();
    if (!part) {
      // "app=frontend, verdict=DROPPED" typed as a list: the comma ends one selector's requirements
      const hint = selector.trimEnd().endsWith(",") ? " (separate filter terms with spaces, not commas)" : "";
      throw new FilterError(field, `empty requirement in selector ${JSON.stringify(selector)}${hint}`);
    }
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const { source, key } = splitSource(m[1]);
      checkKey(key, field, selector);
      // Kubernetes refuses a set with no values ("for 'in', 'notin' operators, values set can't be empty")
      if (m[3].trim() === "") throw new FilterError(field, `"${m[2]}" needs at least one value in selector ${JSON.stringify(selector)}, e.g. ${m[1]} ${m[2]} (a,b)`);
      const values = m[3].split(",").map((v) => v.trim());
      if (values.some((v) => v === "" && values.length > 1)) {
        throw new FilterError(field, `empty value in set of selector ${JSON.stringify(selector)}`);
      }
      reqs.push({ source, key, op: m[2] as LabelOp, values });
    } else if ((m = /^!\s*([^=!\s]+)$/.exec(part))) {
      const { source, key } = splitSource(m[1]);
      checkKey(key, field, selector);
      reqs.push({ source, key, op: "notexists", values: [] });
    } else if ((m = /^([^=!\s]+)\s*(!=|==|=)\s*([^=!\s]*)$/.exec(part))) {
      const { source, key } = splitSource(m[1]);
      checkKey(key, field, selector);
      reqs.push({ source, key, op: m[2] === "!=" ? "neq" : "eq", values: [m[3]] });
    } else if ((m = /^([^=!\s()]+)$/.exec(part))) {
      const { source, key } = splitSource(m[1]);
      checkKey(key, field, selector);
      reqs.push({ source, key, op: "exists", values: [] });
    } else {
      throw new FilterError(field, `cannot parse label selector requirement ${JSON.stringify(part)}`);
    }
  }
  return reqs;
}

const NO_LABELS: ParsedLabel[] = [];

/** Does some label with the requirement's key (and source) satisfy `test`? */
function anyHit(parsed: readonly ParsedLabel[], r: LabelRequirement, test: (value: string) => boolean): boolean {
  for (let i = 0; i < parsed.length; i++) {
    const l = parsed[i]!;
    if (l.key === r.key && (r.source === undefined || l.source === r.source) && test(l.value)) return true;
  }
  return false;
}

/** Returns a predicate over a flow endpoint's labels that is true when every requirement holds. */
export function compileLabelSelector(selector: string, field: string): (labels: readonly string[] | undefined) => boolean {
  // Each requirement becomes "some matching label passes `test`" or its negation; the tests are made
  // here, once, because the predicate runs per flow for every stream client.
  const checks = parseLabelSelector(selector, field).map((r) => {
    const want = r.op === "exists" || r.op === "eq" || r.op === "in";
    const test = r.op === "exists" || r.op === "notexists" ? () => true : r.op === "eq" || r.op === "neq" ? (v: string) => v === r.values[0] : (v: string) => r.values.includes(v);
    return { r, want, test };
  });
  return (labels) => {
    const parsed = labels ? parsedLabels(labels) : NO_LABELS;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      if (anyHit(parsed, c.r, c.test) !== c.want) return false;
    }
    return true;
  };
}
