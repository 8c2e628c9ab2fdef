// Fetch helpers for the REST API. Errors carry the server's `error`/`field` so the UI can show them.
// Every request carries the access token, if one is set (auth-token.ts); a 401 asks for one.
import type { ApiError } from "../api-types";
import { authHeaders, currentToken, reportUnauthorized } from "./auth-token";

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  const token = currentToken();
  try {
    res = await fetch(path, { signal, headers: { accept: "application/json", ...authHeaders() } });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiRequestError(0, `cannot reach the Flowscope server (${(e as Error).message})`);
  }
  const body = await jsonBody(res, path);
  if (!res.ok) {
    const err = body as Partial<ApiError> | undefined;
    throw refused(res, token, err?.error ?? `HTTP ${res.status}`, err?.field);
  }
  return body as T;
}

export function withParams(path: string, params: URLSearchParams): string {
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

/**
 * Sends a text body (policy YAML) and returns the answer with its status: the policy endpoints answer
 * 400 with a full body (the warnings that say what was wrong), which the caller shows as it is.
 */
export async function sendText<T>(method: "POST" | "PUT", path: string, text: string): Promise<{ status: number; body: T }> {
  let res: Response;
  const token = currentToken();
  try {
    res = await fetch(path, { method, body: text, headers: { accept: "application/json", "content-type": "application/yaml", ...authHeaders() } });
  } catch (e) {
    throw new ApiRequestError(0, `cannot reach the Flowscope server (${(e as Error).message})`);
  }
  const body = await jsonBody(res, path);
  const err = body as Partial<ApiError> | undefined;
  if (!res.ok && typeof err?.error === "string") throw refused(res, token, err.error, err.field);
  return { status: res.status, body: body as T };
}

/** The error for a refused request; a 401 also asks for a token (the prompt shows the server's message). */
function refused(res: Response, sentToken: string | undefined, message: string, field?: string): ApiRequestError {
  if (res.status === 401) reportUnauthorized(message, sentToken);
  return new ApiRequestError(res.status, message, field);
}

/** Whether an error is the server refusing the token: retrying the same request cannot help. */
export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiRequestError && e.status === 401;
}

/**
 * Fetches a download (an export) with the token in the header and hands the browser the bytes as a
 * file. Errors come back as ApiRequestError with the server's message.
 */
export async function downloadWithToken(path: string, filename: string): Promise<void> {
  const token = currentToken();
  let res: Response;
  try {
    res = await fetch(path, { headers: authHeaders() });
  } catch (e) {
    throw new ApiRequestError(0, `cannot reach the Flowscope server (${(e as Error).message})`);
  }
  if (!res.ok) {
    const body = (await jsonBody(res, path).catch(() => undefined)) as Partial<ApiError> | undefined;
    throw refused(res, token, body?.error ?? `HTTP ${res.status}`, body?.field);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function jsonBody(res: Response, path: string): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiRequestError(res.status, `${path}: answer is not JSON (HTTP ${res.status})`);
  }
}
