"use client";
// The access token in the UI (the token itself is kept by lib/ui/auth-token.ts): the page is shown
// until the server refuses a request for want of the right token, then this prompt takes its place;
// a token the server accepts brings the page back, started over with it. Servers without
// FLOWSCOPE_TOKEN never refuse, so they never see the prompt.
import { useQueryClient } from "@tanstack/react-query";
import { Fragment, useEffect, useState, useSyncExternalStore, type FormEvent, type ReactNode } from "react";
import type { ApiError } from "../lib/api-types";
import {
  forgetToken,
  serverTokenSnapshot,
  setToken,
  stripTokenFromAddressBar,
  subscribeToken,
  tokenSnapshot,
  type TokenState,
} from "../lib/ui/auth-token";

export function useTokenState(): TokenState {
  return useSyncExternalStore(subscribeToken, tokenSnapshot, serverTokenSnapshot);
}

export function TokenGate({ children }: { children: ReactNode }) {
  const s = useTokenState();
  useEffect(() => {
    // A timer, so it runs after the router's own mount effects: its history patch then sees the change.
    const t = setTimeout(stripTokenFromAddressBar, 0);
    return () => clearTimeout(t);
  }, []);
  if (s.refused !== undefined) return <TokenPrompt refused={s.refused} hadToken={s.token !== undefined} />;
  // A new token (or none) starts the page over: queries, the stream, everything fetched with the old one.
  return <Fragment key={s.epoch}>{children}</Fragment>;
}

/** Asks the server whether it takes `token`: undefined when it does, else what it said. */
async function checkToken(token: string): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch("/api/status", { headers: { accept: "application/json", authorization: `Bearer ${token}` } });
  } catch (e) {
    return `cannot reach the Flowscope server (${(e as Error).message})`;
  }
  if (res.status !== 401) return undefined;
  const body = (await res.json().catch(() => undefined)) as Partial<ApiError> | undefined;
  return `The server refused this token: ${body?.error ?? "HTTP 401"}`;
}

function TokenPrompt({ refused, hadToken }: { refused: string; hadToken: boolean }) {
  const client = useQueryClient();
  const [value, setValue] = useState("");
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | undefined>(hadToken ? `The token was refused: ${refused}` : undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const token = value.trim();
    if (!token || checking) return;
    setChecking(true);
    setError(undefined);
    const problem = await checkToken(token);
    setChecking(false);
    if (problem) {
      setError(problem);
      return;
    }
    client.clear();
    setToken(token);
  };

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">
          <span className="logo" aria-hidden>
            ◉
          </span>
          Flowscope
        </span>
      </header>
      <main style={{ display: "flex", justifyContent: "center", padding: "72px 16px" }}>
        <form
          data-testid="token-prompt"
          onSubmit={(e) => void submit(e)}
          style={{ width: 400, maxWidth: "100%", display: "flex", flexDirection: "column", gap: 10, padding: 20, background: "var(--panel)", border: "1px solid var(--line)", borderRadius: 10 }}
        >
          <h1 style={{ margin: 0, fontSize: 16 }}>Access token required</h1>
          <p className="muted" style={{ margin: 0 }}>
            This Flowscope server was started with <code>FLOWSCOPE_TOKEN</code>. Enter that token to continue; it is kept in this
            browser tab only.
          </p>
          {!hadToken && !error ? (
            <p className="muted small" style={{ margin: 0 }}>
              {refused}
            </p>
          ) : null}
          <label htmlFor="flowscope-token" className="small muted">
            Token
          </label>
          <input
            id="flowscope-token"
            className="input"
            data-testid="token-input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            autoFocus
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
          <button className="btn primary" type="submit" data-testid="token-submit" disabled={!value.trim() || checking} style={{ alignSelf: "flex-start" }}>
            {checking ? "Checking…" : "Use token"}
          </button>
          {error ? (
            <p className="error" role="alert" data-testid="token-error" style={{ margin: 0 }}>
              {error}
            </p>
          ) : null}
        </form>
      </main>
    </div>
  );
}

/** "Forget token" for the top bar: shown only while a token is kept for this tab. */
export function ForgetTokenButton() {
  const s = useTokenState();
  const client = useQueryClient();
  if (s.token === undefined) return null;
  return (
    <button
      type="button"
      className="btn small"
      data-testid="forget-token"
      title="Forget the access token kept for this tab; the page asks again if the server needs one"
      onClick={() => {
        client.clear();
        forgetToken();
      }}
    >
      Forget token
    </button>
  );
}
