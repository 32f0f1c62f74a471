// The CLI as a client of a running Warden, the way `docker` talks to
// `dockerd`. The embedded database belongs to one process, so while
// `warden start` runs, commands go through its HTTP API instead of opening
// the database. The main process writes `control.json` in the data directory
// (owner-only, 0600): its loopback URL, its pid and a random token valid for
// that process's life. A command finds the file, checks that the process is
// alive and answers /healthz, then calls the API with the token; with no
// live server it opens the database itself, as before.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { z } from 'zod';

import type { Services } from '../app.ts';
import type { Config } from '../config/load.ts';
import { OperationalError, UserError } from '../errors.ts';
import { cliConfig, withServices } from './context.ts';

const controlFileName = 'control.json';

const controlSchema = z.object({
  url: z.string().url(),
  token: z.string().min(32),
  pid: z.number().int().positive(),
});
export type LocalControl = z.infer<typeof controlSchema>;

export function controlFilePath(config: Config): string {
  return join(resolve(config.database.dataDir), controlFileName);
}

/** A fresh control token: 32 random bytes, base64url. */
export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The URL a local client reaches a server listening on host:port by. */
export function loopbackUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** Writes control.json readable only by the owner, atomically (rename). */
export function writeControlFile(config: Config, control: LocalControl): string {
  const path = controlFilePath(config);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(control)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** Removes control.json if it is still this process's (another may have replaced it). */
export function removeControlFile(config: Config, token: string): void {
  const path = controlFilePath(config);
  if (readControlFile(path)?.token === token) rmSync(path, { force: true });
}

function readControlFile(path: string): LocalControl | undefined {
  try {
    const parsed = controlSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type ErrorBody = { error?: { code?: string; message?: string } };
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | boolean | undefined>;

/** A thin JSON client for the running Warden's /api/v1, with the control token. */
export class ApiClient {
  constructor(readonly control: LocalControl) {}

  async request<T>(
    method: Method,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const text = await this.send(method, path, options);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The answer's body as text (YAML exports). */
  text(path: string, options: { query?: Query } = {}): Promise<string> {
    return this.send('GET', path, options);
  }

  /**
   * Every item of a list route, following `nextCursor` page by page (a route
   * that answers without one is a single page).
   */
  async listAll<T>(path: string, key: string, query: Query = {}): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.request<Record<string, unknown>>('GET', path, {
        query: { limit: 500, ...query, ...(cursor === undefined ? {} : { cursor }) },
      });
      out.push(...((page[key] as T[] | undefined) ?? []));
      const next = page.nextCursor;
      if (typeof next !== 'string' || next === '' || next === cursor) return out;
      cursor = next;
    }
  }

  private async send(
    method: Method,
    path: string,
    options: { query?: Query; body?: unknown },
  ): Promise<string> {
    const url = new URL(path, this.control.url);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.control.token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (err) {
      throw new OperationalError(
        'warden_unreachable',
        `the running Warden at ${this.control.url} did not answer: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const text = await res.text();
    if (res.ok) return text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const e = (body as ErrorBody | undefined)?.error;
    const message = e?.message ?? `${method} ${path} answered ${res.status}`;
    if (res.status < 500)
      throw new UserError(e?.code ?? 'request_failed', message, { status: res.status });
    throw new OperationalError(e?.code ?? 'server_error', message);
  }
}

/**
 * A client for the Warden running on this data directory, or undefined when
 * none runs (no control file, a dead pid, or no answer on /healthz).
 */
export async function runningWarden(config: Config = cliConfig()): Promise<ApiClient | undefined> {
  const control = readControlFile(controlFilePath(config));
  if (!control || !alive(control.pid)) return undefined;
  try {
    const res = await fetch(new URL('/healthz', control.url), {
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return undefined;
  } catch {
    return undefined;
  }
  return new ApiClient(control);
}

/**
 * Runs `remote` against the running Warden when there is one, else `local`
 * with services opened on the database for this command.
 */
export async function viaApiOr<T>(
  remote: (api: ApiClient) => Promise<T>,
  local: (services: Services) => Promise<T>,
): Promise<T> {
  const api = await runningWarden();
  return api ? remote(api) : withServices(local);
}

/**
 * Refuses, clearly, a command that must not run while a Warden runs on this
 * data directory (it replaces the data under that process).
 */
export async function refuseBesideWarden(
  what: string,
  config: Config = cliConfig(),
): Promise<void> {
  const api = await runningWarden(config);
  if (api)
    throw new UserError(
      'warden_running',
      `${what} cannot run while Warden runs on this data directory (pid ${api.control.pid}, ${api.control.url}): stop it first`,
    );
}
