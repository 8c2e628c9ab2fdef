// Most of a flow record's bytes repeat from record to record: the two endpoints (identity, a dozen
// labels, pod, workload) and the lists of deciding policies with their labels. Each distinct value is
// stored once in the `fragments` table, and a stored record (the `body` column) carries a reference
// in its place: rows shrink to about a third, which is what lets SQLite keep up with the datapath.
// A reference is NUL, the fragment id in base 36, NUL: JSON text never holds a raw NUL (our encoder
// escapes every control character), so references cannot be confused with record content.
//
// Endpoint fragments are collected: endpoints come and go with pods, and a history bounded by
// retention must not keep every endpoint it ever saw, in the database or in memory. The registry
// notes the "epoch" each endpoint was last used in; collect() drops from memory the endpoints not used
// in the current epoch (one seen again later gets a NEW id and fragment row, so a dropped id is never
// handed out again) and the writer thread deletes dropped ids once no stored row refers to them
// (writer-worker.ts). Ids dropped from memory but still referenced are read back from the database.
import type Database from "better-sqlite3";
import type { Endpoint } from "../../lib/flow/types";
import { toHubbleJsonWithFragments, type FragmentHook } from "../../lib/flow/json";
import type { FlowEnvelope } from "../../lib/flow/types";
import { joinList, MAX_LABELS_TEXT } from "../../lib/flow/map-node";

export type FragmentKind = "endpoint" | "policies" | "extension";

/** a fragment as the writer thread inserts it: [id, kind, json, labels] */
export type FragmentRow = [number, FragmentKind, string, string | null];

/** OR IGNORE: a batch retried after a failure may carry fragments an earlier attempt committed (same id). */
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
/** larger values stay inline (endpoints are cut to fit first, see row.ts): every dictionary entry is also kept in memory */
export const MAX_FRAGMENT_LENGTH = 16 * 1024;
const MAX_SHARED_FRAGMENT_LENGTH = 4 * 1024;
/** collect() is due once this many endpoints were added since the last one (or half as many as it found in use, if more) */
const MIN_COLLECT = 2048;
/** at start, endpoints of the newest rows are loaded (up to this many), so a restart reuses their ids */
const STARTUP_ENDPOINTS = 2048;
const STARTUP_ROWS = 20_000;
/** ids no longer in memory whose text was read back from the database, kept for a while */
const COLD_MAX = 4096;

interface Entry {
  readonly id: number;
  readonly endpoint: boolean;
  json: string;
  /** the reference text stored bodies carry */
  readonly ref: string;
  /** UTF-8 bytes, for the fragments the stream has sent */
  bytes: Buffer | undefined;
  /** the collection epoch the fragment was last used in */
  epoch: number;
  /** dropped from memory by collect(): never handed out again */
  retired: boolean;
}

// the lists in columns (labels, names, policies) are written as the service map and filters read them
export { joinList, MAX_LABELS_TEXT };

export class FragmentRegistry {
  private readonly byJson = new Map<string, Entry>();
  /** frozen values the datapath shares: one lookup by identity instead of hashing their JSON */
  private readonly byValue = new WeakMap<object, Entry>();
  private readonly byId = new Map<number, Entry>();
  /** text and bytes of ids not in memory (collected endpoints still referenced), read back from the database */
  private readonly coldText = new Map<number, string>();
  private readonly coldBytes = new Map<number, Buffer>();
  private readonly selectJson: Database.Statement;
  /** expandBytes()'s list of the references in one body: positions of their marks, and their bytes */
  private refAt = new Int32Array(16);
  private refEnd = new Int32Array(16);
  private readonly refBytes: (Buffer | undefined)[] = [];
  private refCount = 0;
  private nextId: number;
  private shared = 0;
  /** endpoint entries in memory, how many were added since the last collect(), and how many it found in use */
  private endpoints = 0;
  private endpointsAdded = 0;
  private endpointsKept = 0;
  private epoch = 1;
  /** fragments created since the last takeNew(); they must reach the database with the rows using them */
  private fresh: FragmentRow[] = [];
  /** the endpoint fragment ids of the record being encoded */
  private srcEp: number | null = null;
  private dstEp: number | null = null;

  /**
   * Loads the policy-list and extension fragments (bounded by MAX_SHARED_FRAGMENTS) and the endpoints
   * the newest rows use; every other stored endpoint stays on disk, read on demand, and is collected
   * by the writer thread (given liveEndpointIds()) once no row refers to it.
   */
  constructor(private readonly db: Database.Database, private readonly minCollect = MIN_COLLECT) {
    this.selectJson = db.prepare("SELECT json FROM fragments WHERE id = ?");
    const max = (db.prepare("SELECT MAX(id) AS id FROM fragments").get() as { id: number | null }).id ?? 0;
    this.nextId = max + 1;
    for (const r of db.prepare("SELECT id, json FROM fragments WHERE kind <> 'endpoint'").iterate() as IterableIterator<{ id: number; json: string }>) {
      this.adopt(r.id, false, r.json);
      this.shared++;
    }
    const recent = new Set<number>();
    const eps = db.prepare("SELECT src_ep, dst_ep FROM flows ORDER BY id DESC LIMIT ?").raw();
    for (const [s, d] of eps.iterate(STARTUP_ROWS) as IterableIterator<[number | null, number | null]>) {
      if (s !== null) recent.add(s);
      if (d !== null) recent.add(d);
      if (recent.size >= STARTUP_ENDPOINTS) break;
    }
    const ids = [...recent];
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const rows = db.prepare(`SELECT id, json FROM fragments WHERE kind = 'endpoint' AND id IN (${part.map(() => "?").join(",")})`).all(...part) as { id: number; json: string }[];
      for (const r of rows) this.adopt(r.id, true, r.json);
    }
    this.endpointsKept = this.endpoints;
  }

  private adopt(id: number, endpoint: boolean, json: string): Entry {
    const e: Entry = { id, endpoint, json, ref: MARK + id.toString(36) + MARK, bytes: undefined, epoch: this.epoch, retired: false };
    this.byId.set(id, e);
    // the same JSON may be stored under two ids (an endpoint collected, then seen again): either will do
    if (!this.byJson.has(json)) this.byJson.set(json, e);
    if (endpoint) this.endpoints++;
    return e;
  }

  private readonly hook: FragmentHook = (field, value, json) => {
    const frozen = Object.isFrozen(value);
    let e = frozen ? this.byValue.get(value as object) : undefined;
    if (e === undefined || e.retired) {
      e = this.byJson.get(json);
      if (e === undefined) {
        const kind = KIND_OF_FIELD[field]!;
        if (kind === "endpoint" ? json.length > MAX_FRAGMENT_LENGTH : json.length > MAX_SHARED_FRAGMENT_LENGTH || this.shared >= MAX_SHARED_FRAGMENTS) return json;
        const id = this.nextId++;
        if (kind !== "endpoint") this.shared++;
        else this.endpointsAdded++;
        e = this.adopt(id, kind === "endpoint", json);
        const labels = kind === "endpoint" ? joinList((value as Endpoint).labels, MAX_LABELS_TEXT) : null;
        this.fresh.push([id, kind, json, labels]);
      }
      if (frozen) this.byValue.set(value as object, e);
    }
    // a plain store, and only when the epoch changed: this runs for every shared part of every record
    if (e.epoch !== this.epoch) e.epoch = this.epoch;
    if (field === "source") this.srcEp = e.id;
    else if (field === "destination") this.dstEp = e.id;
    return e.ref;
  };

  /**
   * Whether enough endpoints were added since the last collect() that one is worth running: at least
   * minCollect, and half as many as the last epoch used (a large set of live endpoints is not dropped
   * and re-added over and over). Memory then holds about 1.5 epochs' endpoints; half rather than all,
   * because a collect() runs a whole batch late, and "as many as last time" grew by a batch each time.
   */
  collectDue(): boolean {
    return this.endpointsAdded >= Math.max(this.minCollect, this.endpointsKept >>> 1);
  }

  /**
   * Drops from memory the endpoint fragments not used since the previous call (and not in `keep`: the
   * ids of rows and fragments not yet committed), and starts a new epoch. Returns the dropped ids:
   * they are never handed out again (an endpoint seen again gets a new id), so once the rows already
   * stored that use them are gone, nothing can refer to them and the database may delete them.
   */
  collect(keep: ReadonlySet<number> = new Set()): number[] {
    const dropped: number[] = [];
    let used = 0;
    for (const e of this.byId.values()) {
      if (!e.endpoint) continue;
      if (e.epoch === this.epoch) used++;
      if (e.epoch === this.epoch || keep.has(e.id)) continue;
      e.retired = true;
      this.byId.delete(e.id);
      if (this.byJson.get(e.json) === e) this.byJson.delete(e.json);
      // a frozen value of the datapath may still point at the entry (byValue): let the text go
      e.json = "";
      e.bytes = undefined;
      dropped.push(e.id);
    }
    this.endpoints -= dropped.length;
    // the next one is due relative to what this epoch used (ids kept only because rows not yet
    // committed use them do not count: under steady churn they would raise it every time)
    this.endpointsKept = used;
    this.endpointsAdded = 0;
    this.epoch++;
    return dropped;
  }

  /** the endpoint fragment ids in memory (the ones that may still be handed out) */
  liveEndpointIds(): number[] {
    const out: number[] = [];
    for (const e of this.byId.values()) if (e.endpoint) out.push(e.id);
    return out;
  }

  /** endpoint fragments in memory */
  endpointCount(): number {
    return this.endpoints;
  }

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

  /**
   * the text of fragment `id`: from memory, or (a collected endpoint that stored rows still use) from
   * the database, kept in a small cache. Readers on other connections (scan readers) use this too: a
   * fragment is deleted only well after the last row using it (writer-worker.ts), so a row they read
   * still finds its fragments here.
   */
  private text(id: number): string {
    const e = this.byId.get(id);
    if (e !== undefined) return e.json;
    let s = this.coldText.get(id);
    if (s === undefined) {
      const row = this.selectJson.get(id) as { json: string } | undefined;
      // A dangling reference would mean a damaged database; print a valid JSON null rather than garbage.
      s = row?.json ?? "null";
      if (row) {
        if (this.coldText.size >= COLD_MAX) this.coldText.clear();
        this.coldText.set(id, s);
      }
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
    const e = this.byId.get(id);
    if (e !== undefined) return (e.bytes ??= Buffer.from(e.json));
    let b = this.coldBytes.get(id);
    if (b === undefined) {
      b = Buffer.from(this.text(id));
      if (!this.coldText.has(id)) return b;
      if (this.coldBytes.size >= COLD_MAX) this.coldBytes.clear();
      this.coldBytes.set(id, b);
    }
    return b;
  }

  /**
   * A stored body as the UTF-8 bytes of its JSON line, with the line's opening brace replaced by
   * `head` (ASCII). The same bytes as Buffer.from(head + expand(body).slice(1)) without building the
   * expanded string: for the stream, that string was the largest allocation per flow.
   */
  expandBytes(head: string, body: string): Buffer {
    const size = this.measure(head, body);
    const out = Buffer.allocUnsafe(size);
    this.writeMeasured(out, 0, head, body);
    return out;
  }

  /**
   * Writes what expandBytes(head, body) returns into `out` at `at`, followed by `tail` (ASCII), and
   * returns the bytes written, or -1 (nothing written) when they do not fit: an export fills its
   * chunks this way, with no buffer per line.
   */
  expandInto(out: Buffer, at: number, head: string, body: string, tail: string): number {
    const size = this.measure(head, body);
    if (at + size + tail.length > out.length) {
      this.refBytes.fill(undefined);
      return -1;
    }
    this.writeMeasured(out, at, head, body);
    if (tail) out.write(tail, at + size, "latin1");
    return size + tail.length;
  }

  /** First pass: where the references in `body` are, with their bytes, and the expanded size (references are ASCII). */
  private measure(head: string, body: string): number {
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
    this.refCount = refs;
    return size;
  }

  /** Second pass, after measure(head, body): the expanded bytes into `out` at `start`. */
  private writeMeasured(out: Buffer, start: number, head: string, body: string): void {
    const refs = this.refCount;
    let len = start + out.write(head, start, "latin1");
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

  /** fragments in memory */
  size(): number {
    return this.byId.size;
  }
}
