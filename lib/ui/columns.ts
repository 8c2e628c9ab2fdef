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
  tcpFlagsLabel,
  timeCell,
} from "./flow-view";
import { SortKeyTable, type RowSource } from "./sort-keys";
import { rowTimeKey } from "./time-key";

export { timeSortKey } from "./time-key";
import { visible } from "./visible-text";
import { getFlowType } from "../flow/print";

export { asciiSortKey, compareKeys } from "./sort-keys";

export type ColumnId =
  | "time"
  | "source"
  | "destination"
  | "type"
  | "srcIdentity"
  | "dstIdentity"
  | "port"
  | "l7"
  | "verdict"
  | "dropReason"
  | "policy"
  | "direction"
  | "node"
  | "srcIp"
  | "dstIp"
  | "tcpFlags"
  | "auth";

export interface ColumnDef {
  id: ColumnId;
  title: string;
  /** CSS grid track */
  width: string;
  text: (f: StoredFlow) => string;
  /** sort key; defaults to text */
  key?: (f: StoredFlow) => string | number;
  /**
   * the buffer's order (newest stored first) is usually this column's order: it is used as is when
   * the rows' keys say so, and sorted by key otherwise (imported flows arrive in any time order)
   */
  natural?: boolean;
}

const COLUMN_DEFS: readonly ColumnDef[] = [
  { id: "time", title: "Time", width: "108px", text: (f) => timeCell(f.flow.time ?? f.time), key: rowTimeKey, natural: true },
  { id: "source", title: "Source", width: "minmax(140px, 1.3fr)", text: (f) => sourceLabel(f.flow) },
  { id: "destination", title: "Destination", width: "minmax(140px, 1.3fr)", text: (f) => destinationLabel(f.flow) },
  // hubble observe's TYPE column: one request shows as several events (policy verdict, trace, L7)
  { id: "type", title: "Type", width: "minmax(110px, .9fr)", text: (f) => getFlowType(f.flow) },
  { id: "srcIdentity", title: "Src identity", width: "minmax(90px, .7fr)", text: (f) => identityLabel(f.flow.source), key: (f) => f.flow.source?.identity ?? -1 },
  { id: "dstIdentity", title: "Dst identity", width: "minmax(90px, .7fr)", text: (f) => identityLabel(f.flow.destination), key: (f) => f.flow.destination?.identity ?? -1 },
  { id: "port", title: "Port", width: "88px", text: (f) => portProtocol(f.flow) },
  { id: "l7", title: "L7", width: "minmax(120px, 1.2fr)", text: (f) => l7Summary(f.flow) },
  { id: "verdict", title: "Verdict", width: "104px", text: (f) => f.flow.verdict ?? "" },
  { id: "dropReason", title: "Drop reason", width: "minmax(100px, .8fr)", text: (f) => dropReasonLabel(f.flow) },
  { id: "policy", title: "Deciding policy", width: "minmax(140px, 1.2fr)", text: (f) => decidingPolicyLabel(f.flow) },
  { id: "direction", title: "Direction", width: "76px", text: (f) => directionLabel(f.flow) },
  { id: "node", title: "Node", width: "minmax(80px, .6fr)", text: (f) => f.flow.node_name ?? f.node_name ?? "" },
  // the rest of Hubble UI's optional columns
  { id: "srcIp", title: "Source IP", width: "minmax(96px, .7fr)", text: (f) => f.flow.IP?.source ?? "" },
  { id: "dstIp", title: "Destination IP", width: "minmax(96px, .7fr)", text: (f) => f.flow.IP?.destination ?? "" },
  { id: "tcpFlags", title: "TCP flags", width: "minmax(72px, .5fr)", text: (f) => tcpFlagsLabel(f.flow) },
  { id: "auth", title: "Authentication", width: "minmax(72px, .5fr)", text: (f) => (f.flow.auth_type && f.flow.auth_type !== "DISABLED" ? f.flow.auth_type : "") },
];

/** Cell text is shown with bidirectional controls made visible (visible-text.ts); sort keys read it too. */
export const COLUMNS: readonly ColumnDef[] = COLUMN_DEFS.map((c) => ({ ...c, text: (f: StoredFlow) => visible(c.text(f)) }));

export const COLUMN_BY_ID: Record<ColumnId, ColumnDef> = Object.fromEntries(COLUMNS.map((c) => [c.id, c])) as Record<ColumnId, ColumnDef>;

export const DEFAULT_COLUMNS: readonly ColumnId[] = ["time", "source", "destination", "type", "port", "l7", "verdict", "policy"];

/** the smallest width a grid track takes: "108px" → 108, "minmax(140px, 1.3fr)" → 140 */
export function minPx(track: string): number {
  const m = /(\d+(?:\.\d+)?)px/.exec(track);
  return m ? Number(m[1]) : 0;
}

/** never left out to fit: who talked to whom, when, and what was decided */
const ALWAYS_SHOWN: ReadonlySet<ColumnId> = new Set(["time", "source", "destination", "verdict"]);
/** what gives way first when the columns do not fit: the least read, then the wide L4/L7 detail */
const GIVES_WAY: readonly ColumnId[] = ["auth", "tcpFlags", "srcIp", "dstIp", "node", "direction", "srcIdentity", "dstIdentity", "dropReason", "type", "l7", "port", "policy"];

/**
 * The chosen columns that fit in `width` pixels, and those left out to make them fit (in the order
 * chosen); `sortedBy` is never left out, and is shown even when not chosen (a shared link sorts by a
 * column this browser's choice leaves out). A narrow window with the details open would otherwise
 * scroll Verdict out of sight.
 */
export function fitColumns(chosen: readonly ColumnId[], width: number | undefined, sortedBy?: ColumnId): { shown: ColumnId[]; hidden: ColumnId[] } {
  const columns = sortedBy !== undefined && !chosen.includes(sortedBy) ? [...chosen, sortedBy] : chosen;
  const need = (cs: readonly ColumnId[]) => cs.reduce((sum, c) => sum + minPx(COLUMN_BY_ID[c].width), 0);
  if (width === undefined || width <= 0 || need(columns) <= width) return { shown: [...columns], hidden: [] };
  let shown = [...columns];
  for (const c of GIVES_WAY) {
    if (need(shown) <= width) break;
    // the column the rows are sorted by stays, or the order would have no header to explain it
    if (!ALWAYS_SHOWN.has(c) && c !== sortedBy) shown = shown.filter((x) => x !== c);
  }
  return { shown, hidden: columns.filter((c) => !shown.includes(c)) };
}

export function isColumnId(s: string): s is ColumnId {
  return Object.hasOwn(COLUMN_BY_ID, s);
}

export interface SortSpec {
  column: ColumnId;
  dir: "asc" | "desc";
}

export const DEFAULT_SORT: SortSpec = { column: "time", dir: "desc" };

export function isDefaultSort(s: SortSpec): boolean {
  return s.column === DEFAULT_SORT.column && s.dir === DEFAULT_SORT.dir;
}

/**
 * Sort newest-first rows by a column. Stable, and ties keep newest first, so equal keys don't
 * shuffle as live rows arrive. Keys are interned per column (sort-keys), usually already as the rows
 * arrived (prepareSortKeys); `rowsHeld` is how many rows the page holds, which bounds the key table.
 * `inTimeOrder` is the store's own count of that (FlowStore.inTimeOrder()): given, the rows are not
 * walked again to find out whether the time column's order is the stored one.
 */
export function sortRows(rowsNewestFirst: readonly StoredFlow[], sort: SortSpec, rowsHeld?: number, inTimeOrder?: boolean): StoredFlow[] {
  const col = COLUMN_BY_ID[sort.column];
  if (col.natural && (inTimeOrder ?? inKeyOrder(rowsNewestFirst, col.key ?? col.text))) return sort.dir === "desc" ? rowsNewestFirst.slice() : rowsNewestFirst.slice().reverse();
  return tableOf(col).sort(rowsNewestFirst, sort.dir, rowsHeld);
}

/**
 * true when no row's key is greater than the one before it (newest first, so keys never grow). Plain
 * comparison: the natural column's keys are fixed-format ASCII, and this runs on every live refresh.
 */
function inKeyOrder(rows: readonly StoredFlow[], key: (f: StoredFlow) => string | number): boolean {
  let prev = rows.length ? key(rows[0]!) : "";
  for (let i = 1; i < rows.length; i++) {
    const k = key(rows[i]!);
    if (k > prev) return false;
    prev = k;
  }
  return true;
}

const tables = new Map<ColumnId, SortKeyTable>();

function tableOf(col: ColumnDef): SortKeyTable {
  let t = tables.get(col.id);
  if (!t) tables.set(col.id, (t = new SortKeyTable(col.key ?? col.text)));
  return t;
}

const KEYED = COLUMNS.filter((c) => !c.natural);

/**
 * Intern every sortable column's key for rows as they arrive (a few microseconds a row), so the first
 * sort by any column only orders keys. With the store given, a table grown past its bound for the
 * rows the store holds is compacted against them.
 */
export function prepareSortKeys(batch: readonly StoredFlow[], held?: RowSource): void {
  for (const col of KEYED) {
    const t = tableOf(col);
    for (const r of batch) t.idOf(r);
    if (held) t.compactIfOver(held);
  }
}

/** Distinct keys each column's table holds now, and how often it was compacted (tests, bench). */
export function sortKeyStats(): Partial<Record<ColumnId, { keys: number; compactions: number }>> {
  const out: Partial<Record<ColumnId, { keys: number; compactions: number }>> = {};
  for (const [id, t] of tables) out[id] = { keys: t.size, compactions: t.compactions };
  return out;
}

export function parseColumns(s: string | null | undefined): ColumnId[] {
  if (!s) return [...DEFAULT_COLUMNS];
  const cols = s.split(",").filter(isColumnId);
  return cols.length ? [...new Set(cols)] : [...DEFAULT_COLUMNS];
}
