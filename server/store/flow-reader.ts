// Filtered reads over the flow history. The filter is translated to SQL where it can be; whatever SQL
// cannot express (HTTP headers, TCP flags, IP version, services) is a residual predicate applied to the rows SQL
// returned, fetching further chunks until the page is full or the scan budget is spent.
import { withoutExtensions } from "../../lib/flow/strip-extensions";
import type Database from "better-sqlite3";
import type { FlowEnvelope } from "../../lib/flow/types";
import type { StoredFlow } from "../../lib/api-types";
import type { FlowQuery } from "../../lib/filter/types";
import { queryToSql } from "./filter-sql";
import { registerFilterFunctions } from "./sql-functions";
import { parseStored } from "../bus";
import type { FragmentRegistry } from "./fragments";
import { POLICY_VERDICT_GROUPS_SQL, type PolicyVerdictGroup } from "./aggregate-queries";

const NEWLINE = Buffer.from("\n");
const EMPTY = Buffer.alloc(0);
/** ids one page statement may look at (see page) */
const SCAN_WINDOW = 65_536;
/** rows one export statement returns at most */
const SCAN_ROWS = 2000;

export interface ScanOptions {
  /** ids one statement may look at (default SCAN_WINDOW) */
  scanWindow?: number;
  /** how often a long scan hands control back (see scanJson) */
  heartbeatMs?: number;
}

export interface JsonRow {
  id: number;
  /** the record's `hubble observe -o json` line */
  json: string;
  /** the parsed record, when a filter checked row by row needed it */
  flow?: FlowEnvelope;
}

export interface PageOptions {
  limit: number;
  /** row id to continue after (exclusive), in the page's order */
  cursor?: number;
  order: "asc" | "desc";
  /** at most this many rows are checked one by one for a page when a residual filter is in play */
  scanBudget?: number;
  /** and for at most this long (ms); the page then ends early with a cursor to continue from */
  scanMs?: number;
  /** ids one statement may look at (default SCAN_WINDOW) */
  scanWindow?: number;
}

export interface Page {
  flows: StoredFlow[];
  nextCursor?: number;
  /** the page ended before `limit` because the search ran out of time (or rows to check one by one), not of matches */
  scanStopped?: true;
}

export interface RawRow {
  id: number;
  /** the record's `hubble observe -o json` line */
  json: string;
}

interface StoredRow {
  id: number;
  body: string;
}

function toStored(row: RawRow): StoredFlow {
  return parseStored(row.id, row.json);
}

export class FlowReader {
  private statements = new Map<string, Database.Statement>();
  private readonly idBounds: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly fragments: FragmentRegistry,
  ) {
    registerFilterFunctions(db);
    // two subqueries: SQLite answers a lone MIN or MAX from the key, but scans the table for both at once
    this.idBounds = db.prepare("SELECT (SELECT MIN(id) FROM flows) AS lo, (SELECT MAX(id) FROM flows) AS hi");
  }

  private all(st: Database.Statement, params: unknown[]): RawRow[] {
    const rows = st.all(...params) as StoredRow[];
    const out: RawRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = { id: rows[i]!.id, json: this.fragments.expand(rows[i]!.body) };
    return out;
  }

  private prepare(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      // Statements are keyed by text; filters vary in shape, so bound the cache.
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  page(query: FlowQuery, opts: PageOptions): Page {
    const translated = queryToSql(query);
    const { where, params, residual } = translated;
    const desc = opts.order === "desc";
    const limit = Math.max(1, opts.limit);
    if (translated.branches) return this.pageByBranches(translated.branches, desc, limit, opts.cursor);
    const budget = opts.scanBudget ?? 200_000;
    // The page is searched on the thread every client shares: stop after a quarter of a second with a
    // cursor to continue from, rather than hold the stream, the simulator and other requests. One
    // statement looks at no more than SCAN_WINDOW ids, so the clock is read often enough even when SQL
    // decides every row (a CIDR or a label matching nothing reads the whole table otherwise).
    const deadline = performance.now() + (opts.scanMs ?? 250);
    const chunk = residual ? Math.min(Math.max(limit * 4, 500), 5000) : limit;
    const st = this.prepare(
      desc
        ? `SELECT id, body FROM flows WHERE (${where || "1"}) AND id < ? AND id >= ? ORDER BY id DESC LIMIT ?`
        : `SELECT id, body FROM flows WHERE (${where || "1"}) AND id > ? AND id <= ? ORDER BY id ASC LIMIT ?`,
    );
    const bounds = this.idBounds.get() as { lo: number | null; hi: number | null };
    if (bounds.lo === null || bounds.hi === null) return { flows: [] };
    const out: StoredFlow[] = [];
    const window = Math.max(1, opts.scanWindow ?? SCAN_WINDOW);
    let cursor = opts.cursor ?? (desc ? bounds.hi + 1 : bounds.lo - 1);
    let scanned = 0;
    for (;;) {
      // the window's far end: ids between the cursor and it are what this statement may look at
      const end = desc ? Math.max(cursor - window, bounds.lo) : Math.min(cursor + window, bounds.hi);
      if (desc ? cursor <= bounds.lo : cursor >= bounds.hi) return { flows: out };
      const rows = this.all(st, [...params, cursor, end, chunk]);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        cursor = row.id;
        const stored = toStored(row);
        if (residual && !residual(stored.flow)) {
          // a check can take milliseconds a row (a CEL expression near its cost limit): the clock is
          // read within the chunk too, not only between statements
          if ((i & 15) === 15 && performance.now() > deadline) return { flows: out, nextCursor: row.id, scanStopped: true };
          continue;
        }
        out.push(stored);
        if (out.length === limit) return { flows: out, nextCursor: row.id };
      }
      scanned += rows.length;
      // the window is done: go on from its far end (desc: ids below it; asc: above it)
      if (rows.length < chunk) cursor = end;
      if (desc ? cursor <= bounds.lo : cursor >= bounds.hi) return { flows: out };
      if ((residual && scanned >= budget) || performance.now() > deadline) return { flows: out, nextCursor: cursor, scanStopped: true };
    }
  }

  /**
   * The page as the merge of one ordered, limited query per branch: each branch walks its own index in id
   * order, so the cost follows the page size, not the number of matches.
   */
  private pageByBranches(branches: { where: string; params: unknown[] }[], desc: boolean, limit: number, cursor?: number): Page {
    const start = cursor ?? (desc ? Number.MAX_SAFE_INTEGER : 0);
    const merged = new Map<number, RawRow>();
    let more = false;
    for (const b of branches) {
      const st = this.prepare(`SELECT id, body FROM flows WHERE (${b.where}) AND id ${desc ? "<" : ">"} ? ORDER BY id ${desc ? "DESC" : "ASC"} LIMIT ?`);
      const rows = this.all(st, [...b.params, start, limit + 1]);
      if (rows.length > limit) more = true;
      for (const r of rows) merged.set(r.id, r);
    }
    const ids = [...merged.keys()].sort((a, b) => (desc ? b - a : a - b));
    const page = ids.slice(0, limit);
    if (ids.length > limit) more = true;
    const flows = page.map((id) => toStored(merged.get(id)!));
    return { flows, ...(more && page.length ? { nextCursor: page[page.length - 1] } : {}) };
  }

  /** Every matching flow, oldest first, in chunks: constant memory however many there are. */
  *iterate(query: FlowQuery, afterId = 0, chunk = 2000): Generator<StoredFlow> {
    const { where, params, residual } = queryToSql(query);
    const st = this.prepare(`SELECT id, body FROM flows WHERE (${where || "1"}) AND id > ? ORDER BY id ASC LIMIT ?`);
    let cursor = afterId;
    for (;;) {
      const rows = this.all(st, [...params, cursor, chunk]);
      for (const row of rows) {
        cursor = row.id;
        const stored = toStored(row);
        if (residual && !residual(stored.flow)) continue;
        yield stored;
      }
      if (rows.length < chunk) return;
    }
  }

  /** The matching records' JSON lines (the stored envelope text), oldest first: scanJson without its heartbeats. */
  *iterateJson(query: FlowQuery, opts: ScanOptions = {}): Generator<JsonRow> {
    for (const r of this.scanJson(query, opts)) if (r !== null) yield r;
  }

  /**
   * The matching records' JSON lines, oldest first, over the records stored when the scan starts. One
   * statement looks at one window of ids, and between statements (and every few hundred rows a filter
   * checks one by one) a `null` comes out once `heartbeatMs` have passed since the last: the consumer
   * then gives the event loop a turn. A filter that rarely matches would otherwise read the whole
   * table in one go on the thread everyone shares, whether SQL or the residual predicate decides it.
   */
  *scanJson(query: FlowQuery, opts: ScanOptions = {}): Generator<JsonRow | null> {
    const sql = queryToSql(query);
    const residual = sql.residual;
    for (const row of this.scanRows(sql, opts, residual !== undefined)) {
      if (row === null) {
        yield null;
        continue;
      }
      const json = this.fragments.expand(row.body);
      if (!residual) {
        yield { id: row.id, json };
        continue;
      }
      const env = JSON.parse(json) as FlowEnvelope;
      if (residual(env.flow)) yield { id: row.id, json, flow: env };
    }
  }

  /**
   * The rows the translated query selects, oldest first, over the ids stored when the scan starts: one
   * window of ids per statement, and `null` between statements (and, when `rowByRow`, every 16 rows:
   * each is then parsed and checked) once `heartbeatMs` have passed since the last.
   */
  private *scanRows({ where, params }: { where: string; params: unknown[] }, opts: ScanOptions, rowByRow: boolean): Generator<StoredRow | null> {
    const st = this.prepare(`SELECT id, body FROM flows WHERE (${where || "1"}) AND id > ? AND id <= ? ORDER BY id ASC LIMIT ?`);
    const hi = (this.idBounds.get() as { hi: number | null }).hi ?? 0;
    const window = Math.max(1, opts.scanWindow ?? SCAN_WINDOW);
    const heartbeatMs = opts.heartbeatMs ?? 50;
    let beat = performance.now();
    const due = (): boolean => {
      if (performance.now() - beat < heartbeatMs) return false;
      beat = performance.now();
      return true;
    };
    let cursor = 0;
    while (cursor < hi) {
      const end = Math.min(cursor + window, hi);
      const rows = st.all(...params, cursor, end, SCAN_ROWS) as StoredRow[];
      for (let i = 0; i < rows.length; i++) {
        cursor = rows[i]!.id;
        // each is parsed and checked after it is yielded: a check may take milliseconds (CEL)
        if (rowByRow && (i & 15) === 15 && due()) yield null;
        yield rows[i]!;
      }
      if (rows.length < SCAN_ROWS) cursor = end;
      if (due()) yield null;
    }
  }

  /**
   * The matching records' lines as UTF-8, each followed by "\n", oldest first, packed into chunks of
   * about `chunkBytes` (a longer line gets a buffer of its own): what export writes. Made from the
   * stored bodies directly (FragmentRegistry.expandInto), so a million-flow export builds neither a
   * million expanded strings on the JS heap nor a buffer per line. Records stored after it starts are
   * not in it. An empty chunk now and then carries no lines: it marks a long stretch of rows that did
   * not match (see scanJson).
   */
  *iterateNdjsonChunks(query: FlowQuery, opts: ScanOptions & { extensions?: boolean; chunkBytes?: number } = {}): Generator<Buffer> {
    const keep = opts.extensions ?? true;
    const chunkBytes = opts.chunkBytes ?? 64 * 1024;
    let out = Buffer.allocUnsafeSlow(chunkBytes);
    let len = 0;
    // the chunk so far, handed on; the next one starts empty (the consumer keeps the one it got)
    const take = (): Buffer => {
      const full = out.subarray(0, len);
      out = Buffer.allocUnsafeSlow(chunkBytes);
      len = 0;
      return full;
    };
    const { where, params, residual } = queryToSql(query);
    if (residual) {
      for (const r of this.scanJson(query, opts)) {
        if (r === null) {
          yield EMPTY;
          continue;
        }
        const line = Buffer.from(`${keep ? r.json : withoutExtensions(r.json)}\n`);
        if (len + line.length > out.length && len > 0) yield take();
        if (line.length > out.length) yield line;
        else len += line.copy(out, len);
      }
    } else {
      // scanRows' windows and heartbeats, with the bodies expanded straight into the chunk
      for (const row of this.scanRows({ where, params }, opts, false)) {
        if (row === null) {
          yield EMPTY;
          continue;
        }
        const body = keep ? row.body : withoutExtensions(row.body);
        let n = this.fragments.expandInto(out, len, "{", body, "\n");
        if (n < 0 && len > 0) {
          yield take();
          n = this.fragments.expandInto(out, 0, "{", body, "\n");
        }
        // larger than a whole chunk: a buffer of its own
        if (n < 0) yield Buffer.concat([this.fragments.expandBytes("{", body), NEWLINE]);
        else len += n;
      }
    }
    if (len > 0) yield out.subarray(0, len);
  }

  /** which of `uuids` are already stored */
  existingUuids(uuids: readonly string[]): Set<string> {
    const found = new Set<string>();
    for (let i = 0; i < uuids.length; i += 500) {
      const part = uuids.slice(i, i + 500);
      const rows = this.prepare(`SELECT uuid FROM flows WHERE uuid IN (${part.map(() => "?").join(",")})`).all(...part) as { uuid: string }[];
      for (const r of rows) found.add(r.uuid);
    }
    return found;
  }

  byUuid(uuid: string): StoredFlow | undefined {
    const row = this.prepare("SELECT id, body FROM flows WHERE uuid = ?").get(uuid) as StoredRow | undefined;
    return row ? toStored({ id: row.id, json: this.fragments.expand(row.body) }) : undefined;
  }

  /**
   * Flows with time_ms in [sinceMs, untilMs] counted per (policies column, verdict), synchronously on
   * this reader's connection. It reads every row of the window: the API runs the same query on the
   * aggregate thread instead (FlowStore.policyVerdictGroups).
   */
  policyVerdictGroups(sinceMs: number, untilMs: number): PolicyVerdictGroup[] {
    return this.prepare(POLICY_VERDICT_GROUPS_SQL).all(sinceMs, untilMs) as PolicyVerdictGroup[];
  }

  lastId(): number {
    const row = this.prepare("SELECT MAX(id) AS id FROM flows").get() as { id: number | null };
    return row.id ?? 0;
  }

  count(): number {
    return (this.prepare("SELECT COUNT(*) AS n FROM flows").get() as { n: number }).n;
  }

  /** the earliest and latest capture times stored: imported flows can be older than the first row (time index) */
  timeBounds(): { oldest?: number; newest?: number } {
    const row = this.prepare("SELECT (SELECT MIN(time_ms) FROM flows) AS oldest, (SELECT MAX(time_ms) FROM flows) AS newest").get() as {
      oldest: number | null;
      newest: number | null;
    };
    return { oldest: row.oldest ?? undefined, newest: row.newest ?? undefined };
  }
}
