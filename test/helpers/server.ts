// Starts a real Flowscope server (HTTP + WebSocket + SQLite, and optionally the Next.js UI) on a free
// loopback port with a fresh temporary database, for integration and end-to-end tests.
import path from "node:path";
import { tempDir } from "./tmp";
import { loadConfig } from "../../server/config";
import { startServer, type RunningServer, type ServerOptions } from "../../server/app-server";

export interface TestServerOptions {
  ui?: boolean;
  scenario?: string;
  /** total simulator requests per second */
  rate?: number;
  simulate?: boolean;
  dbPath?: string;
  env?: Record<string, string>;
  stream?: ServerOptions["stream"];
}

export interface TestServer extends RunningServer {
  dbPath: string;
  tmpDir: string;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const tmpDir = tempDir("server-");
  const dbPath = opts.dbPath ?? path.join(tmpDir, "flows.db");
  const cfg = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    FLOWSCOPE_DB: dbPath,
    FLOWSCOPE_SIMULATE: opts.simulate === false ? "0" : "1",
    ...(opts.scenario ? { FLOWSCOPE_SCENARIO: opts.scenario } : {}),
    ...(opts.rate !== undefined ? { FLOWSCOPE_RATE: String(opts.rate) } : {}),
    NODE_ENV: "production",
    ...opts.env,
  });
  const running = await startServer(cfg, { ui: opts.ui ?? false, log: () => undefined, stream: opts.stream });
  return { ...running, dbPath, tmpDir };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T };
}
