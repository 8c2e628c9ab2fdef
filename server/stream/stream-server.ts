// Live flows over WebSocket (protocol: lib/stream-protocol.ts). Each client has a filter, a cursor
// (the id of the last flow it was sent) and a bounded queue. Flows are delivered in id order with no
// gaps or duplicates: a client that is behind (resuming, or just subscribed with a cursor) is served
// from the in-memory ring or from SQLite until it reaches the live edge, and only then takes live
// flows. A client that stops reading loses the oldest queued flows (reported as lost_events) and is
// disconnected if it stays stuck; nothing it does holds up ingest or the other clients.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket, type RawData } from "ws";
import type { Flow } from "../../lib/flow/types";
import { MAX_CLIENT_MESSAGE_BYTES, type ClientMessage, type ServerMessage } from "../../lib/stream-protocol";
import { compileQuery } from "../../lib/filter/match";
import { FilterError, type FlowQuery } from "../../lib/filter/types";
import { parseSearchParams } from "../../lib/filter/params";
import { TextLine, type FlowBus, type FlowLine, type SequencedFlow } from "../bus";
import type { FlowStore } from "../store/flow-store";
import { RingBuffer } from "./ring-buffer";
import { FlowQueue } from "./flow-queue";

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
  authorize?: (req: IncomingMessage) => boolean;
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
  /** flows waiting to be sent, oldest first */
  queue: FlowQueue<QueuedFlow>;
  lost: { n: number; first?: number; last?: number };
  stuckSince?: number;
  badMessages: number;
  alive: boolean;
  sentFlows: number;
}

export class StreamServer {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly ring: RingBuffer;
  private readonly opts: Required<Omit<StreamOptions, "authorize">> & Pick<StreamOptions, "authorize">;
  private flushTimer: NodeJS.Timeout;
  private heartbeatTimer: NodeJS.Timeout;
  lostEventsTotal = 0;
  disconnectedSlow = 0;

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
      authorize: opts.authorize,
    };
    this.ring = new RingBuffer(this.opts.ringCapacity);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
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

  private onConnection(ws: WebSocket): void {
    const client: Client = {
      ws,
      subscribed: false,
      paused: false,
      filterText: "",
      match: () => true,
      cursor: this.bus.lastId(),
      catchingUp: false,
      queue: new FlowQueue<QueuedFlow>(),
      lost: { n: 0 },
      badMessages: 0,
      alive: true,
      sentFlows: 0,
    };
    this.clients.add(client);
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
    let query: FlowQuery;
    let match: (f: Flow) => boolean;
    try {
      query = parseSearchParams(new URLSearchParams(filterText));
      match = compileQuery(query);
    } catch (err) {
      if (err instanceof FilterError) return this.reject(client, err.message, err.field);
      return this.reject(client, `invalid filter: ${(err as Error).message}`, "filter");
    }
    let cursor = this.bus.lastId();
    if (msg.cursor !== undefined && msg.cursor !== null && msg.cursor !== "") {
      const c = Number(msg.cursor);
      if (!Number.isSafeInteger(c) || c < 0) return this.reject(client, `cursor must be a flow id (a non-negative integer), got ${JSON.stringify(msg.cursor)}`, "cursor");
      cursor = Math.min(c, this.bus.lastId());
    }
    client.subscribed = true;
    client.paused = false;
    client.filterText = filterText;
    client.match = match;
    client.queue.clear();
    client.cursor = cursor;
    client.catchingUp = cursor < this.bus.lastId();
    this.sendStatus(client);
  }

  private sendStatus(client: Client): void {
    this.send(client, { type: "status", subscribed: client.subscribed, paused: client.paused, filter: client.filterText });
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

  /** Feed a behind-the-edge client from the ring or SQLite, a bounded chunk per tick. */
  private catchUp(c: Client): void {
    const live = this.bus.lastId();
    const budget = this.opts.batchMax * 4;
    let examined = 0;
    while (c.queue.length < this.opts.batchMax && examined < budget * 10) {
      if (c.cursor >= live) {
        c.catchingUp = false;
        return;
      }
      const first = this.ring.firstId();
      let chunk: { item: QueuedFlow; flow: () => Flow }[];
      if (first !== undefined && c.cursor + 1 >= first) {
        // a resume is rare and bounded per tick: parsing the line back is cheaper than keeping every record
        chunk = this.ring.after(c.cursor, budget).map((f) => ({ item: f, flow: () => (JSON.parse(f.json) as { flow: Flow }).flow }));
      } else {
        this.store.flush();
        const upto = first !== undefined ? first - 1 : live;
        chunk = this.store.reader.rangeJson(c.cursor, upto, budget).map((r) => ({ item: new TextLine(r.id, r.json), flow: () => (JSON.parse(r.json) as { flow: Flow }).flow }));
        if (chunk.length === 0) {
          // Those ids were removed by retention: skip over the hole and say so.
          c.lost.n += upto - c.cursor;
          c.lost.first ??= c.cursor + 1;
          c.lost.last = upto;
          c.cursor = upto;
          continue;
        }
      }
      if (chunk.length === 0) {
        c.catchingUp = false;
        return;
      }
      for (const f of chunk) {
        examined++;
        c.cursor = f.item.id;
        if (c.match(f.flow())) c.queue.push(f.item);
      }
    }
  }

  private flushAll(): void {
    const now = Date.now();
    for (const c of this.clients) {
      if (!c.subscribed || c.paused) continue;
      const ws = c.ws;
      if (ws.readyState !== ws.OPEN) continue;
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
      if (c.catchingUp) this.catchUp(c);
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
