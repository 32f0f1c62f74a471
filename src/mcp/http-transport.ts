// Serves an MCP server factory over Streamable HTTP. Before anything reaches
// MCP: the Host header must name this server (DNS rebinding), an Origin
// header must be an allowed one, and the bearer token must match (compared
// in constant time). Each session gets a new server from the factory; at most
// maxSessions live at once (an initialize beyond gets 503 with a JSON-RPC
// error), and a session idle longer than idleTimeoutMs is closed with its
// transport and server, so abandoned sessions give their memory back.
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
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

import { errorBody } from '../error-body.ts';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MetricsRegistry } from '../metrics/registry.ts';

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

type Session = {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** Requests (and open GET streams) in progress: a busy session is never idle. */
  active: number;
};

/** An MCP session answer: a JSON-RPC error, which MCP clients read. */
function rejectRpc(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

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
      throw new UserError('body_too_large', `the request body is larger than ${limit} bytes`, {
        status: 413,
      });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new UserError('invalid_json', 'the request body is not JSON: send one JSON-RPC message');
  }
}

export async function serveMcpHttp(options: McpHttpOptions): Promise<McpHttpServer> {
  if (options.token.length < 24)
    throw new UserError('mcp_token_missing', 'the MCP HTTP token must have at least 24 characters');
  const host = options.host ?? '127.0.0.1';
  const maxSessions = options.maxSessions ?? 32;
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  // Sessions whose initialize is still being answered: they hold a server already.
  let initializing = 0;
  let allowedHosts = new Set<string>();
  const metrics = options.metrics ?? new MetricsRegistry({ role: 'mcp' });

  const closeSession = async (s: Session) => {
    await s.transport.close().catch(() => {});
    await s.server.close().catch(() => {});
  };

  // Busy until the response closes: a GET event stream stays open after handleRequest returns.
  const use = async (s: Session, res: ServerResponse, run: () => Promise<void>) => {
    s.active++;
    s.lastSeen = now();
    res.once('close', () => {
      s.active--;
      s.lastSeen = now();
    });
    await run();
  };

  const sweepIdle = async (): Promise<number> => {
    const cutoff = now() - idleTimeoutMs;
    const idle = [...sessions.entries()].filter(([, s]) => s.active === 0 && s.lastSeen <= cutoff);
    for (const [id, s] of idle) {
      sessions.delete(id);
      await closeSession(s);
    }
    if (idle.length > 0) options.logger.info({ closed: idle.length }, 'closed idle MCP sessions');
    return idle.length;
  };

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
    const sid = req.headers['mcp-session-id'];
    const sessionId = typeof sid === 'string' ? sid : undefined;
    if (req.method === 'POST') {
      const body = await readJson(req, options.bodyLimit ?? 1_048_576);
      if (sessionId) {
        const s = sessions.get(sessionId);
        if (!s) return rejectRpc(res, 404, 'Unknown session');
        return use(s, res, () => s.transport.handleRequest(req, res, body));
      }
      if (!isInitializeRequest(body))
        return rejectRpc(res, 400, 'Send initialize first, without a session id');
      if (sessions.size + initializing >= maxSessions) {
        // Abandoned sessions past their idle time make room before anyone is refused.
        await sweepIdle();
        if (sessions.size + initializing >= maxSessions) {
          options.logger.warn({ maxSessions }, 'MCP session refused: the server is full');
          res.setHeader('retry-after', String(Math.max(1, Math.ceil(idleTimeoutMs / 1000))));
          return rejectRpc(
            res,
            503,
            `Too many MCP sessions (the limit is ${maxSessions}); close one (DELETE /mcp) or retry later`,
          );
        }
      }
      initializing++;
      const server = options.createServer();
      const session: Session = {
        server,
        transport: new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            sessions.set(id, session);
          },
        }),
        lastSeen: now(),
        active: 0,
      };
      const { transport } = session;
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        void server.close().catch(() => {});
      };
      try {
        await server.connect(transport);
        await use(session, res, () => transport.handleRequest(req, res, body));
      } finally {
        initializing--;
        // An initialize that failed leaves no session: free its server at once.
        if (!transport.sessionId || !sessions.has(transport.sessionId)) await closeSession(session);
      }
      return;
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      const s = sessionId ? sessions.get(sessionId) : undefined;
      if (!s) return rejectRpc(res, 404, 'Unknown session');
      return use(s, res, () => s.transport.handleRequest(req, res));
    }
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
  const sweeper = setInterval(
    () => void sweepIdle().catch(() => {}),
    Math.max(50, Math.min(idleTimeoutMs / 2, 30_000)),
  );
  sweeper.unref();
  return {
    url: `http://${shown}:${port}/mcp`,
    sessionCount: () => sessions.size + initializing,
    sweepIdle,
    async close() {
      clearInterval(sweeper);
      const open = [...sessions.values()];
      sessions.clear();
      for (const s of open) await closeSession(s);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
