// The one way the console talks to Warden: same-origin fetch with the session
// cookie, the CSRF token on every write, and errors carrying the API's code
// and message. A 401 tells the session holder, which shows the login form in
// place so the page the person was on survives.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

type Json = Record<string, unknown> | unknown[];

export async function api<T>(
  path: string,
  options: { method?: string; body?: Json; signal?: AbortSignal } = {},
): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): the status alone explains it.
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && !path.endsWith('/auth/login')) onUnauthorized();
    throw new ApiError(
      res.status,
      err?.code ?? 'http_error',
      err?.message ?? `${method} ${path} answered ${res.status}`,
    );
  }
  return data as T;
}

/** Query string from the set values only. */
export function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Every item of a list, following `nextCursor` page by page (for the short
 * lists a form offers in full: node types, credentials, users, keys).
 */
export async function listAll<T>(
  path: string,
  key: string,
  options: { signal?: AbortSignal } = {},
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page: Record<string, unknown> = await api<Record<string, unknown>>(
      `${path}${sep}${qs({ limit: 500, cursor: cursor ?? undefined }).slice(1)}`,
      options,
    );
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = (page.nextCursor as string | null | undefined) ?? null;
  } while (cursor !== null);
  return items;
}
