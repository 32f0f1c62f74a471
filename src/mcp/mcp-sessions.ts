// MCP sessions over Streamable HTTP, for any HTTP server that hands over
// node's request and response with the JSON body already read: the
// standalone `warden mcp <name> --http` (http-transport.ts) and the main
// process's /mcp/<name> routes. Each session gets a new server from the
// factory; at most maxSessions live at once (an initialize beyond gets 503
// with a JSON-RPC error); a session idle longer than idleTimeoutMs is closed
// with its transport and server, so abandoned sessions give their memory
// back. A session belongs to whoever opened it: another caller naming its id
// is told it does not exist.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

import type { Logger } from '../log.ts';
import { rejectMcp } from './reject.ts';

export type McpSessionsOptions = {
  createServer: () => McpServer;
  logger: Logger;
  /** Most sessions open at once; further initializes get 503. @default 32 */
  maxSessions?: number;
  /** A session with no request for this long is closed (transport and server). @default 600000 */
  idleTimeoutMs?: number;
  now?: () => number;
};

type Session = {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  owner: string;
  lastSeen: number;
  /** Requests (and open GET streams) in progress: a busy session is never idle. */
  active: number;
};

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  // Sessions whose initialize is still being answered: they hold a server already.
  private initializing = 0;
  private readonly maxSessions: number;
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: McpSessionsOptions) {
    this.maxSessions = o.maxSessions ?? 32;
    this.idleTimeoutMs = o.idleTimeoutMs ?? 600_000;
    this.now = o.now ?? Date.now;
    this.sweeper = setInterval(
      () => void this.sweepIdle().catch(() => {}),
      Math.max(50, Math.min(this.idleTimeoutMs / 2, 30_000)),
    );
    this.sweeper.unref();
  }

  /** Sessions open now (initialized or initializing). */
  count(): number {
    return this.sessions.size + this.initializing;
  }

  /** Closes the sessions idle past the timeout now; returns how many. */
  async sweepIdle(): Promise<number> {
    const cutoff = this.now() - this.idleTimeoutMs;
    const idle = [...this.sessions.entries()].filter(
      ([, s]) => s.active === 0 && s.lastSeen <= cutoff,
    );
    for (const [id, s] of idle) {
      this.sessions.delete(id);
      await closeSession(s);
    }
    if (idle.length > 0) this.o.logger.info({ closed: idle.length }, 'closed idle MCP sessions');
    return idle.length;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const open = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of open) await closeSession(s);
  }

  /**
   * Answers one request to the MCP endpoint: POST (body: the parsed JSON),
   * GET (the event stream) or DELETE (end the session). `owner` names the
   * caller; a session answers only the caller that opened it.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    owner = 'anyone',
  ): Promise<void> {
    const sid = req.headers['mcp-session-id'];
    const sessionId = typeof sid === 'string' ? sid : undefined;
    const find = () => {
      const s = sessionId ? this.sessions.get(sessionId) : undefined;
      return s && s.owner === owner ? s : undefined;
    };
    if (req.method === 'POST') {
      if (sessionId) {
        const s = find();
        if (!s) return rejectMcp(res, 404, 'Unknown session');
        return this.use(s, res, () => s.transport.handleRequest(req, res, body));
      }
      if (!isInitializeRequest(body))
        return rejectMcp(res, 400, 'Send initialize first, without a session id');
      return this.open(req, res, body, owner);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      const s = find();
      if (!s) return rejectMcp(res, 404, 'Unknown session');
      return this.use(s, res, () => s.transport.handleRequest(req, res));
    }
    return rejectMcp(res, 405, 'Method not allowed');
  }

  private async open(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    owner: string,
  ): Promise<void> {
    if (this.count() >= this.maxSessions) {
      // Abandoned sessions past their idle time make room before anyone is refused.
      await this.sweepIdle();
      if (this.count() >= this.maxSessions) {
        this.o.logger.warn({ maxSessions: this.maxSessions }, 'MCP session refused: full');
        res.setHeader('retry-after', String(Math.max(1, Math.ceil(this.idleTimeoutMs / 1000))));
        return rejectMcp(
          res,
          503,
          `Too many MCP sessions (the limit is ${this.maxSessions}); close one (DELETE) or retry later`,
        );
      }
    }
    this.initializing++;
    const server = this.o.createServer();
    const session: Session = {
      server,
      owner,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          this.sessions.set(id, session);
        },
      }),
      lastSeen: this.now(),
      active: 0,
    };
    const { transport } = session;
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
      void server.close().catch(() => {});
    };
    try {
      await server.connect(transport);
      await this.use(session, res, () => transport.handleRequest(req, res, body));
    } finally {
      this.initializing--;
      // An initialize that failed leaves no session: free its server at once.
      if (!transport.sessionId || !this.sessions.has(transport.sessionId))
        await closeSession(session);
    }
  }

  // Busy until the response closes: a GET event stream stays open after handleRequest returns.
  private async use(s: Session, res: ServerResponse, run: () => Promise<void>): Promise<void> {
    s.active++;
    s.lastSeen = this.now();
    res.once('close', () => {
      s.active--;
      s.lastSeen = this.now();
    });
    await run();
  }
}

async function closeSession(s: Session): Promise<void> {
  await s.transport.close().catch(() => {});
  await s.server.close().catch(() => {});
}
