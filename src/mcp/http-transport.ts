// Serves an MCP server factory over Streamable HTTP on a port of its own
// (`warden mcp <name> --http`). Before anything reaches MCP: the Host header
// must name this server (DNS rebinding), an Origin header must be an allowed
// one, and the bearer token must match (compared in constant time). Sessions
// (one server each, a cap, idle ones closed) are mcp-sessions.ts's.
// GET /metrics (same token) serves the process's metrics for Prometheus.
// Errors of the HTTP gate (Host, Origin, token, path, method, body) have
// Warden's one error shape; answers about MCP sessions (unknown session,
// initialize first, server full) stay JSON-RPC errors, as the SDK's own
// transport answers the rest of the protocol.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

import { errorBody } from '../error-body.ts';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { McpSessions } from './mcp-sessions.ts';

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

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's request id when it is sane (logs line up across hops), else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

/** An HTTP error before anything reaches MCP, in Warden's one error shape. */
function rejectHttp(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
) {
  const requestId = requestIdOf(req);
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
  res.end(JSON.stringify(errorBody(code, message, requestId)));
}

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
      return rejectHttp(
        req,
        res,
        403,
        'host_not_allowed',
        'the Host header must name this server by its address (a guard against DNS rebinding)',
      );
    const origin = req.headers.origin;
    if (origin !== undefined && !(options.allowedOrigins ?? []).includes(origin))
      return rejectHttp(
        req,
        res,
        403,
        'origin_not_allowed',
        `the Origin ${JSON.stringify(origin)} is not allowed; add it to the allowed origins`,
      );
    if (!tokenMatches(req.headers.authorization, options.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return rejectHttp(
        req,
        res,
        401,
        'unauthorized',
        'authentication required: send "Authorization: Bearer <MCP token>"',
      );
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return rejectHttp(req, res, 405, 'method_not_allowed', `${req.method} /metrics: only GET`);
    }
    if (path === '/metrics') {
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType });
      return void res.end(text);
    }
    if (path !== '/mcp')
      return rejectHttp(
        req,
        res,
        404,
        'route_not_found',
        `no route ${req.method} ${path}: the MCP endpoint is /mcp`,
      );
    if (!['GET', 'POST', 'DELETE'].includes(req.method ?? '')) {
      res.setHeader('allow', 'GET, POST, DELETE');
      return rejectHttp(
        req,
        res,
        405,
        'method_not_allowed',
        `${req.method} /mcp: use POST, GET or DELETE`,
      );
    }
    const body =
      req.method === 'POST' ? await readJson(req, options.bodyLimit ?? 1_048_576) : undefined;
    return sessions.handle(req, res, body);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!(err instanceof UserError)) options.logger.error({ err }, 'MCP HTTP request failed');
      if (res.headersSent) return void res.end();
      if (err instanceof UserError) rejectHttp(req, res, err.status, err.code, err.message);
      else
        rejectHttp(
          req,
          res,
          500,
          'internal_error',
          'an unexpected error occurred; see the server log',
        );
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
