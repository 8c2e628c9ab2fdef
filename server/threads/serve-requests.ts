// The thread side of RequestThread (request-thread.ts): each request is answered, in order, with its
// id and either the handler's result or the message of what it threw.
import { parentPort } from "node:worker_threads";
import type { ThreadReply, ThreadRequest } from "./request-thread";

export function serveRequests<Req, Res>(handle: (req: Req) => Res): void {
  parentPort!.on("message", (msg: ThreadRequest<Req>) => {
    let reply: ThreadReply<Res>;
    try {
      reply = { id: msg.id, res: handle(msg.req) };
    } catch (err) {
      reply = { id: msg.id, error: (err as Error).message };
    }
    parentPort!.postMessage(reply);
  });
}
