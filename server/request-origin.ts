// Requests a browser makes on behalf of another site. Flowscope listens on loopback without a token by
// default, so two things must hold for a browser request: its Host names this machine (a page that
// rebinds its own DNS name to 127.0.0.1 sends its own name, and would otherwise read the API as same-origin),
// and a WebSocket upgrade or a state-changing request carries no foreign Origin (any page can open a
// WebSocket or POST to localhost, and browsers do not apply CORS to either). Clients that are not
// browsers (curl, the CLI, ws) send no Origin and are unaffected.
import type { IncomingMessage } from "node:http";
import { isLoopback } from "./config";

export interface OriginGuard {
  /** undefined when acceptable, else the reason to refuse */
  check(req: IncomingMessage, opts: { crossSiteSensitive: boolean }): string | undefined;
}

function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

function isLocalName(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function originGuard(listenHost: string): OriginGuard {
  const loopbackOnly = isLoopback(listenHost);
  return {
    check(req, { crossSiteSensitive }) {
      const host = req.headers.host ?? "";
      if (loopbackOnly && host && !isLocalName(hostnameOf(host))) return `unexpected Host ${JSON.stringify(host.slice(0, 100))}: this server answers to localhost names only`;
      if (!crossSiteSensitive) return undefined;
      const origin = req.headers.origin;
      if (origin === undefined) return undefined;
      let originHost: string;
      try {
        originHost = new URL(origin).host;
      } catch {
        return `Origin ${JSON.stringify(origin.slice(0, 100))} is not a URL`;
      }
      if (originHost.toLowerCase() !== host.toLowerCase()) return `cross-site request from ${JSON.stringify(origin.slice(0, 100))} refused`;
      return undefined;
    },
  };
}
