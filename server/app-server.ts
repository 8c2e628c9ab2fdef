// One process, one port: the REST API under /api, the WebSocket stream at /api/stream, Prometheus
// metrics at /metrics, and the Next.js UI for everything else. Tests start it with a temporary
// database and port 0.
import http from "node:http";
import "./filter-regex-engine";
import { originGuard } from "./request-origin";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { FlowBus } from "./bus";
import type { Config } from "./config";
import { Datapath } from "./datapath";
import { handleApi, type ApiContext } from "./api/router";
import { hasValidToken, sendJson } from "./api/http-util";
import { FlowStore } from "./store/flow-store";
import { StreamServer, type StreamOptions } from "./stream/stream-server";
import { STREAM_PATH } from "../lib/stream-protocol";
import { Simulator } from "./traffic/simulator";
import { FlowMetrics } from "./metrics/flow-metrics";

export const VERSION = "0.1.0";

export interface RunningServer {
  url: string;
  port: number;
  ctx: ApiContext;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** serve the Next.js UI (off for API-only tests) */
  ui?: boolean;
  projectDir?: string;
  log?: (msg: string) => void;
  /** stream tuning (tests use small bounds to reach the slow-client paths quickly) */
  stream?: Omit<StreamOptions, "authorize">;
}

type NextHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

async function loadNext(cfg: Config, dir: string): Promise<{ handle: NextHandler; upgrade?: (req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => void }> {
  const { default: next } = await import("next");
  const app = next({ dev: cfg.dev, dir, hostname: cfg.host, port: cfg.port });
  await app.prepare();
  const handle = app.getRequestHandler() as NextHandler;
  const upgrade = (app as unknown as { getUpgradeHandler?: () => (req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => void }).getUpgradeHandler?.();
  return { handle, upgrade };
}

/** The status and one-line message for a request the HTTP parser refused (the `clientError` event). */
export function clientErrorAnswer(err: NodeJS.ErrnoException & { reason?: string }, maxHeaderSize: number): [number, string] {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      // the parser counts the request line with the headers: a long URL or query string lands here too
      return [431, `the request line and headers are larger than the server's ${maxHeaderSize}-byte limit (a long URL or query string counts): shorten the query, e.g. fewer filter values`];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "the request was not received in time"];
    default: {
      const why = err.reason ?? err.message;
      return [400, `malformed HTTP request${err.code ? ` (${err.code})` : ""}${why ? `: ${why}` : ""}`.slice(0, 300)];
    }
  }
}

export async function startServer(cfg: Config, opts: ServerOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const projectDir = opts.projectDir ?? process.cwd();
  const store = await FlowStore.open(cfg.dbPath, { maxFlows: cfg.retentionMaxFlows, maxAgeMs: cfg.retentionMaxAgeMs });

  const bus = new FlowBus(store.reader.lastId());
  bus.subscribe((batch) => store.ingest(batch));
  const authorize = cfg.token ? (req: http.IncomingMessage) => hasValidToken(req, cfg.token!) : undefined;
  const stream = new StreamServer(bus, store, { ...(cfg.streamMaxClients !== undefined ? { maxClients: cfg.streamMaxClients } : {}), ...opts.stream, authorize });
  const metrics = new FlowMetrics({
    websocketClients: () => stream.clientCount,
    queueDepths: () => stream.queueDepths(),
    lostEvents: () => stream.lostEventsTotal,
    slowDisconnects: () => stream.disconnectedSlow,
    ingestLag: () => store.writer.lag,
    databaseBytes: () => store.databaseBytes(),
    storedFlows: () => store.storedFlows(),
  });
  bus.subscribe((batch) => metrics.observe(batch));

  let simulator: Simulator | undefined;
  if (cfg.simulate) {
    const datapath = Datapath.fromScenarioFile(cfg.scenarioPath);
    // legal but suspicious (a service that selects no pod, …): said at start, as `lint` and `trace` say it
    for (const w of datapath.scenario.warnings ?? []) log(`scenario warning: ${w.file}${w.line ? `:${w.line}` : ""}: ${w.path}: ${w.message}`);
    for (const w of datapath.warnings) log(`policy rejected: ${w.source}${w.document !== undefined ? ` document ${w.document}` : ""}${w.path ? ` at ${w.path}` : ""}: ${w.message}`);
    simulator = new Simulator(datapath, bus, { rate: cfg.rate, backlog: () => store.writer.lag });
  }

  const ctx: ApiContext = { store, bus, stream, simulator, startedAt: Date.now(), version: VERSION, scanMs: cfg.scanMs };
  const nextApp = opts.ui === false || !cfg.ui ? undefined : await loadNext(cfg, projectDir);

  const guard = originGuard(cfg.host);
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? "/").split("?")[0]!;
    const isApi = pathname === "/api" || pathname.startsWith("/api/") || pathname === "/metrics";
    const refused = guard.check(req, { crossSiteSensitive: isApi && req.method !== "GET" && req.method !== "HEAD" });
    if (refused) return sendJson(res, 403, { error: refused });
    if (isApi && authorize && !authorize(req)) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="flowscope"');
      return sendJson(res, 401, { error: "missing or wrong token: send Authorization: Bearer <FLOWSCOPE_TOKEN>" });
    }
    if (pathname === "/metrics") {
      const text = metrics.render();
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(text);
      return;
    }
    if (isApi) {
      void handleApi(ctx, req, res);
      return;
    }
    if (!nextApp) return sendJson(res, 404, { error: "the UI is not served by this instance" });
    nextApp.handle(req, res).catch((err) => {
      log(`page error: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end("internal error");
    });
  });
  server.on("upgrade", (req, socket, head) => {
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname === STREAM_PATH) {
      const refused = guard.check(req, { crossSiteSensitive: true });
      if (refused) {
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refused}\n`);
        return;
      }
      return stream.handleUpgrade(req, socket, head);
    }
    // The stream is the only WebSocket in production. Next's upgrade handler serves the dev server's
    // hot reload only; in production it never answers nor closes, so every other upgrade would hold
    // a socket for good (and unchecked by the token or the Host and Origin checks).
    if (cfg.dev && nextApp?.upgrade) {
      const refused = guard.check(req, { crossSiteSensitive: true });
      if (refused) {
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refused}\n`);
        return;
      }
      return nextApp.upgrade(req, socket, head);
    }
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nno WebSocket at ${JSON.stringify(pathname.slice(0, 200))}; the flow stream is ${STREAM_PATH}\n`);
  });
  server.on("clientError", (err: NodeJS.ErrnoException & { reason?: string }, socket) => {
    // Requests Node's parser refused before any handler saw them: answer with a body that says why.
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, message] = clientErrorAnswer(err, http.maxHeaderSize);
    const body = JSON.stringify({ error: message }) + "\n";
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  simulator?.start();
  const host = cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host;
  const url = `http://${host}:${port}`;
  log(`Flowscope ${VERSION} listening on ${url} (database ${path.relative(projectDir, cfg.dbPath) || cfg.dbPath}${simulator ? `, scenario ${simulator.scenarioName} at ${simulator.requestRate().toFixed(1)} requests/s` : ", simulator off"})`);

  return {
    url,
    port,
    ctx,
    async close() {
      simulator?.stop();
      stream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await store.close();
    },
  };
}
