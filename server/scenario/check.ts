// Small strict-validation kit over plain JS values parsed from YAML. Every problem is recorded with
// its field path; callers turn paths into file:line messages. Unknown fields are errors because a
// silently ignored typo ("fromEndpoint") is the worst kind of policy bug.

export interface Issue {
  path: string;
  message: string;
}

export class Checker {
  readonly issues: Issue[] = [];
  /** what is accepted but will not work as meant (the scenario still loads; `lint` shows them) */
  readonly warnings: Issue[] = [];

  err(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  get ok(): boolean {
    return this.issues.length === 0;
  }

  isObj(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
  }

  /** an object with only `allowed` keys; returns {} after reporting when v is not an object */
  obj(v: unknown, path: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
    if (!this.isObj(v)) {
      this.err(path, `must be an object, got ${describe(v)}`);
      return {};
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        const hint = closest(k, allowed);
        this.err(join(path, k), `unknown field "${k}"${hint ? ` (did you mean "${hint}"?)` : ""}`);
      }
    }
    for (const k of required) if (v[k] === undefined || v[k] === null) this.err(join(path, k), "is required");
    return v;
  }

  arr(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.err(path, `must be a list, got ${describe(v)}`);
      return [];
    }
    return v;
  }

  str(v: unknown, path: string, opts: { required?: boolean; allowNumber?: boolean } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.err(path, "is required");
      return undefined;
    }
    if (typeof v === "string") return v;
    if (opts.allowNumber && typeof v === "number") return String(v);
    this.err(path, `must be a string, got ${describe(v)}`);
    return undefined;
  }

  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    this.err(path, `must be true or false, got ${describe(v)}`);
    return undefined;
  }

  num(v: unknown, path: string, opts: { min?: number; max?: number; int?: boolean; required?: boolean } = {}): number | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.err(path, "is required");
      return undefined;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.err(path, `must be a number, got ${describe(v)}`);
      return undefined;
    }
    if (opts.int && !Number.isInteger(v)) this.err(path, `must be an integer, got ${v}`);
    else if (opts.min !== undefined && v < opts.min) this.err(path, `must be ≥ ${opts.min}, got ${v}`);
    else if (opts.max !== undefined && v > opts.max) this.err(path, `must be ≤ ${opts.max}, got ${v}`);
    else return v;
    return undefined;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[], opts: { ignoreCase?: boolean } = {}): T | undefined {
    const s = this.str(v, path);
    if (s === undefined) return undefined;
    const found = values.find((x) => (opts.ignoreCase ? x.toLowerCase() === s.toLowerCase() : x === s));
    if (!found) this.err(path, `must be one of ${values.join(", ")}, got "${s}"`);
    return found;
  }

  /** a map of string → string (labels) */
  strMap(v: unknown, path: string): Record<string, string> {
    if (v === undefined || v === null) return {};
    if (!this.isObj(v)) {
      this.err(path, `must be a map of strings, got ${describe(v)}`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val === "string") out[k] = val;
      else if (typeof val === "number" || typeof val === "boolean") out[k] = String(val);
      else this.err(join(path, k), `must be a string, got ${describe(val)}`);
    }
    return out;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** How much of a wrong value an error message quotes: a whole misread file must not be echoed back. */
const QUOTE_MAX = 80;

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") {
    // JSON escapes make control characters and invalid text visible instead of printing them raw
    const shown = v.length > QUOTE_MAX ? `${JSON.stringify(v.slice(0, QUOTE_MAX))}… (${v.length} characters)` : JSON.stringify(v);
    return shown;
  }
  if (typeof v === "number" && !Number.isFinite(v)) return `number ${v} (too large)`;
  return `${typeof v} ${String(v)}`;
}

function closest(k: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = editDistance(k.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
