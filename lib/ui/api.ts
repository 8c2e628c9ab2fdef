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
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiRequestError(res.status, `${path}: answer is not JSON (HTTP ${res.status})`);
  }
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
