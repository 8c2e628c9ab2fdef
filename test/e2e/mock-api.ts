// A stand-in for the Flowscope server when the real one is not needed: serves a Next production build
// plus /api and /api/stream from synthetic flows. Used by the UI benchmark (300 workloads / 20
// namespaces, 2,000 flows/s) and for screenshots while the datapath is being built.
//   tsx test/e2e/mock-api.ts <next-dir> <port> [flows-per-second]
import http from "node:http";
import next from "next";
import { WebSocketServer } from "ws";
import type { FlowsPage, StoredFlow } from "../../lib/api-types";

import { NS, syntheticFlow, syntheticMap } from "./synthetic";

export { syntheticFlow, syntheticMap };

async function main() {
  const [dir = ".", portText = "4298", rateText = "200"] = process.argv.slice(2);
  const rate = Number(rateText);
  const app = next({ dev: false, dir });
  await app.prepare();
  const handle = app.getRequestHandler();
  const history: StoredFlow[] = Array.from({ length: 3000 }, syntheticFlow);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const json = (body: unknown) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/api/flows") {
      const limit = Number(url.searchParams.get("limit") ?? 100);
      const page: FlowsPage = { flows: history.slice(-limit).reverse() };
      return json(page);
    }
    if (url.pathname === "/api/service-map") return json(syntheticMap());
    if (url.pathname === "/api/namespaces") return json({ namespaces: Array.from({ length: NS }, (_, i) => ({ namespace: `team-${String(i).padStart(2, "0")}`, flows: 100 })) });
    if (url.pathname === "/api/policies") return json({ revision: 4, policies: [], warnings: [] });
    if (url.pathname.startsWith("/api/")) {
      res.statusCode = 404;
      return json({ error: "not in the mock" });
    }
    void handle(req, res);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, sock, head) => {
    if (req.url?.startsWith("/api/stream")) wss.handleUpgrade(req, sock, head, (ws) => wss.emit("connection", ws));
    else sock.destroy();
  });
  wss.on("connection", (ws) => {
    // Like the real server: a subscribe is confirmed by a status echoing its filter (the client ignores
    // flows until then), and flows go out in 50 ms batches.
    let subscribed = false;
    ws.on("message", (data) => {
      try {
        const m = JSON.parse(String(data)) as { type?: string; filter?: string };
        if (m.type === "subscribe") {
          subscribed = true;
          ws.send(JSON.stringify({ type: "status", subscribed: true, paused: false, filter: m.filter ?? "" }));
        }
      } catch {
        /* the mock ignores what it does not understand */
      }
    });
    const t = setInterval(() => {
      if (!subscribed) return;
      const flows = Array.from({ length: Math.max(1, Math.round(rate / 20)) }, syntheticFlow);
      ws.send(JSON.stringify({ type: "flows", flows, cursor: flows[flows.length - 1]!.id }));
    }, 50);
    ws.on("close", () => clearInterval(t));
  });
  server.listen(Number(portText), "127.0.0.1", () => console.log(`mock flowscope on http://127.0.0.1:${portText}`));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) void main();
