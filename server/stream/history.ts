// The stream's reads of stored flows for clients that are behind the live edge (subscribed with a
// cursor, or resumed). The client's filter is translated to SQL as the REST API translates it
// (server/store/filter-sql.ts), so rows that cannot match are skipped inside SQLite rather than read,
// expanded and parsed on the main thread; only what SQL cannot decide (HTTP headers,
// TCP flags, IP version, services) is checked row by row in JS.
//
// Every read is bounded: it asks for at most `limit` rows with an id in (after, upto], and the caller
// keeps `upto - after` (the id window) small enough that one statement scans only so many rows even
// when nothing matches and no index helps (a LIKE over `policies` costs ~1 µs a row).
import type Database from "better-sqlite3";
import type { FlowQuery } from "../../lib/filter/types";
import { wireHead, type FlowLine } from "../bus";
import { queryToSql } from "../store/filter-sql";
import type { FlowStore } from "../store/flow-store";

export interface HistoryFilter {
  /** a boolean SQL expression selecting a superset of the matching rows (exactly them when `exact`) */
  where: string;
  params: unknown[];
  /** SQL decides alone: rows it returns match and need not be parsed */
  exact: boolean;
  /** the filter selects every flow */
  everything: boolean;
}

/** Translates a subscription's query; `now` must be the one its live predicate was compiled with. */
export function historyFilter(query: FlowQuery, now: number): HistoryFilter {
  const t = queryToSql(query, { now });
  const exact = !t.residual;
  return { where: t.where, params: t.params, exact, everything: exact && t.where === "1" };
}

export interface HistoryRow {
  id: number;
  /** the store's encoding of the record (see server/store/fragments.ts) */
  body: string;
}

/** a stored row as the stream sends it, its bytes made straight from the stored body */
export class RowLine implements FlowLine {
  private text: string | undefined;

  constructor(
    readonly id: number,
    private readonly bytes: Buffer,
  ) {}

  get json(): string {
    return (this.text ??= "{" + this.bytes.toString("utf8", wireHead(this.id).length));
  }

  wire(): Buffer {
    return this.bytes;
  }
}

export class HistoryReader {
  private readonly statements = new Map<string, Database.Statement>();
  private minIdStatement: Database.Statement | undefined;

  constructor(private readonly store: FlowStore) {}

  private prepare(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.store.db.sqlite.prepare(sql);
      // keyed by text, and filters vary in shape: bound the cache
      if (this.statements.size >= 200) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Rows that may match `filter` with id in (after, upto], oldest first, at most `limit`. */
  rows(filter: HistoryFilter, after: number, upto: number, limit: number): HistoryRow[] {
    const st = this.prepare(`SELECT id, body FROM flows WHERE (${filter.where}) AND id > ? AND id <= ? ORDER BY id ASC LIMIT ?`);
    return st.all(...filter.params, after, upto, limit) as HistoryRow[];
  }

  /** the oldest stored id (retention deletes from the oldest), or undefined when the table is empty */
  firstId(): number | undefined {
    this.minIdStatement ??= this.store.db.sqlite.prepare("SELECT MIN(id) AS id FROM flows");
    const row = this.minIdStatement.get() as { id: number | null };
    return row.id ?? undefined;
  }

  /** the row's line as the stream sends it */
  line(row: HistoryRow): FlowLine {
    return new RowLine(row.id, this.store.fragments.expandBytes(wireHead(row.id), row.body));
  }

  /** the row's JSON line (`hubble observe -o json`), for rows a JS predicate must still check */
  json(row: HistoryRow): string {
    return this.store.fragments.expand(row.body);
  }
}
