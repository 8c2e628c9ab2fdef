// The flow table's columns: one definition drives header, cell text, sorting and the column menu.
import type { StoredFlow } from "../api-types";
import {
  decidingPolicyLabel,
  destinationLabel,
  directionLabel,
  dropReasonLabel,
  identityLabel,
  l7Summary,
  portProtocol,
  sourceLabel,
  timeShort,
} from "./flow-view";
import { cachedKey } from "./row-keys";

export type ColumnId =
  | "time"
  | "source"
  | "destination"
  | "srcIdentity"
  | "dstIdentity"
  | "port"
  | "l7"
  | "verdict"
  | "dropReason"
  | "policy"
  | "direction"
  | "node";

export interface ColumnDef {
  id: ColumnId;
  title: string;
  /** CSS grid track */
  width: string;
  text: (f: StoredFlow) => string;
  /** sort key; defaults to text */
  key?: (f: StoredFlow) => string | number;
  /** the flow's time/id order already is the buffer order */
  natural?: boolean;
}

export const COLUMNS: readonly ColumnDef[] = [
  { id: "time", title: "Time", width: "108px", text: (f) => timeShort(f.flow.time ?? f.time), natural: true },
  { id: "source", title: "Source", width: "minmax(140px, 1.3fr)", text: (f) => sourceLabel(f.flow) },
  { id: "destination", title: "Destination", width: "minmax(140px, 1.3fr)", text: (f) => destinationLabel(f.flow) },
  { id: "srcIdentity", title: "Src identity", width: "minmax(90px, .7fr)", text: (f) => identityLabel(f.flow.source), key: (f) => f.flow.source?.identity ?? -1 },
  { id: "dstIdentity", title: "Dst identity", width: "minmax(90px, .7fr)", text: (f) => identityLabel(f.flow.destination), key: (f) => f.flow.destination?.identity ?? -1 },
  { id: "port", title: "Port", width: "88px", text: (f) => portProtocol(f.flow) },
  { id: "l7", title: "L7", width: "minmax(120px, 1.2fr)", text: (f) => l7Summary(f.flow) },
  { id: "verdict", title: "Verdict", width: "104px", text: (f) => f.flow.verdict ?? "" },
  { id: "dropReason", title: "Drop reason", width: "minmax(100px, .8fr)", text: (f) => dropReasonLabel(f.flow) },
  { id: "policy", title: "Deciding policy", width: "minmax(140px, 1.2fr)", text: (f) => decidingPolicyLabel(f.flow) },
  { id: "direction", title: "Direction", width: "76px", text: (f) => directionLabel(f.flow) },
  { id: "node", title: "Node", width: "minmax(80px, .6fr)", text: (f) => f.flow.node_name ?? f.node_name ?? "" },
];

export const COLUMN_BY_ID: Record<ColumnId, ColumnDef> = Object.fromEntries(COLUMNS.map((c) => [c.id, c])) as Record<ColumnId, ColumnDef>;

export const DEFAULT_COLUMNS: readonly ColumnId[] = ["time", "source", "destination", "port", "l7", "verdict", "policy"];

export function isColumnId(s: string): s is ColumnId {
  return s in COLUMN_BY_ID;
}

export interface SortSpec {
  column: ColumnId;
  dir: "asc" | "desc";
}

export const DEFAULT_SORT: SortSpec = { column: "time", dir: "desc" };

/**
 * Sort newest-first rows by a column. Stable, and ties keep newest first, so equal keys don't
 * shuffle as live rows arrive. Each row's key is computed once, interned to a small integer per
 * column and cached on the row (row-keys); only the distinct keys present are ordered (a few hundred
 * workloads, some thousands of pods, never 100k), and rows are then placed by a counting sort over
 * those ranks, which is linear and stable.
 */
export function sortRows(rowsNewestFirst: readonly StoredFlow[], sort: SortSpec): StoredFlow[] {
  const col = COLUMN_BY_ID[sort.column];
  if (col.natural) return sort.dir === "desc" ? rowsNewestFirst.slice() : rowsNewestFirst.slice().reverse();
  const { idOf, table } = columnKey(col);
  const n = rowsNewestFirst.length;
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = idOf(rowsNewestFirst[i]!);
  const rankOf = new Int32Array(table.size).fill(-1);
  const present: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (rankOf[id] === -1) {
      rankOf[id] = 0;
      present.push(id);
    }
  }
  const cmp = table.comparator(present);
  present.sort(cmp);
  let ranks = 0;
  for (let i = 0; i < present.length; i++) {
    if (i > 0 && cmp(present[i - 1]!, present[i]!) !== 0) ranks++;
    rankOf[present[i]!] = ranks;
  }
  ranks++;
  const desc = sort.dir === "desc";
  // counting sort: bucket starts by rank (reversed for desc); rows keep newest-first order within one
  const bucket = (id: number) => (desc ? ranks - 1 - rankOf[id]! : rankOf[id]!);
  const starts = new Uint32Array(ranks + 1);
  for (let i = 0; i < n; i++) starts[bucket(ids[i]!) + 1]!++;
  for (let r = 1; r <= ranks; r++) starts[r]! += starts[r - 1]!;
  const out = new Array<StoredFlow>(n);
  for (let i = 0; i < n; i++) out[starts[bucket(ids[i]!)]!++] = rowsNewestFirst[i]!;
  return out;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * For printable ASCII, the collator's numeric, case-insensitive order as a plain string: lower case,
 * and digit runs zero-padded to one width so "svc-9" < "svc-10". (Punctuation keeps code-point order,
 * where the collator has its own; cells differ in names and numbers, not in punctuation.)
 */
export function asciiSortKey(s: string): string {
  return s.toLowerCase().replace(/\d+/g, (d) => {
    const t = d.replace(/^0+(?=\d)/, "");
    return t.length >= 20 ? t : "00000000000000000000".slice(t.length) + t;
  });
}

/** A column's distinct keys, each with a small integer id and (computed once) its ASCII sort key. */
class KeyTable {
  private ids = new Map<string | number, number>();
  private values: (string | number)[] = [];
  private norm: (string | undefined)[] = [];

  get size(): number {
    return this.values.length;
  }

  id(k: string | number): number {
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(k, id);
      this.values.push(k);
    }
    return id;
  }

  /** Orders ids by compareKeys; with only printable-ASCII strings present, via cached plain keys. */
  comparator(present: readonly number[]): (a: number, b: number) => number {
    const v = this.values;
    const fast = present.every((id) => typeof v[id] === "string" && PRINTABLE_ASCII.test(v[id] as string));
    if (!fast) return (a, b) => compareKeys(v[a]!, v[b]!);
    const norm = this.norm;
    for (const id of present) if (norm[id] === undefined) norm[id] = asciiSortKey(v[id] as string);
    return (a, b) => {
      const x = norm[a]!;
      const y = norm[b]!;
      if (x === y) return 0;
      // Empty cells sort last in ascending order: they carry no information.
      if (x === "") return 1;
      if (y === "") return -1;
      return x < y ? -1 : 1;
    };
  }
}

const keyFns = new Map<ColumnId, { idOf: (f: StoredFlow) => number; table: KeyTable }>();

function columnKey(col: ColumnDef): { idOf: (f: StoredFlow) => number; table: KeyTable } {
  let k = keyFns.get(col.id);
  if (!k) {
    const table = new KeyTable();
    const key = col.key ?? col.text;
    k = { idOf: cachedKey((f) => table.id(key(f))) as (f: StoredFlow) => number, table };
    keyFns.set(col.id, k);
  }
  return k;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  // Empty cells sort last in ascending order: they carry no information.
  const as = String(a);
  const bs = String(b);
  if (as === "" && bs !== "") return 1;
  if (bs === "" && as !== "") return -1;
  return collator.compare(as, bs);
}

export function parseColumns(s: string | null | undefined): ColumnId[] {
  if (!s) return [...DEFAULT_COLUMNS];
  const cols = s.split(",").filter(isColumnId);
  return cols.length ? [...new Set(cols)] : [...DEFAULT_COLUMNS];
}
