// Mutual authentication state, as Cilium keeps it: the datapath reads cilium_auth_map, keyed
// (local identity, remote identity, remote node, auth type), and drops a packet whose allow entry
// demands authentication when no live entry exists (AUTH_REQUIRED), signalling the auth manager.
// The manager performs the handshake out of band and writes the entry with the expiry of the
// certificates it used; until then packets keep being dropped. Here the handshake completes as soon
// as the manager is signalled, so the request after a drop passes, and an entry lives for the
// lifetime of a SPIRE X.509 SVID (SPIRE's default_x509_svid_ttl, 1 h) before the next packet needs
// a new handshake. The test-always-fail type (Cilium's test handler) never authenticates.
import { AUTH_SPIRE, AUTH_TEST_ALWAYS_FAIL } from "./policy-map";

export const AUTH_TTL_MS = 3600_000;

export const AUTH_TYPE_NAMES = ["DISABLED", "SPIRE", "TEST_ALWAYS_FAIL"] as const;

export interface AuthKey {
  local: number;
  remote: number;
  /** 0 for the local node, else the remote node's id (the datapath's remote_node_id) */
  remoteNode: number;
  authType: number;
}

export interface AuthEntry extends AuthKey {
  expires: number;
}

function keyText(k: AuthKey): string {
  return `${k.local}/${k.remote}/${k.remoteNode}/${k.authType}`;
}

export class AuthMap {
  private readonly entries = new Map<string, AuthEntry>();

  /** is there an entry for `k` that has not expired at `now`? */
  authenticated(k: AuthKey, now: number): boolean {
    const e = this.entries.get(keyText(k));
    return e !== undefined && now < e.expires;
  }

  set(k: AuthKey, expires: number): void {
    this.entries.set(keyText(k), { local: k.local, remote: k.remote, remoteNode: k.remoteNode, authType: k.authType, expires });
  }

  /** drops expired entries (the manager's GC); returns how many */
  gc(now: number): number {
    let n = 0;
    for (const [t, e] of this.entries) {
      if (e.expires > now) continue;
      this.entries.delete(t);
      n++;
    }
    return n;
  }

  list(): AuthEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }
}

export interface HandshakeResult {
  authenticated: boolean;
  /** when the written entry expires (authenticated only) */
  expires?: number;
  reason?: string;
}

export class AuthManager {
  constructor(
    readonly map: AuthMap,
    private readonly ttlMs = AUTH_TTL_MS,
  ) {}

  /** the datapath's SIGNAL_AUTH_REQUIRED for `k`: performs the handshake and records the outcome */
  onAuthRequired(k: AuthKey, now: number): HandshakeResult {
    this.map.gc(now);
    if (k.authType === AUTH_TEST_ALWAYS_FAIL) return { authenticated: false, reason: "the test-always-fail handler rejects every handshake" };
    if (k.authType !== AUTH_SPIRE) return { authenticated: false, reason: `no handler for auth type ${k.authType}` };
    const expires = now + this.ttlMs;
    this.map.set(k, expires);
    return { authenticated: true, expires };
  }
}
