// The browser side of /api/stream: one WebSocket with resubscription, pause/resume and reconnect with
// backoff. On reconnect it passes the last cursor so no flow is missed or shown twice.
// Browsers cannot give a WebSocket a header, so the access token (if set) goes in the upgrade URL's
// `?token=`, which the server accepts for upgrades; it is added at each connect, never kept in `url`.
import type { StoredFlow } from "../api-types";
import { currentToken, withTokenParam } from "./auth-token";
import { STREAM_PATH, type ClientMessage, type ServerMessage } from "../stream-protocol";

export type StreamState = "connecting" | "live" | "paused" | "reconnecting" | "closed";

export interface StreamEvents {
  onFlows: (flows: StoredFlow[]) => void;
  onState: (state: StreamState, detail?: string) => void;
  onLost?: (n: number) => void;
  onError?: (message: string, field?: string) => void;
  /**
   * The server answered from another flow history than before (it restarted on a new database): the
   * cursor meant a flow of the old one, so what the new one stored up to it was skipped, and the rows
   * shown belong to a database that is gone. The page starts over from a fresh first page.
   */
  onHistoryChanged?: () => void;
}

export function streamUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}${STREAM_PATH}`;
}

export const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export function reconnectDelay(attempt: number): number {
  return RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]!;
}

export class StreamClient {
  private ws?: WebSocket;
  private filter = "";
  private cursor?: string;
  private paused = false;
  private attempt = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private closed = false;
  /** the filter of a subscribe not yet confirmed by the server */
  private awaiting?: string;
  /** the flow history the cursor belongs to: the first page's, else the server's first status (see stream-protocol.ts) */
  private history?: string;
  /** when the next reconnect happens, for the "reconnecting in Ns" indicator */
  retryAt?: number;

  constructor(
    private readonly url: string,
    private readonly events: StreamEvents,
  ) {}

  /**
   * (Re)subscribe with a filter (the GET /api/flows query string) from after `cursor`; `history` is the
   * flow history the cursor came from (FlowsPage.history), which the server's must match.
   */
  subscribe(filter: string, cursor?: string, history?: string): void {
    this.filter = filter;
    this.cursor = cursor;
    if (history !== undefined) this.history = history;
    if (this.ws?.readyState === WebSocket.OPEN) this.send({ type: "subscribe", filter, cursor });
    else if (!this.ws) this.connect();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.send({ type: paused ? "pause" : "resume" });
      this.events.onState(paused ? "paused" : "live");
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
    this.events.onState("closed");
  }

  private connect(): void {
    if (this.closed) return;
    this.events.onState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(withTokenParam(this.url));
    } catch (e) {
      const token = currentToken();
      // the browser's message quotes the URL: keep the token out of what the page shows
      this.scheduleReconnect(token ? String(e).split(token).join("…") : String(e));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.retryAt = undefined;
      this.send({ type: "subscribe", filter: this.filter, cursor: this.cursor });
      if (this.paused) this.send({ type: "pause" });
      this.events.onState(this.paused ? "paused" : "live");
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.scheduleReconnect("connection closed");
    };
    ws.onerror = () => {
      // onclose follows; reconnect is handled there.
    };
  }

  private scheduleReconnect(detail: string): void {
    if (this.closed) return;
    const delay = reconnectDelay(this.attempt++);
    this.retryAt = Date.now() + delay;
    this.events.onState("reconnecting", detail);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      this.events.onError?.("stream sent a message that is not JSON");
      return;
    }
    switch (msg.type) {
      case "status":
        if (typeof msg.history === "string" && msg.history !== this.history) {
          const changed = this.history !== undefined;
          this.history = msg.history;
          if (changed) this.events.onHistoryChanged?.();
        }
        if (this.awaiting !== undefined && msg.subscribed && msg.filter === this.awaiting) this.awaiting = undefined;
        break;
      case "flows":
        if (this.awaiting !== undefined) break;
        if (Array.isArray(msg.flows)) {
          if (msg.cursor) this.cursor = msg.cursor;
          this.events.onFlows(msg.flows);
        }
        break;
      case "lost_events":
        this.events.onLost?.(msg.num_events_lost);
        break;
      case "error":
        this.events.onError?.(msg.error, msg.field);
        break;
      default:
        break;
    }
  }

  private send(m: ClientMessage): void {
    // Batches the server sent under the previous filter may still be in flight: ignore flows until
    // the server's status echoes the filter just asked for (it answers in order on the socket).
    if (m.type === "subscribe") this.awaiting = m.filter ?? "";
    this.ws?.send(JSON.stringify(m));
  }
}
