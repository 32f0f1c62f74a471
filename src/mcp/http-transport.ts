// Serves an MCP server factory over Streamable HTTP. Before anything reaches
// MCP: the Host header must name this server (DNS rebinding), an Origin
// header must be an allowed one, and the bearer token must match (compared
// in constant time). Each session gets a new server from the factory; at most
// maxSessions live at once (an initialize beyond gets 503 with a JSON-RPC
// error), and a session idle longer than idleTimeoutMs is closed with its
// transport and server, so abandoned sessions give their memory back.
// GET /metrics (same token) serves the process's metrics for Prometheus.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

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

function reject(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
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
    const sid = req.headers['mcp-session-id'];
    const sessionId = typeof sid === 'string' ? sid : undefined;
    if (req.method === 'POST') {
      const body = await readJson(req, options.bodyLimit ?? 1_048_576);
      if (sessionId) {
        const s = sessions.get(sessionId);
        if (!s) return reject(res, 404, 'Unknown session');
        return use(s, res, () => s.transport.handleRequest(req, res, body));
      }
      if (!isInitializeRequest(body))
        return reject(res, 400, 'Send initialize first, without a session id');
      if (sessions.size + initializing >= maxSessions) {
        // Abandoned sessions past their idle time make room before anyone is refused.
        await sweepIdle();
        if (sessions.size + initializing >= maxSessions) {
          options.logger.warn({ maxSessions }, 'MCP session refused: the server is full');
          res.setHeader('retry-after', String(Math.max(1, Math.ceil(idleTimeoutMs / 1000))));
          return reject(
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
      if (!s) return reject(res, 404, 'Unknown session');
      return use(s, res, () => s.transport.handleRequest(req, res));
    }
    return reject(res, 405, 'Method not allowed');
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
