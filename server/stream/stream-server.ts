// Live flows over WebSocket (protocol: lib/stream-protocol.ts). Each client has a filter, a cursor
// (the id of the last flow it was sent) and a bounded queue. Flows are delivered in id order with no
// gaps or duplicates: a client that is behind (resuming, or just subscribed with a cursor) is served
// from the in-memory ring or from SQLite until it reaches the live edge, and only then takes live
// flows. A client that stops reading loses the oldest queued flows (reported as lost_events) and is
// disconnected if it stays stuck; nothing it does holds up ingest or the other clients.
//
// Catching up is work on the main thread that every request, the simulator and live delivery share,
// so it gets a budget per tick for all clients together (time, and rows brought into JS), handed out
// round-robin, and the filter is pushed into SQLite (history.ts) so that rows that cannot match cost
// no parsing. A client behind the edge therefore catches up more slowly when many do, but never
// stalls the server. The number of connections is capped too.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket, type RawData } from "ws";
import type { Flow } from "../../lib/flow/types";
import { CLIENT_MESSAGE_FIELDS, MAX_CLIENT_MESSAGE_BYTES, STREAM_FILTER_REFUSED, type ClientMessage, type ServerMessage } from "../../lib/stream-protocol";

/** frames ws reads at all: far above any valid message, small enough to hold in memory */
const HARD_FRAME_LIMIT = 1024 * 1024;
import { compileQuery } from "../../lib/filter/match";
import { FilterError, type FlowQuery } from "../../lib/filter/types";
import { badlyEncodedParam, parseSearchParams } from "../../lib/filter/params";
import { TextLine, type FlowBus, type FlowLine, type SequencedFlow } from "../bus";
import type { FlowStore } from "../store/flow-store";
import { RingBuffer } from "./ring-buffer";
import { FlowQueue } from "./flow-queue";
import { HistoryReader, historyFilter, type HistoryFilter } from "./history";

export interface StreamOptions {
  ringCapacity?: number;
  batchIntervalMs?: number;
  batchMax?: number;
  /** flows queued per client before the oldest are dropped */
  maxQueue?: number;
  /** socket send buffer above which we stop writing to a client */
  highWaterBytes?: number;
  /** a client stuck above the high-water mark this long is disconnected */
  stuckTimeoutMs?: number;
  heartbeatMs?: number;
  maxBadMessages?: number;
  /**
   * WebSocket connections served at once; more are closed with 1013 (try again later). Default 64
   * (the server passes FLOWSCOPE_STREAM_MAX_CLIENTS).
   */
  maxClients?: number;
  /** main-thread time per tick that catching up may take, all clients together (ms) */
  catchUpMsPerTick?: number;
  /** stored flows read into JS per tick for catching up, all clients together */
  catchUpRowsPerTick?: number;
  /**
   * the share of the main thread one client's filter may take, measured over filterWindowMs: a filter
   * checked per flow (a CEL expression near its cost limit takes milliseconds a flow) that takes more is
   * closed with 4009, as a client that stops reading is with 4008. Default 0.1 over 5 s.
   */
  maxFilterShare?: number;
  filterWindowMs?: number;
  authorize?: (req: IncomingMessage) => boolean;
}

export const DEFAULT_MAX_CLIENTS = 64;


/** rows asked of SQLite (or the ring) at once while catching up */
const CATCH_UP_CHUNK = 256;
/** the id window one catch-up statement scans: adapted per client so a statement takes about TARGET ms */
const WINDOW_INITIAL = 2048;
const WINDOW_MIN = 128;
const WINDOW_MAX = 1 << 20;
const WINDOW_TARGET_MS = 1;

/** What catching up cost, for /metrics-like inspection and tests. */
export interface CatchUpStats {
  /** ticks in which some client was catching up */
  ticks: number;
  /** stored flows read into JS (from SQLite or the ring) */
  rows: number;
  /** ids SQLite passed over while catching up (matching or not) */
  scannedIds: number;
  statements: number;
  /** the most rows read into JS in one tick */
  maxRowsInTick: number;
  /** the longest one tick's catching up took (ms) */
  maxMsInTick: number;
}

/** a flow waiting to be sent: a line kept from the bus (live or from the ring) or a row read back from SQLite */
type QueuedFlow = FlowLine;

function lineOf(f: SequencedFlow): FlowLine {
  return f.line ? f.line() : new TextLine(f.id, f.json);
}

const BATCH_HEAD = Buffer.from('{"type":"flows","flows":[');
const COMMA = Buffer.from(",");

/** a flows message: the shared per-flow bytes copied into one frame, no per-client re-encoding */
function flowsMessage(flows: readonly QueuedFlow[]): Buffer {
  const parts: Buffer[] = [BATCH_HEAD];
  for (let i = 0; i < flows.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(flows[i]!.wire());
  }
  parts.push(Buffer.from(`],"cursor":"${flows[flows.length - 1]!.id}"}`));
  return Buffer.concat(parts);
}

/** what catching up may still spend in the current tick, all clients together */
interface TickBudget {
  /** performance.now() by which to stop */
  deadline: number;
  rows: number;
  /** whether the store was already flushed this tick */
  flushed: boolean;
}

interface Client {
  ws: WebSocket;
  subscribed: boolean;
  paused: boolean;
  filterText: string;
  match: (flow: Flow) => boolean;
  /** id of the last flow considered for this client (sent, filtered out, or lost) */
  cursor: number;
  /** true while the client is behind the live edge and must be fed from history */
  catchingUp: boolean;
  /** the filter as SQL, for reading history */
  history: HistoryFilter;
  /** ids one catch-up statement covers (see WINDOW_*) */
  scanWindow: number;
  /** flows waiting to be sent, oldest first */
  queue: FlowQueue<QueuedFlow>;
  lost: { n: number; first?: number; last?: number };
  stuckSince?: number;
  badMessages: number;
  alive: boolean;
  sentFlows: number;
  /** time spent in `match` since `filterSince` (ms, performance.now() clock) */
  filterMs: number;
  filterSince: number;
  /**
   * the filter already took a whole window's allowance: it is not run again (flows do not match) and
   * the client is closed at the next flush, instead of holding the main thread until the window ends
   */
  filterSpent: boolean;
}

/** how long a filter closed as too expensive is refused when a client subscribes with it again */
const COSTLY_FILTER_COOLDOWN_MS = 60_000;
/** filters remembered as too expensive, at most (the oldest are forgotten first) */
const MAX_COSTLY_FILTERS = 256;

export class StreamServer {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  /** filter text → until when a subscription with it is refused (see COSTLY_FILTER_COOLDOWN_MS) */
  private readonly costlyFilters = new Map<string, number>();
  private readonly ring: RingBuffer;
  private readonly opts: Required<Omit<StreamOptions, "authorize">> & Pick<StreamOptions, "authorize">;
  private readonly history: HistoryReader;
  private flushTimer: NodeJS.Timeout;
  private heartbeatTimer: NodeJS.Timeout;
  /** where the next tick's catch-up round starts (round-robin over catching-up clients) */
  private catchUpTurn = 0;
  lostEventsTotal = 0;
  /** clients closed because their filter took more than maxFilterShare of the main thread (4009) */
  disconnectedExpensive = 0;
  /** clients dropped for not reading: a send buffer full for stuckTimeoutMs (4008), or no pong between two pings */
  disconnectedSlow = 0;
  /** connections closed because maxClients were already connected */
  refusedConnections = 0;
  readonly catchUpStats: CatchUpStats = { ticks: 0, rows: 0, scannedIds: 0, statements: 0, maxRowsInTick: 0, maxMsInTick: 0 };

  constructor(private readonly bus: FlowBus, private readonly store: FlowStore, opts: StreamOptions = {}) {
    this.opts = {
      ringCapacity: opts.ringCapacity ?? 16_384,
      batchIntervalMs: opts.batchIntervalMs ?? 50,
      batchMax: opts.batchMax ?? 500,
      maxQueue: opts.maxQueue ?? 10_000,
      highWaterBytes: opts.highWaterBytes ?? 4 * 1024 * 1024,
      stuckTimeoutMs: opts.stuckTimeoutMs ?? 30_000,
      heartbeatMs: opts.heartbeatMs ?? 15_000,
      maxBadMessages: opts.maxBadMessages ?? 10,
      maxClients: opts.maxClients ?? DEFAULT_MAX_CLIENTS,
      catchUpMsPerTick: opts.catchUpMsPerTick ?? 8,
      catchUpRowsPerTick: opts.catchUpRowsPerTick ?? 2000,
      maxFilterShare: opts.maxFilterShare ?? 0.1,
      filterWindowMs: opts.filterWindowMs ?? 5000,
      authorize: opts.authorize,
    };
    this.ring = new RingBuffer(this.opts.ringCapacity);
    this.history = new HistoryReader(store);
    // A frame over the limit ws enforces itself is closed 1009 (with the reason onConnection adds); below
    // it, a message over the protocol's limit is closed here with one that says why.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_LIMIT });
    this.wss.on("connection", (ws) => this.onConnection(ws));
    bus.subscribe((batch) => this.onFlows(batch));
    this.flushTimer = setInterval(() => this.flushAll(), this.opts.batchIntervalMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.opts.authorize && !this.opts.authorize(req)) {
      socket.write("HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nmissing or wrong token\n");
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  queueDepths(): number[] {
    return [...this.clients].map((c) => c.queue.length);
  }

  /** clients currently fed from history */
  catchingUpCount(): number {
    let n = 0;
    for (const c of this.clients) if (c.subscribed && c.catchingUp) n++;
    return n;
  }

  /** how far each client fed from history has come, with its filter */
  catchUpCursors(): { filter: string; cursor: number }[] {
    const out: { filter: string; cursor: number }[] = [];
    for (const c of this.clients) if (c.subscribed && c.catchingUp) out.push({ filter: c.filterText, cursor: c.cursor });
    return out;
  }

  private onConnection(ws: WebSocket): void {
    if (this.clients.size >= this.opts.maxClients) {
      // Every connection costs memory and a share of each tick: refuse rather than slow everyone down.
      this.refusedConnections++;
      ws.close(1013, `try again later: ${this.clients.size} clients connected (limit ${this.opts.maxClients})`);
      setTimeout(() => ws.terminate(), 2000).unref();
      return;
    }
    const client: Client = {
      ws,
      subscribed: false,
      paused: false,
      filterText: "",
      match: () => true,
      cursor: this.bus.lastId(),
      catchingUp: false,
      history: { where: "1", params: [], exact: true, everything: true },
      scanWindow: WINDOW_INITIAL,
      queue: new FlowQueue<QueuedFlow>(),
      lost: { n: 0 },
      badMessages: 0,
      alive: true,
      sentFlows: 0,
      filterMs: 0,
      filterSince: performance.now(),
      filterSpent: false,
    };
    this.clients.add(client);
    // ws closes a frame over maxPayload with 1009 and an empty reason (its receiver calls close(1009)
    // before it emits "error"): give that close a reason that says what happened.
    const close = ws.close.bind(ws);
    ws.close = (code?: number, reason?: string | Buffer) =>
      close(code, code === 1009 && (reason === undefined || reason.length === 0) ? `message frame larger than the ${HARD_FRAME_LIMIT}-byte limit` : reason);
    ws.on("message", (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on("pong", () => (client.alive = true));
    ws.on("close", () => this.clients.delete(client));
    ws.on("error", (err) => {
      // maxPayload violations land here: say why before the socket goes.
      this.send(client, { type: "error", error: `connection error: ${err.message}` });
      this.clients.delete(client);
    });
  }

  private send(client: Client, msg: ServerMessage): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(msg));
  }

  private reject(client: Client, error: string, field?: string): void {
    client.badMessages++;
    this.send(client, { type: "error", error, ...(field ? { field } : {}) });
    if (client.badMessages >= this.opts.maxBadMessages) {
      client.ws.close(1008, "too many invalid messages");
    }
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
    if (size > MAX_CLIENT_MESSAGE_BYTES) {
      client.ws.close(1009, `message of ${size} bytes is larger than the ${MAX_CLIENT_MESSAGE_BYTES}-byte limit`);
      this.clients.delete(client);
      return;
    }
    if (isBinary) return this.reject(client, "binary messages are not supported; send JSON text");
    let msg: ClientMessage;
    try {
      msg = JSON.parse(data.toString()) as ClientMessage;
    } catch (err) {
      return this.reject(client, `message is not valid JSON: ${(err as Error).message}`);
    }
    if (!msg || typeof msg !== "object" || typeof (msg as { type?: unknown }).type !== "string") {
      return this.reject(client, 'message must be an object with a string "type"', "type");
    }
    // own properties only: a "type" of "constructor" or "__proto__" is an unknown type, not Object's
    const known = Object.hasOwn(CLIENT_MESSAGE_FIELDS, msg.type) ? (CLIENT_MESSAGE_FIELDS as Record<string, readonly string[]>)[msg.type] : undefined;
    if (known) {
      // a misspelt field ("filtr") would otherwise be a subscription to everything
      const unknown = Object.keys(msg).find((k) => !known.includes(k));
      if (unknown !== undefined) {
        return this.reject(client, `unknown field ${JSON.stringify(unknown.slice(0, 40))} in a ${msg.type} message (it takes ${known.join(", ")})`, unknown.slice(0, 40));
      }
    }
    switch (msg.type) {
      case "subscribe":
        return this.subscribe(client, msg);
      case "pause":
        client.paused = true;
        return this.sendStatus(client);
      case "resume":
        client.paused = false;
        // Everything that arrived while paused is after the cursor: serve it from history first, behind
        // what was already queued (queued flows are before the cursor, so dropping them would lose them).
        client.catchingUp = true;
        return this.sendStatus(client);
      case "ping":
        return this.send(client, { type: "pong", ...(typeof msg.id === "string" ? { id: msg.id.slice(0, 64) } : {}) });
      default:
        return this.reject(client, `unknown message type ${JSON.stringify(String((msg as { type: unknown }).type).slice(0, 40))}; expected subscribe, pause, resume or ping`, "type");
    }
  }

  private subscribe(client: Client, msg: { filter?: unknown; cursor?: unknown }): void {
    const filterText = msg.filter === undefined ? "" : msg.filter;
    if (typeof filterText !== "string") return this.reject(client, "filter must be a URL query string", "filter");
    // a client closed for its filter's cost that reconnects with it would take the same share again
    const costlyUntil = this.costlyFilters.get(filterText);
    if (costlyUntil !== undefined && costlyUntil > Date.now()) {
      return this.reject(client, `filter: this filter was closed as too expensive (4009) less than ${COSTLY_FILTER_COOLDOWN_MS / 1000} s ago; it is refused until ${new Date(costlyUntil).toISOString()}`, "filter");
    }
    let query: FlowQuery;
    let match: (f: Flow) => boolean;
    let history: HistoryFilter;
    try {
      const bad = badlyEncodedParam(filterText.replace(/^\?/, ""));
      if (bad !== undefined) return this.reject(client, `filter: parameter ${JSON.stringify(bad)} is not valid percent-encoded UTF-8`, bad);
      const params = new URLSearchParams(filterText);
      for (const [k, why] of Object.entries(STREAM_FILTER_REFUSED)) {
        if (params.has(k)) return this.reject(client, `filter: ${k} is not supported by the stream: ${why}`, k);
      }
      query = parseSearchParams(params);
      // one "now" for relative since/until, so live flows and history are filtered alike
      const now = Date.now();
      const compiled = compileQuery(query, { now });
      // every check is timed: see maxFilterShare
      const allowance = this.opts.maxFilterShare * this.opts.filterWindowMs;
      match = (f) => {
        if (client.filterSpent) return false;
        const t = performance.now();
        try {
          return compiled(f);
        } finally {
          client.filterMs += performance.now() - t;
          if (client.filterMs > allowance) client.filterSpent = true;
        }
      };
      history = historyFilter(query, now);
    } catch (err) {
      if (err instanceof FilterError) return this.reject(client, err.message, err.field);
      return this.reject(client, `invalid filter: ${(err as Error).message}`, "filter");
    }
    let cursor = this.bus.lastId();
    if (msg.cursor !== undefined && msg.cursor !== null && msg.cursor !== "") {
      // a flow id as the stream sends it (a string of digits) or a number; true or [5] are not ids
      const c = typeof msg.cursor === "number" || (typeof msg.cursor === "string" && /^\d+$/.test(msg.cursor)) ? Number(msg.cursor) : NaN;
      if (!Number.isSafeInteger(c) || c < 0) return this.reject(client, `cursor must be a flow id (a non-negative integer), got ${JSON.stringify(msg.cursor)}`, "cursor");
      cursor = Math.min(c, this.bus.lastId());
    }
    client.subscribed = true;
    client.paused = false;
    client.filterText = filterText;
    client.match = match;
    client.filterMs = 0;
    client.filterSince = performance.now();
    client.filterSpent = false;
    client.history = history;
    client.scanWindow = WINDOW_INITIAL;
    client.queue.clear();
    client.cursor = cursor;
    client.catchingUp = cursor < this.bus.lastId();
    this.sendStatus(client);
  }

  private sendStatus(client: Client): void {
    this.send(client, { type: "status", subscribed: client.subscribed, paused: client.paused, filter: client.filterText, history: this.store.historyId });
  }

  private onFlows(batch: readonly SequencedFlow[]): void {
    // what is kept past this call is each flow's line, not its record (see FlowLine)
    const lines = batch.map(lineOf);
    this.ring.push(lines);
    for (const c of this.clients) {
      if (!c.subscribed || c.paused || c.catchingUp) continue;
      for (let i = 0; i < batch.length; i++) {
        const f = batch[i]!;
        if (f.id <= c.cursor) continue;
        c.cursor = f.id;
        if (!c.match(f.envelope.flow)) continue;
        if (c.queue.length >= this.opts.maxQueue) {
          // Drop the oldest queued flow: the client learns how many and which range it lost.
          const dropped = c.queue.shift()!;
          const id = dropped.id;
          c.lost.n++;
          c.lost.first ??= id;
          c.lost.last = id;
          this.lostEventsTotal++;
        }
        c.queue.push(lines[i]!);
      }
    }
  }

  /** Closes (4009) a client whose filter took more than its share of the main thread over the last window. */
  private filterTooExpensive(c: Client): boolean {
    const span = performance.now() - c.filterSince;
    if (span < this.opts.filterWindowMs && !c.filterSpent) return false;
    const spent = c.filterMs;
    c.filterMs = 0;
    c.filterSince = performance.now();
    // spent the whole window's allowance early: the share over the full window is already too much
    if (!c.filterSpent && spent <= this.opts.maxFilterShare * span) return false;
    this.disconnectedExpensive++;
    this.costlyFilters.delete(c.filterText);
    this.costlyFilters.set(c.filterText, Date.now() + COSTLY_FILTER_COOLDOWN_MS);
    if (this.costlyFilters.size > MAX_COSTLY_FILTERS) this.costlyFilters.delete(this.costlyFilters.keys().next().value!);
    c.ws.close(4009, `filter too expensive: checking flows against it took ${Math.round(spent)} ms of the last ${Math.round(span)} ms (at most ${Math.round(this.opts.maxFilterShare * 100)}%)`.slice(0, 120));
    setTimeout(() => c.ws.terminate(), 2000).unref();
    this.clients.delete(c);
    return true;
  }

  /** flows a client may have queued and still be fed from history this tick */
  private catchUpRoom(c: Client): number {
    return this.opts.batchMax * 4 - c.queue.length;
  }

  private wantsCatchUp(c: Client): boolean {
    return c.catchingUp && c.subscribed && !c.paused && this.clients.has(c) && c.ws.readyState === c.ws.OPEN && this.catchUpRoom(c) > 0;
  }

  /**
   * Feeds the clients that are behind the live edge from one budget for the tick (time and rows), in
   * turns: each turn gives a client its share of what is left, and the next tick starts with the
   * client after the last one served, so that however many there are, all progress and none waits
   * on the others' history.
   */
  private catchUpAll(candidates: Client[]): void {
    if (candidates.length === 0) return;
    const stats = this.catchUpStats;
    const start = performance.now();
    const tick: TickBudget = { deadline: start + this.opts.catchUpMsPerTick, rows: this.opts.catchUpRowsPerTick, flushed: false };
    const n = candidates.length;
    const first = this.catchUpTurn % n;
    let turn: Client[] = [...candidates.slice(first), ...candidates.slice(0, first)];
    let last = first - 1;
    outer: while (turn.length > 0) {
      const again: Client[] = [];
      for (let i = 0; i < turn.length; i++) {
        const now = performance.now();
        if (tick.rows <= 0 || now >= tick.deadline) break outer;
        const c = turn[i]!;
        const share = turn.length - i;
        const before = c.cursor;
        let rows: number;
        try {
          rows = this.catchUp(c, tick, { deadline: now + (tick.deadline - now) / share, rows: Math.ceil(tick.rows / share) });
        } catch (err) {
          // one client's history read failing (a query SQLite refuses, say) must not stop the timer
          // that feeds every client: that client is told why and closed
          console.error(`stream: catch-up failed for one client: ${(err as Error).message}`);
          this.send(c, { type: "error", error: `reading history failed: ${(err as Error).message}` });
          c.ws.close(1011, "reading history failed");
          continue;
        }
        last = candidates.indexOf(c);
        // another turn only for a client that moved and has more to do
        if ((rows > 0 || c.cursor > before) && this.wantsCatchUp(c)) again.push(c);
      }
      turn = again;
    }
    this.catchUpTurn = last + 1;
    const used = this.opts.catchUpRowsPerTick - tick.rows;
    const ms = performance.now() - start;
    stats.ticks++;
    stats.rows += used;
    if (used > stats.maxRowsInTick) stats.maxRowsInTick = used;
    if (ms > stats.maxMsInTick) stats.maxMsInTick = ms;
  }

  /**
   * Feeds one behind-the-edge client from the ring or SQLite within `slice` (and the tick's budget,
   * which it draws from). Returns the rows it read into JS.
   */
  private catchUp(c: Client, tick: TickBudget, slice: { deadline: number; rows: number }): number {
    const stats = this.catchUpStats;
    let used = 0;
    // The first pass always runs, and each pass reads at least one row or moves the cursor past
    // ids that cannot match: a slice always makes progress, and stops once its time is up.
    for (let pass = 0; used < slice.rows && tick.rows > 0 && this.catchUpRoom(c) > 0; pass++) {
      const live = this.bus.lastId();
      if (c.cursor >= live) {
        c.catchingUp = false;
        break;
      }
      if (pass > 0 && performance.now() >= slice.deadline) break;
      const limit = Math.min(CATCH_UP_CHUNK, slice.rows - used, tick.rows, this.catchUpRoom(c));
      const ringFirst = this.ring.firstId();
      if (ringFirst !== undefined && c.cursor + 1 >= ringFirst) {
        // From the ring: a resume is rare and bounded per tick, and parsing the line back is cheaper
        // than keeping every record.
        const items = this.ring.after(c.cursor, limit);
        if (items.length === 0) {
          c.catchingUp = false;
          break;
        }
        for (let i = 0; i < items.length; i++) {
          const f = items[i]!;
          if (i > 0 && performance.now() >= slice.deadline) break;
          used++;
          tick.rows--;
          c.cursor = f.id;
          if (c.history.everything || c.match((JSON.parse(f.json) as { flow: Flow }).flow)) c.queue.push(f);
        }
        continue;
      }
      // From SQLite, up to the ring's oldest flow (or the live edge when the ring is empty).
      const upto = ringFirst !== undefined ? Math.min(ringFirst - 1, live) : live;
      // The writer commits in id order and `lag` counts what it has not committed yet: flows older
      // than the ring are normally long in SQLite, so the blocking flush is rarely needed (and then
      // once a tick, not once a chunk). After a failed write, flush always, as before.
      if (!tick.flushed && (upto > live - this.store.writer.lag || this.store.writer.lastError !== undefined)) {
        tick.flushed = true;
        this.store.flush();
      }
      const oldest = this.history.firstId();
      if (oldest === undefined || oldest > upto) {
        // Every id up to the ring was removed by retention: skip over the hole and say so.
        c.lost.n += upto - c.cursor;
        c.lost.first ??= c.cursor + 1;
        c.lost.last = upto;
        c.cursor = upto;
        continue;
      }
      // Retention deletes the oldest rows first: nothing to scan before the oldest one left.
      if (oldest > c.cursor + 1) c.cursor = oldest - 1;
      const hi = Math.min(upto, c.cursor + c.scanWindow);
      const t0 = performance.now();
      const rows = this.history.rows(c.history, c.cursor, hi, limit);
      const took = performance.now() - t0;
      stats.statements++;
      const from = c.cursor;
      let all = true;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        if (i > 0 && performance.now() >= slice.deadline) {
          all = false;
          break;
        }
        used++;
        tick.rows--;
        c.cursor = row.id;
        if (c.history.exact) c.queue.push(this.history.line(row));
        else {
          const json = this.history.json(row);
          if (c.match((JSON.parse(json) as { flow: Flow }).flow)) c.queue.push(new TextLine(row.id, json));
        }
      }
      if (all && rows.length < limit) {
        // the whole window was scanned: nothing else in it matches
        c.cursor = hi;
        // size the next window so that one statement takes about WINDOW_TARGET_MS
        if (took < WINDOW_TARGET_MS / 2) c.scanWindow = Math.min(WINDOW_MAX, c.scanWindow * 2);
        else if (took > WINDOW_TARGET_MS * 2) c.scanWindow = Math.max(WINDOW_MIN, Math.floor((c.scanWindow * WINDOW_TARGET_MS) / took));
      }
      stats.scannedIds += c.cursor - from;
    }
    return used;
  }

  private flushAll(): void {
    const now = Date.now();
    const ready: Client[] = [];
    for (const c of this.clients) {
      if (!c.subscribed || c.paused) continue;
      const ws = c.ws;
      if (ws.readyState !== ws.OPEN) continue;
      if (this.filterTooExpensive(c)) continue;
      if (ws.bufferedAmount > this.opts.highWaterBytes) {
        c.stuckSince ??= now;
        if (now - c.stuckSince > this.opts.stuckTimeoutMs) {
          this.disconnectedSlow++;
          ws.close(4008, "client too slow: stopped reading flows");
          // close() waits for the peer; a peer that reads nothing would keep its buffer alive.
          setTimeout(() => ws.terminate(), 2000).unref();
          this.clients.delete(c);
        }
        continue;
      }
      c.stuckSince = undefined;
      ready.push(c);
    }
    this.catchUpAll(ready.filter((c) => this.wantsCatchUp(c)));
    for (const c of ready) {
      const ws = c.ws;
      if (c.lost.n > 0) {
        this.send(c, { type: "lost_events", num_events_lost: c.lost.n, first: c.lost.first?.toString(), last: c.lost.last?.toString() });
        c.lost = { n: 0 };
      }
      while (c.queue.length > 0 && ws.bufferedAmount <= this.opts.highWaterBytes) {
        const flows = c.queue.take(this.opts.batchMax);
        c.sentFlows += flows.length;
        ws.send(flowsMessage(flows), { binary: false });
      }
    }
  }

  private heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        // no pong since the last ping: a peer that is gone, or one that stopped reading (it cannot see a
        // close frame either, so none is sent)
        this.disconnectedSlow++;
        c.ws.terminate();
        this.clients.delete(c);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  close(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.heartbeatTimer);
    for (const c of this.clients) c.ws.terminate();
    this.wss.close();
  }
}
