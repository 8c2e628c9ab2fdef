// A WebSocket client of /api/stream for tests: collects every message and the flows they carry.
import WebSocket from "ws";
import type { StoredFlow } from "../../lib/api-types";
import type { ServerMessage } from "../../lib/stream-protocol";

export interface Client {
  ws: WebSocket;
  flows: StoredFlow[];
  messages: ServerMessage[];
  closed?: { code: number; reason: string };
}

export async function connect(url: string, headers?: Record<string, string>): Promise<Client> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/api/stream", { headers });
  const c: Client = { ws, flows: [], messages: [] };
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString()) as ServerMessage;
    c.messages.push(m);
    if (m.type === "flows") c.flows.push(...m.flows);
  });
  ws.on("close", (code, reason) => (c.closed = { code, reason: reason.toString() }));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  // later errors (a refused or dropped connection) show up as `closed`
  ws.on("error", () => undefined);
  return c;
}
