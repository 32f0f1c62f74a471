// Serves an MCP server factory over Streamable HTTP on a port of its own
// (`warden mcp <name> --http`). Before anything reaches MCP: the Host header
// must name this server (DNS rebinding), an Origin header must be an allowed
// one, and the bearer token must match (compared in constant time). Sessions
// (one server each, a cap, idle ones closed) are mcp-sessions.ts's.
// GET /metrics (same token) serves the process's metrics for Prometheus.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { McpSessions, rejectMcp as reject } from './mcp-sessions.ts';

export type McpHttpOptions = {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token clients must send; at least 24 characters. */
  token: string;
  /** Origins allowed in an Origin header. @default [] */
  allowedOrigins?: readonly string[];
  createServer: () => McpServer;
  logger: Logger;
  /** Largest request body, in bytes. @default 1 MiB */
  bodyLimit?: number;
  /** Most sessions open at once; further initializes get 503. @default 32 */
  maxSessions?: number;
  /** Served at GET /metrics. @default the process, event-loop and build metrics of an `mcp` process */
  metrics?: MetricsRegistry;
  /** A session with no request for this long is closed (transport and server). @default 600000 */
  idleTimeoutMs?: number;
  now?: () => number;
};

export type McpHttpServer = {
  url: string;
  /** Sessions open now (initialized or initializing). */
  sessionCount(): number;
  /** Closes the sessions idle past the timeout now (the timer does it on its own too); returns how many. */
  sweepIdle(): Promise<number>;
  close(): Promise<void>;
};

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new UserError('body_too_large', 'request body too large', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new UserError('invalid_json', 'request body is not JSON');
  }
}

export async function serveMcpHttp(options: McpHttpOptions): Promise<McpHttpServer> {
  if (options.token.length < 24)
    throw new UserError('mcp_token_missing', 'the MCP HTTP token must have at least 24 characters');
  const host = options.host ?? '127.0.0.1';
  let allowedHosts = new Set<string>();
  const metrics = options.metrics ?? new MetricsRegistry({ role: 'mcp' });
  const sessions = new McpSessions({
    createServer: options.createServer,
    logger: options.logger,
    ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase()))
      return reject(res, 403, 'Host not allowed');
    const origin = req.headers.origin;
    if (origin !== undefined && !(options.allowedOrigins ?? []).includes(origin))
      return reject(res, 403, 'Origin not allowed');
    if (!tokenMatches(req.headers.authorization, options.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return reject(res, 401, 'Unauthorized');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && req.method === 'GET') {
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType });
      return void res.end(text);
    }
    if (path !== '/mcp') return reject(res, 404, 'Not found: the MCP endpoint is /mcp');
    const body =
      req.method === 'POST' ? await readJson(req, options.bodyLimit ?? 1_048_576) : undefined;
    return sessions.handle(req, res, body);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof UserError ? err.status : 500;
      if (status === 500) options.logger.error({ err }, 'MCP HTTP request failed');
      if (!res.headersSent)
        reject(res, status, err instanceof UserError ? err.message : 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, rejectListen) => {
    http.once('error', rejectListen);
    http.listen(options.port, host, resolve);
  });
  const port = (http.address() as AddressInfo).port;
  const names = new Set([
    '127.0.0.1',
    'localhost',
    '[::1]',
    host.includes(':') ? `[${host}]` : host,
  ]);
  allowedHosts = new Set([...names].map((n) => `${n}:${port}`.toLowerCase()));
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/mcp`,
    sessionCount: () => sessions.count(),
    sweepIdle: () => sessions.sweepIdle(),
    async close() {
      await sessions.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
