// Serves an MCP server factory over Streamable HTTP. Before anything reaches
// MCP: the Host header must name this server (DNS rebinding), an Origin
// header must be an allowed one, and the bearer token must match (compared
// in constant time). Each session gets a new server from the factory.
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
};

export type McpHttpServer = { url: string; close(): Promise<void> };

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
  const sessions = new Map<
    string,
    { transport: StreamableHTTPServerTransport; server: McpServer }
  >();
  let allowedHosts = new Set<string>();
  const metrics = options.metrics ?? new MetricsRegistry({ role: 'mcp' });

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
        return s.transport.handleRequest(req, res, body);
      }
      if (!isInitializeRequest(body))
        return reject(res, 400, 'Send initialize first, without a session id');
      const server = options.createServer();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        void server.close();
      };
      await server.connect(transport);
      return transport.handleRequest(req, res, body);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      const s = sessionId ? sessions.get(sessionId) : undefined;
      if (!s) return reject(res, 404, 'Unknown session');
      return s.transport.handleRequest(req, res);
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
  return {
    url: `http://${shown}:${port}/mcp`,
    async close() {
      for (const s of sessions.values()) await s.transport.close().catch(() => {});
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
