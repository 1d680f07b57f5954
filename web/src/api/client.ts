// The one place that talks HTTP to the API: session cookie + CSRF header, and the API's error shape.

/** An error the API (or the network) gave us; `code` is the API's stable code, `field` the input at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    /** The whole error body (e.g. the test report of a key refused on create). */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const API_BASE = "/api/v1";

// The CSRF token lives only in memory: it is fetched again from /auth/me after a reload, so it never
// needs localStorage, where any script on the origin could read it.
let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request comes back 401 (session expired or token revoked): the app shows the login. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

/** Tell the app the session is gone (the live stream learns it from a close code, not a 401). */
export function reportUnauthorized(): void {
  onUnauthorized?.();
}

function isErrorBody(value: unknown): value is { error: { code: string; message: string; field?: string | null } } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === "object" && error !== null && "code" in error && "message" in error;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Do not trigger the global "log in again" handler (the login and session probe handle 401 themselves). */
  quiet401?: boolean;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "network error");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !options.quiet401) onUnauthorized?.();
    if (isErrorBody(data)) {
      throw new ApiError(response.status, data.error.code, data.error.message, data.error.field ?? null, data);
    }
    throw new ApiError(response.status, "http_error", `HTTP ${response.status}`);
  }
  return data as T;
}
