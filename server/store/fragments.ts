// Most of a flow record's bytes repeat from record to record: the two endpoints (identity, a dozen
// labels, pod, workload) and the lists of deciding policies with their labels. Each distinct value is
// stored once in the `fragments` table, and a stored record (the `body` column) carries a reference
// in its place: rows shrink to about a third, which is what lets SQLite keep up with the datapath.
// A reference is NUL, the fragment id in base 36, NUL: JSON text never holds a raw NUL (our encoder
// escapes every control character), so references cannot be confused with record content.
import type Database from "better-sqlite3";
import type { Endpoint } from "../../lib/flow/types";
import { toHubbleJsonWithFragments, type FragmentHook } from "../../lib/flow/json";
import type { FlowEnvelope } from "../../lib/flow/types";

export type FragmentKind = "endpoint" | "policies" | "extension";

/** a fragment as the writer thread inserts it: [id, kind, json, labels] */
export type FragmentRow = [number, FragmentKind, string, string | null];

/** OR IGNORE: a batch retried after a failure may carry fragments an earlier attempt committed. */
export const INSERT_FRAGMENT_SQL = "INSERT OR IGNORE INTO fragments (id, kind, json, labels) VALUES (?, ?, ?, ?)";

const KIND_OF_FIELD: Record<string, FragmentKind> = {
  source: "endpoint",
  destination: "endpoint",
  egress_allowed_by: "policies",
  ingress_allowed_by: "policies",
  egress_denied_by: "policies",
  ingress_denied_by: "policies",
  extensions: "extension",
};

const MARK = "\u0000";

/**
 * Fragments other than endpoints stop being added past this many (they are then kept inline): an
 * import of records whose policy lists never repeat must not grow the dictionary without end.
 * Endpoints are always stored as fragments, because label filters are answered from them.
 */
const MAX_SHARED_FRAGMENTS = 10_000;
/** larger values stay inline: every dictionary entry is also kept in memory */
const MAX_FRAGMENT_LENGTH = 16 * 1024;
const MAX_SHARED_FRAGMENT_LENGTH = 4 * 1024;

/** "\n"-joined with a leading and trailing "\n", so one whole label matches `LIKE '%\nk=v\n%'`. */
export function joinList(items: readonly string[] | undefined, max: number): string | null {
  if (!items || items.length === 0) return null;
  let out = "\n";
  for (const it of items) {
    const piece = it.replace(/\n/g, " ") + "\n";
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out;
}

export const MAX_LABELS_TEXT = 4096;

export class FragmentRegistry {
  private readonly idByJson = new Map<string, number>();
  /** frozen values the datapath shares: one lookup by identity instead of hashing their JSON */
  private readonly idByValue = new WeakMap<object, number>();
  private readonly jsonById = new Map<number, string>();
  /** reference text by id, made once: a record refers to several fragments */
  private readonly refs: string[] = [];
  /** UTF-8 bytes by id, for the fragments the stream has sent */
  private readonly bytesById: Buffer[] = [];
  /** expandBytes()'s list of the references in one body: positions of their marks, and their bytes */
  private refAt = new Int32Array(16);
  private refEnd = new Int32Array(16);
  private readonly refBytes: (Buffer | undefined)[] = [];
  private nextId: number;
  private shared = 0;
  /** fragments created since the last takeNew(); they must reach the database with the rows using them */
  private fresh: FragmentRow[] = [];
  /** the endpoint fragment ids of the record being encoded */
  private srcEp: number | null = null;
  private dstEp: number | null = null;

  constructor(private readonly db: Database.Database) {
    const rows = db.prepare("SELECT id, kind, json FROM fragments").all() as { id: number; kind: string; json: string }[];
    let max = 0;
    for (const r of rows) {
      this.idByJson.set(r.json, r.id);
      this.jsonById.set(r.id, r.json);
      if (r.kind !== "endpoint") this.shared++;
      if (r.id > max) max = r.id;
    }
    this.nextId = max + 1;
  }

  private readonly hook: FragmentHook = (field, value, json) => {
    const kind = KIND_OF_FIELD[field]!;
    const frozen = Object.isFrozen(value);
    let id = frozen ? this.idByValue.get(value as object) : undefined;
    if (id === undefined) {
      id = this.idByJson.get(json);
      if (id === undefined) {
        if (kind === "endpoint" ? json.length > MAX_FRAGMENT_LENGTH : json.length > MAX_SHARED_FRAGMENT_LENGTH || this.shared >= MAX_SHARED_FRAGMENTS) return json;
        id = this.nextId++;
        if (kind !== "endpoint") this.shared++;
        this.idByJson.set(json, id);
        this.jsonById.set(id, json);
        const labels = kind === "endpoint" ? joinList((value as Endpoint).labels, MAX_LABELS_TEXT) : null;
        this.fresh.push([id, kind, json, labels]);
      }
      if (frozen) this.idByValue.set(value as object, id);
    }
    if (field === "source") this.srcEp = id;
    else if (field === "destination") this.dstEp = id;
    return (this.refs[id] ??= MARK + id.toString(36) + MARK);
  };

  /** The record's stored body, and the fragment ids of its endpoints (null when it has none). */
  encode(env: FlowEnvelope): { body: string; srcEp: number | null; dstEp: number | null } {
    this.srcEp = null;
    this.dstEp = null;
    const body = toHubbleJsonWithFragments(env, this.hook);
    return { body, srcEp: this.srcEp, dstEp: this.dstEp };
  }

  /** Fragments created since the last call (to be inserted before, and with, the rows that use them). */
  takeNew(): FragmentRow[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** the text of fragment `id`, from memory or (for one another process added) from the database */
  private text(id: number): string {
    let s = this.jsonById.get(id);
    if (s === undefined) {
      const row = this.db.prepare("SELECT json FROM fragments WHERE id = ?").get(id) as { json: string } | undefined;
      // A dangling reference would mean a damaged database; print a valid JSON null rather than garbage.
      s = row?.json ?? "null";
      if (row) this.jsonById.set(id, s);
    }
    return s;
  }

  /** A stored body back to the record's `hubble observe -o json` line. */
  expand(body: string): string {
    if (body.indexOf(MARK) < 0) return body;
    const parts = body.split(MARK);
    // parts alternate: text, id, text, id, …, text
    for (let i = 1; i < parts.length; i += 2) parts[i] = this.text(parseInt(parts[i]!, 36));
    return parts.join("");
  }

  /** fragment `id` as UTF-8 bytes, made once: the stream copies them into every record that uses it */
  private bytes(id: number): Buffer {
    let b = this.bytesById[id];
    if (b === undefined) this.bytesById[id] = b = Buffer.from(this.text(id));
    return b;
  }

  /**
   * A stored body as the UTF-8 bytes of its JSON line, with the line's opening brace replaced by
   * `head` (ASCII). The same bytes as Buffer.from(head + expand(body).slice(1)) without building the
   * expanded string: for the stream, that string was the largest allocation per flow.
   */
  expandBytes(head: string, body: string): Buffer {
    // first pass: where the references are, and the exact size (references are ASCII)
    let refs = 0;
    let size = head.length + Buffer.byteLength(body) - 1;
    for (let at = body.indexOf(MARK, 1); at >= 0; at = body.indexOf(MARK, at + 1)) {
      const close = body.indexOf(MARK, at + 1);
      const frag = this.bytes(parseInt(body.slice(at + 1, close), 36));
      if (refs === this.refAt.length) this.growRefs();
      this.refAt[refs] = at;
      this.refEnd[refs] = close;
      this.refBytes[refs++] = frag;
      size += frag.length - (close - at + 1);
      at = close;
    }
    const out = Buffer.allocUnsafe(size);
    let len = out.write(head, 0, "latin1");
    let from = 1;
    for (let r = 0; r < refs; r++) {
      const at = this.refAt[r]!;
      if (at > from) len += out.write(body.slice(from, at), len);
      const frag = this.refBytes[r]!;
      out.set(frag, len);
      len += frag.length;
      from = this.refEnd[r]! + 1;
    }
    if (from < body.length) out.write(from === 1 ? body.slice(1) : body.slice(from), len);
    this.refBytes.fill(undefined, 0, refs);
    return out;
  }

  private growRefs(): void {
    const n = this.refAt.length * 2;
    const at = new Int32Array(n);
    at.set(this.refAt);
    const end = new Int32Array(n);
    end.set(this.refEnd);
    this.refAt = at;
    this.refEnd = end;
  }

  size(): number {
    return this.jsonById.size;
  }
}
