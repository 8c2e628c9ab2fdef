// Fetch helpers for the REST API. Errors carry the server's `error`/`field` so the UI can show them.
import type { ApiError } from "../api-types";

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
  try {
    res = await fetch(path, { signal, headers: { accept: "application/json" } });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiRequestError(0, `cannot reach the Flowscope server (${(e as Error).message})`);
  }
  const body = await jsonBody(res, path);
  if (!res.ok) {
    const err = body as Partial<ApiError> | undefined;
    throw new ApiRequestError(res.status, err?.error ?? `HTTP ${res.status}`, err?.field);
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
  try {
    res = await fetch(path, { method, body: text, headers: { accept: "application/json", "content-type": "application/yaml" } });
  } catch (e) {
    throw new ApiRequestError(0, `cannot reach the Flowscope server (${(e as Error).message})`);
  }
  const body = await jsonBody(res, path);
  const err = body as Partial<ApiError> | undefined;
  if (!res.ok && typeof err?.error === "string") throw new ApiRequestError(res.status, err.error, err.field);
  return { status: res.status, body: body as T };
}

async function jsonBody(res: Response, path: string): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiRequestError(res.status, `${path}: answer is not JSON (HTTP ${res.status})`);
  }
}
