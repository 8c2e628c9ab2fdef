// The access token the browser sends when the server runs with FLOWSCOPE_TOKEN. It lives in
// sessionStorage (this tab only, gone when the tab closes) and in memory, never in localStorage, the
// view-state URL or a download URL. A `?token=` in the page URL is taken once per page load and then
// removed from the address bar, so it does not end up in copied links, screenshots or history.
// Without a token on the server nothing here is used: no header is sent and no prompt is shown.

const STORAGE_KEY = "flowscope.token";
export const TOKEN_PARAM = "token";

export interface TokenState {
  /** the token sent with every request, if any */
  token?: string;
  /** set when the server refused a request for want of the right token: the prompt shows it */
  refused?: string;
  /** bumps when the token changes, so the page can start over with it */
  epoch: number;
}

const SERVER_STATE: TokenState = { epoch: 0 };
let state: TokenState = { epoch: 0 };
let loaded = false;
const listeners = new Set<() => void>();

function inBrowser(): boolean {
  return typeof window !== "undefined";
}

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: the token then lasts as long as the page
  }
}

function update(next: Partial<TokenState>): void {
  state = { ...state, ...next };
  for (const l of listeners) l();
}

/** Reads the stored token and takes a `?token=` from the page URL (which wins); once per page load. */
function load(): void {
  if (loaded || !inBrowser()) return;
  loaded = true;
  let token: string | undefined;
  try {
    token = storage()?.getItem(STORAGE_KEY) || undefined;
  } catch {
    /* ignore */
  }
  const fromUrl = new URLSearchParams(window.location.search).get(TOKEN_PARAM);
  if (fromUrl) {
    token = fromUrl;
    try {
      storage()?.setItem(STORAGE_KEY, fromUrl);
    } catch {
      /* ignore */
    }
  }
  state = { ...state, token };
}

/** The token to send, if one is set. */
export function currentToken(): string | undefined {
  load();
  return state.token;
}

/** The `Authorization` header for a request, empty when no token is set. */
export function authHeaders(): Record<string, string> {
  const t = currentToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** `url` with `?token=` added, for the one request a browser cannot give a header: the WebSocket upgrade. */
export function withTokenParam(url: string): string {
  const t = currentToken();
  if (!t) return url;
  const u = new URL(url, inBrowser() ? window.location.href : "http://localhost/");
  u.searchParams.set(TOKEN_PARAM, t);
  return u.toString();
}

/** Keeps a token (entered in the prompt) for this tab and starts the page over with it. */
export function setToken(token: string): void {
  load();
  try {
    storage()?.setItem(STORAGE_KEY, token);
  } catch {
    /* ignore */
  }
  update({ token, refused: undefined, epoch: state.epoch + 1 });
}

/** Drops the token; the page starts over without it (and asks for one if the server wants it). */
export function forgetToken(): void {
  load();
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    /* ignore */
  }
  update({ token: undefined, refused: undefined, epoch: state.epoch + 1 });
}

/**
 * A request got 401. `sentToken` is the token it carried: an answer to a request made with a token
 * that has since been replaced says nothing about the new one.
 */
export function reportUnauthorized(message: string, sentToken: string | undefined): void {
  load();
  if (sentToken !== state.token || state.refused !== undefined) return;
  update({ refused: message });
}

/**
 * Removes `?token=` from the address bar. `history.replaceState(null, …)` is how Next's router is told
 * of a URL change it did not make (it keeps its own state and updates useSearchParams); call it once
 * the router is mounted.
 */
export function stripTokenFromAddressBar(): void {
  if (!inBrowser()) return;
  load();
  const url = new URL(window.location.href);
  if (!url.searchParams.has(TOKEN_PARAM)) return;
  url.searchParams.delete(TOKEN_PARAM);
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
}

export function subscribeToken(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function tokenSnapshot(): TokenState {
  load();
  return state;
}

/** What server rendering and hydration see: no token, so the first client render matches the HTML. */
export function serverTokenSnapshot(): TokenState {
  return SERVER_STATE;
}
