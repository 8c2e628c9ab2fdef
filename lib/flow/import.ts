// Reads `hubble observe -o json` output (and the exporter's files) line by line. Accepts what Go protojson
// accepts: proto or lowerCamel field names, enum names or numbers, 64-bit integers as numbers or strings,
// unknown fields (ignored, like `hubble observe --input-file`), and the pre-v0.11 bare Flow lines. Each
// bad line becomes an error with its line number; good lines are kept. lost_events / node_status /
// agent_event / debug_event lines are not flows and are counted as skipped.
import { ENUMS, enumName, formatTimestamp, SCHEMA, type FieldSpec, type FieldType } from "./json";
import type { Flow, FlowEnvelope } from "./types";
import { timestampMs } from "./time";

export interface ImportError {
  line: number;
  message: string;
}

export type LineResult =
  | { kind: "flow"; envelope: FlowEnvelope }
  | { kind: "skipped"; what: string; record: Record<string, unknown> }
  | { kind: "empty" }
  | { kind: "error"; message: string };

export interface ImportResult {
  flows: FlowEnvelope[];
  errors: ImportError[];
  /** non-flow lines by kind, e.g. { lost_events: 2 } */
  skipped: Record<string, number>;
  /** human-readable notes about skipped lines */
  notes: string[];
  lines: number;
  /** every bad line, also those past the ones kept in `errors` */
  errorCount: number;
}

class LineError extends Error {}

/** with their lowerCamel spellings, which protojson accepts too */
const NON_FLOW = ["node_status", "lost_events", "agent_event", "debug_event"].map((k) => [k, camelKey(k)] as const);

/** a message's fields by either spelling, with their place in declaration order */
function fieldIndex(msg: string): Map<string, { spec: FieldSpec; at: number }> {
  const m = new Map<string, { spec: FieldSpec; at: number }>();
  SCHEMA[msg].forEach((spec, at) => {
    m.set(spec.name, { spec, at });
    m.set(spec.json, { spec, at });
  });
  return m;
}
const INDEX: Record<string, Map<string, { spec: FieldSpec; at: number }>> = Object.fromEntries(Object.keys(SCHEMA).map((k) => [k, fieldIndex(k)]));

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/**
 * A field's path in error messages, as its parent's path and its own name (or index): the text is
 * built only when an error is thrown, and most lines have none, so no string or closure is made per field.
 */
interface Path {
  readonly parent: Path | undefined;
  readonly name: string | number;
}

function pathText(p: Path): string {
  const head = p.parent ? pathText(p.parent) : "";
  return typeof p.name === "number" ? `${head}[${p.name}]` : head ? `${head}.${p.name}` : p.name;
}

/** the last timestamp read and what it became: an envelope's time is its flow's, read twice a line */
let lastTimestamp: { text: string; formatted: string } | undefined;

function normTimestamp(v: unknown, path: Path): string {
  if (typeof v === "string" && v === lastTimestamp?.text) return lastTimestamp.formatted;
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.test(v)) {
    throw new LineError(`${pathText(path)}: expected an RFC 3339 timestamp, got ${JSON.stringify(v)}`);
  }
  if (Number.isNaN(timestampMs(v))) throw new LineError(`${pathText(path)}: ${JSON.stringify(v)} is not a real time (a field is out of range)`);
  lastTimestamp = { text: v, formatted: formatTimestamp(v) };
  return lastTimestamp.formatted;
}

function normValue(type: FieldType, v: unknown, path: Path): unknown {
  if (v === null) return undefined;
  if (typeof type === "string") {
    switch (type) {
      case "string":
        if (typeof v !== "string") throw new LineError(`${pathText(path)}: expected a string, got ${typeName(v)}`);
        return v === "" ? undefined : v;
      case "int":
      case "uint": {
        // protojson takes 32-bit integers as numbers or strings, and refuses values out of range
        const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n)) throw new LineError(`${pathText(path)}: expected an integer, got ${JSON.stringify(v)}`);
        const [lo, hi] = type === "uint" ? [0, 0xffffffff] : [-0x80000000, 0x7fffffff];
        if (n < lo || n > hi) throw new LineError(`${pathText(path)}: ${JSON.stringify(v)} is out of range for a ${type === "uint" ? "uint32" : "int32"}`);
        return n === 0 ? undefined : n;
      }
      case "uint64": {
        if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v === 0 ? undefined : String(v);
        if (typeof v === "string" && /^\d+$/.test(v)) return /^0+$/.test(v) ? undefined : v.replace(/^0+/, "");
        throw new LineError(`${pathText(path)}: expected an unsigned 64-bit integer, got ${JSON.stringify(v)}`);
      }
      case "bool":
        if (typeof v !== "boolean") throw new LineError(`${pathText(path)}: expected true or false, got ${JSON.stringify(v)}`);
        return v ? true : undefined;
      case "boolvalue":
        if (typeof v !== "boolean") throw new LineError(`${pathText(path)}: expected true or false, got ${JSON.stringify(v)}`);
        return v;
      case "int32value":
        if (typeof v !== "number" || !Number.isInteger(v)) throw new LineError(`${pathText(path)}: expected an integer, got ${JSON.stringify(v)}`);
        return v;
      case "timestamp":
        return normTimestamp(v, path);
      case "any":
        if (typeof v !== "object" || Array.isArray(v)) throw new LineError(`${pathText(path)}: expected an object, got ${typeName(v)}`);
        // kept as it is, so every later walk over it (bounding, storing, printing) recurses: refused
        // here when nesting that deep would overflow a stack there
        if (nestedDeeperThan(v, MAX_ANY_DEPTH)) throw new LineError(`${pathText(path)}: nested deeper than ${MAX_ANY_DEPTH} levels`);
        return v;
    }
  }
  if ("enum" in type) {
    if (typeof v !== "string" && typeof v !== "number") throw new LineError(`${pathText(path)}: expected an enum name or number, got ${typeName(v)}`);
    const name = enumName(type.enum, v);
    if (name === undefined) throw new LineError(`${pathText(path)}: unknown ${type.enum} value ${JSON.stringify(v)}`);
    if (typeof v === "string" && type.enum !== "DropReason" && !enumNameSet(type.enum).has(v)) {
      throw new LineError(`${pathText(path)}: unknown ${type.enum} value ${JSON.stringify(v)}`);
    }
    if (type.enum === "DropReason" && !/^[A-Z0-9_]+$/.test(name)) throw new LineError(`${pathText(path)}: invalid drop reason ${JSON.stringify(v)}`);
    return name;
  }
  if ("msg" in type) {
    if (typeof v !== "object" || Array.isArray(v)) throw new LineError(`${pathText(path)}: expected an object, got ${typeName(v)}`);
    return normMessage(type.msg, v as Record<string, unknown>, path);
  }
  if (!Array.isArray(v)) throw new LineError(`${pathText(path)}: expected an array, got ${typeName(v)}`);
  const item = type.repeated;
  const out = v.map((x, i) => {
    if (item === "string") {
      if (typeof x !== "string") throw new LineError(`${pathText(path)}[${i}]: expected a string, got ${typeName(x)}`);
      return x;
    }
    if (typeof x !== "object" || x === null || Array.isArray(x)) throw new LineError(`${pathText(path)}[${i}]: expected an object, got ${typeName(x)}`);
    return normMessage(item.msg, x as Record<string, unknown>, { parent: path, name: i });
  });
  return out.length ? out : undefined;
}

const ENUM_NAME_SETS = new Map<string, Set<string>>();

/** the names an enum accepts (made once per enum: this runs for every enum field of every line) */
function enumNameSet(e: string): Set<string> {
  let set = ENUM_NAME_SETS.get(e);
  if (!set) ENUM_NAME_SETS.set(e, (set = new Set(Object.values(ENUMS[e] ?? {}))));
  return set;
}

/** Rebuilds `obj` with proto field names in declaration order, dropping unknown and default fields. */
function normMessage(msg: string, obj: Record<string, unknown>, at: Path | undefined): Record<string, unknown> {
  const idx = INDEX[msg];
  const fields = SCHEMA[msg];
  // by declaration order; of a field spelled both ways, the later non-default spelling wins
  const vals: unknown[] = new Array(fields.length);
  let found = 0;
  for (const k in obj) {
    const f = idx.get(k);
    if (!f) continue; // unknown field: tolerated, as hubble --input-file does
    const nv = normValue(f.spec.type, obj[k], { parent: at, name: f.spec.name });
    if (nv === undefined) continue;
    if (vals[f.at] === undefined) found++;
    vals[f.at] = nv;
  }
  const out: Record<string, unknown> = {};
  for (let i = 0; found > 0 && i < fields.length; i++) {
    if (vals[i] === undefined) continue;
    out[fields[i]!.name] = vals[i];
    found--;
  }
  return out;
}

/** how deep an `extensions` (google.protobuf.Any) value may nest */
const MAX_ANY_DEPTH = 64;
/** the longest uuid kept whole: the store bounds its uuid column there, and duplicates are found by it */
const MAX_UUID_LENGTH = 64;

/** Whether `v` nests objects or arrays more than `max` levels deep, found without recursion. */
function nestedDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d > max) return true;
    for (const y of Object.values(x as object)) if (y !== null && typeof y === "object") stack.push([y, d + 1]);
  }
  return false;
}

/** Parses one line of an export. */
export function importLine(text: string): LineResult {
  const t = text.trim();
  if (t === "") return { kind: "empty" };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    return { kind: "error", message: `invalid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { kind: "error", message: `expected a JSON object, got ${typeName(v)}` };
  const o = v as Record<string, unknown>;
  for (const [k, camel] of NON_FLOW) {
    if (k in o || camel in o) return { kind: "skipped", what: k, record: o };
  }
  try {
    if ("flow" in o) {
      if (typeof o.flow !== "object" || o.flow === null || Array.isArray(o.flow)) return { kind: "error", message: `flow: expected an object, got ${typeName(o.flow)}` };
      const env = normMessage("GetFlowsResponse", o, undefined);
      const flow = env.flow as Flow;
      checkUuid(flow, "flow.uuid");
      return {
        kind: "flow",
        envelope: { flow, node_name: (env.node_name as string) ?? flow.node_name ?? "", time: (env.time as string) ?? flow.time ?? "" },
      };
    }
    // pre-v0.11 `-o json`: a bare Flow
    if ("time" in o || "verdict" in o || "IP" in o || "source" in o || "Type" in o) {
      const flow = normMessage("Flow", o, { parent: undefined, name: "flow" }) as Flow;
      checkUuid(flow, "uuid");
      return { kind: "flow", envelope: { flow, node_name: flow.node_name ?? "", time: flow.time ?? "" } };
    }
  } catch (e) {
    if (e instanceof LineError) return { kind: "error", message: e.message };
    throw e;
  }
  return { kind: "error", message: "not a Hubble flow: no flow, node_status or lost_events member" };
}

function checkUuid(flow: Flow, at: string): void {
  if (typeof flow.uuid === "string" && flow.uuid.length > MAX_UUID_LENGTH) {
    throw new LineError(`${at}: ${flow.uuid.length} characters, more than the ${MAX_UUID_LENGTH} a flow id may have (Hubble's are 36)`);
  }
}

function camelKey(k: string): string {
  return k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Accumulates results line by line so callers can stream large files. */
export class HubbleImporter {
  readonly result: ImportResult = { flows: [], errors: [], skipped: {}, notes: [], lines: 0, errorCount: 0 };
  /** the line push() just skipped (lost_events, node_status, …), for a reader that shows them */
  skipped: { what: string; record: Record<string, unknown> } | undefined;
  constructor(private readonly keepFlows = true, private readonly maxErrors = 1000) {}

  /** Returns the envelope for a good flow line, undefined otherwise. */
  push(text: string): FlowEnvelope | undefined {
    const r = this.result;
    const lineNo = ++r.lines;
    const res = importLine(text);
    this.skipped = res.kind === "skipped" ? { what: res.what, record: res.record } : undefined;
    switch (res.kind) {
      case "flow":
        if (this.keepFlows) r.flows.push(res.envelope);
        return res.envelope;
      case "skipped":
        if (!r.skipped[res.what]) r.notes.push(`line ${lineNo}: skipped ${res.what} (not a flow); further ones are only counted`);
        r.skipped[res.what] = (r.skipped[res.what] ?? 0) + 1;
        return undefined;
      case "error":
        this.error(lineNo, res.message);
        return undefined;
      case "empty":
        return undefined;
    }
  }

  /** Counts a line refused before it could be read (too long, not UTF-8). */
  refuse(message: string): void {
    this.error(++this.result.lines, message);
  }

  private error(line: number, message: string): void {
    const r = this.result;
    r.errorCount++;
    // the first ones are kept to show; the rest are only counted
    if (r.errors.length < this.maxErrors) r.errors.push({ line, message });
  }
}

/** Parses a whole export held in memory. */
export function parseHubbleExport(text: string): ImportResult {
  const imp = new HubbleImporter();
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  for (const l of lines) imp.push(l);
  return imp.result;
}
