// How CLI commands reach a running Flowscope: --server URL (default the local one) and the token from
// --token or FLOWSCOPE_TOKEN.
import { DEFAULT_PORT } from "../config";

export interface Remote {
  server: string;
  token?: string;
}

export function takeRemoteFlags(args: string[]): { remote: Remote; rest: string[] } {
  const rest: string[] = [];
  const remote: Remote = {
    server: process.env.FLOWSCOPE_SERVER || `http://127.0.0.1:${process.env.PORT || DEFAULT_PORT}`,
    token: process.env.FLOWSCOPE_TOKEN || undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes("=") && a.startsWith("--") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (flag === "--server" || flag === "--token") {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      if (flag === "--server") remote.server = v.replace(/\/+$/, "");
      else remote.token = v;
    } else rest.push(a);
  }
  if (!/^https?:\/\//.test(remote.server)) remote.server = `http://${remote.server}`;
  return { remote, rest };
}

export function authHeaders(remote: Remote): Record<string, string> {
  return remote.token ? { Authorization: `Bearer ${remote.token}` } : {};
}

export async function getJson<T>(remote: Remote, path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(remote.server + path, { headers: authHeaders(remote) });
  } catch (err) {
    throw new Error(`cannot reach Flowscope at ${remote.server} (${(err as Error).cause ?? (err as Error).message}); start it with \`npm start\` or pass --server`);
  }
  const text = await res.text();
  if (!res.ok) {
    let msg = text;
    try {
      msg = (JSON.parse(text) as { error: string }).error;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`${res.status} from ${path.split("?")[0]}: ${msg}`);
  }
  return JSON.parse(text) as T;
}
