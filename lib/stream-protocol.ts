// The WebSocket protocol at /api/stream, shared by the server and the UI. JSON text messages.
//
// Client → server
//   { "type": "subscribe", "filter": "<URL query string of filters, as GET /api/flows takes>", "cursor"?: "<flow id>" }
//       (re)starts the subscription; with a cursor, every stored flow after it is sent first, in order.
//       The filter takes since/until but not GET /api/flows' paging (limit, first, order, cursor): see
//       STREAM_FILTER_REFUSED. A field not listed here, in any message, is an error naming it.
//   { "type": "pause" } / { "type": "resume" }
//   { "type": "ping", "id"?: string }
// Server → client
//   { "type": "flows", "flows": StoredFlow[], "cursor": "<id of the last flow>" }   batched (50 ms or 500 flows)
//   { "type": "lost_events", "num_events_lost": n, "first": "<id>", "last": "<id>" }
//   { "type": "status", "subscribed", "paused", "filter", "history": "<id>" }   { "type": "pong", "id"?: string }
//       `history` names the database's flow history (GET /api/status historyId): after a reconnect, a
//       different one means the cursor came from another database, whose flow ids meant other flows.
//   { "type": "error", "error": "<what was wrong>", "field"?: string }
import type { StoredFlow } from "./api-types";

export const STREAM_PATH = "/api/stream";
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/** The fields each client message takes; any other is refused with an error naming it. */
export const CLIENT_MESSAGE_FIELDS = {
  subscribe: ["type", "filter", "cursor"],
  pause: ["type"],
  resume: ["type"],
  ping: ["type", "id"],
} as const;

/** Query parameters a subscribe filter may not hold, and why: the stream would otherwise ignore them. */
export const STREAM_FILTER_REFUSED: Record<string, string> = {
  limit: "it sends every matching flow as it arrives (close the stream to stop)",
  first: "it sends flows oldest first, from the cursor on",
  order: "it sends flows oldest first, from the cursor on",
  cursor: 'send the flow id to resume after as the subscribe message\'s own "cursor" field',
  follow: "a subscription always follows",
  format: "flows are sent as JSON",
};

export type ClientMessage =
  | { type: "subscribe"; filter?: string; cursor?: string }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "ping"; id?: string };

export type ServerMessage =
  | { type: "flows"; flows: StoredFlow[]; cursor: string }
  | { type: "lost_events"; num_events_lost: number; first?: string; last?: string }
  | { type: "status"; subscribed: boolean; paused: boolean; filter: string; history: string }
  | { type: "pong"; id?: string }
  | { type: "error"; error: string; field?: string };
