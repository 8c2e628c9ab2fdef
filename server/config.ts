// Run-time settings, all from the environment, validated once at start so a typo fails loudly.
import path from "node:path";

export interface Config {
  host: string;
  port: number;
  dbPath: string;
  scenarioPath: string;
  /** total simulated requests per second (FLOWSCOPE_RATE); each traffic entry keeps its share of the scenario's rates */
  rate?: number;
  simulate: boolean;
  /** serve the Next.js UI (FLOWSCOPE_UI=0: API, stream and metrics only) */
  ui: boolean;
  token?: string;
  allowInsecureExposed: boolean;
  retentionMaxFlows: number;
  retentionMaxAgeMs?: number;
  /** WebSocket stream connections served at once (FLOWSCOPE_STREAM_MAX_CLIENTS) */
  streamMaxClients?: number;
  /**
   * how long one GET /api/flows page may check rows one by one before it answers with what it found
   * and a cursor (FLOWSCOPE_SCAN_MS, default 250): every request shares the thread the stream runs on
   */
  scanMs?: number;
  dev: boolean;
}

export const DEFAULT_PORT = 4280;
export const DEFAULT_SCENARIO = "server/scenarios/default/scenario.yaml";

export class ConfigError extends Error {}

function numberEnv(env: Record<string, string | undefined>, name: string, min: number, max: number, whole = false): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
    throw new ConfigError(`${name}=${raw}: expected ${whole ? "a whole number" : "a number"} from ${min} to ${max}`);
  }
  return n;
}

function intEnv(env: Record<string, string | undefined>, name: string, min: number, max: number): number | undefined {
  return numberEnv(env, name, min, max, true);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const host = env.HOST || "127.0.0.1";
  const port = intEnv(env, "PORT", 0, 65535) ?? DEFAULT_PORT;
  const cfg: Config = {
    host,
    port,
    dbPath: path.resolve(cwd, env.FLOWSCOPE_DB || "data/flows.db"),
    scenarioPath: path.resolve(cwd, env.FLOWSCOPE_SCENARIO || DEFAULT_SCENARIO),
    rate: numberEnv(env, "FLOWSCOPE_RATE", 0, 1_000_000),
    simulate: env.FLOWSCOPE_SIMULATE !== "0",
    ui: env.FLOWSCOPE_UI !== "0",
    token: (() => {
      const raw = env.FLOWSCOPE_TOKEN;
      if (raw === undefined || raw === "") return undefined;
      // a secret read from a file often ends in a newline: no client could send it in a header
      // (header values are trimmed), so the surrounding whitespace is not part of the token
      const t = raw.trim();
      if (t.length < 8) throw new ConfigError(`FLOWSCOPE_TOKEN: ${t.length === 0 ? "only whitespace" : `${t.length} characters`}; use a token of at least 8 characters`);
      return t;
    })(),
    allowInsecureExposed: env.FLOWSCOPE_ALLOW_NO_TOKEN === "1",
    retentionMaxFlows: intEnv(env, "FLOWSCOPE_RETENTION_FLOWS", 1000, 1e10) ?? 1_000_000,
    retentionMaxAgeMs: (() => {
      const h = numberEnv(env, "FLOWSCOPE_RETENTION_HOURS", 0.01, 24 * 365 * 10);
      return h === undefined ? undefined : h * 3600_000;
    })(),
    streamMaxClients: (() => {
      const n = intEnv(env, "FLOWSCOPE_STREAM_MAX_CLIENTS", 1, 100_000);
      if (n !== undefined && !Number.isInteger(n)) throw new ConfigError(`FLOWSCOPE_STREAM_MAX_CLIENTS=${env.FLOWSCOPE_STREAM_MAX_CLIENTS}: expected a whole number from 1 to 100000`);
      return n;
    })(),
    scanMs: intEnv(env, "FLOWSCOPE_SCAN_MS", 1, 10_000),
    dev: env.NODE_ENV === "development",
  };
  if (!isLoopback(host) && !cfg.token && !cfg.allowInsecureExposed) {
    throw new ConfigError(
      `HOST=${host} exposes Flowscope beyond this machine: set FLOWSCOPE_TOKEN (clients send it as "Authorization: Bearer <token>"), or FLOWSCOPE_ALLOW_NO_TOKEN=1 to accept the risk`,
    );
  }
  return cfg;
}
