// An MCP server over stdio whose answers come from a backend chosen when
// needed: the running Warden's /mcp/<name> when one runs, else a server in
// this process over the database, opened for the work and let go of when
// idle. This is what lets `warden start` and a desktop MCP client share the
// embedded database whichever starts first: a stdio server holds the lock
// only while it is busy (and a few seconds after), and once a Warden runs,
// the next request goes to it.
//
// Messages pass through unchanged, one at a time and in order. A backend
// opened after the client's initialize is initialized with a copy of it (its
// answer kept back), so the client sees one session. A new backend is a new
// server instance (a thinking chain starts afresh); the knowledge graph lives
// in the database and is the same on both sides.
import type { Readable, Writable } from 'node:stream';

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import {
  isInitializeRequest,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
} from '@modelcontextprotocol/sdk/types.js';

import { errorMessage } from '../errors.ts';

/** Where messages go; answers come back through the `deliver` it was opened with. */
export type RelayBackend = {
  kind: 'remote' | 'local';
  send(message: JSONRPCMessage): Promise<void>;
  close(): Promise<void>;
};

type Deliver = (message: JSONRPCMessage) => void;

export type StdioRelayOptions = {
  input: Readable;
  output: Writable;
  /** The running Warden's server, or undefined when none runs. */
  openRemote: (deliver: Deliver) => Promise<RelayBackend | undefined>;
  /** A server in this process over the database. */
  openLocal: (deliver: Deliver) => Promise<RelayBackend>;
  /** A local backend idle this long is closed, freeing the database; Infinity keeps it. @default 5000 */
  idleMs?: number;
  /** Told what happens (stderr). */
  log: (message: string) => void;
  /** Called once, when the stdio client has gone and the backend is closed. */
  onClose: () => void;
};

const replayId = '__warden_relay_initialize__';

/** The running Warden's MCP endpoint as a backend. */
export async function httpBackend(
  url: string,
  token: string,
  deliver: Deliver,
): Promise<RelayBackend> {
  const http = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const initializes = new Set<string | number>();
  http.onmessage = (message) => {
    if (isJSONRPCResponse(message) && initializes.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') http.setProtocolVersion(version);
    }
    deliver(message);
  };
  await http.start();
  return {
    kind: 'remote',
    async send(message) {
      if (isInitializeRequest(message)) initializes.add((message as JSONRPCRequest).id);
      await http.send(message);
    },
    async close() {
      // Ends the session on the server rather than leaving it to the idle timeout.
      await http.terminateSession().catch(() => {});
      await http.close().catch(() => {});
    },
  };
}

/** A server in this process as a backend; `release` frees what it used (the database). */
export async function inProcessBackend(
  server: McpServer,
  deliver: Deliver,
  release: () => Promise<void>,
): Promise<RelayBackend> {
  const [ours, theirs] = InMemoryTransport.createLinkedPair();
  ours.onmessage = (message) => deliver(message);
  await server.connect(theirs);
  await ours.start();
  return {
    kind: 'local',
    send: (message) => ours.send(message),
    async close() {
      await server.close().catch(() => {});
      await release();
    },
  };
}

export async function startStdioRelay(o: StdioRelayOptions): Promise<void> {
  const stdio = new StdioServerTransport(o.input, o.output);
  const idleMs = o.idleMs ?? 5000;
  let backend: RelayBackend | undefined;
  let initialize: JSONRPCRequest | undefined;
  let initialized = false;
  let inFlight = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let replayAnswered: (() => void) | undefined;
  let queue: Promise<void> = Promise.resolve();
  let closed = false;

  const toClient = (message: JSONRPCMessage) =>
    void stdio.send(message).catch((err: unknown) => o.log(errorMessage(err)));

  const drop = async () => {
    const b = backend;
    backend = undefined;
    inFlight = 0;
    clearTimeout(idleTimer);
    if (b) await b.close().catch(() => {});
  };

  const armIdle = () => {
    clearTimeout(idleTimer);
    if (backend?.kind !== 'local' || inFlight > 0 || !Number.isFinite(idleMs)) return;
    idleTimer = setTimeout(() => {
      queue = queue.then(async () => {
        if (backend?.kind !== 'local' || inFlight > 0) return;
        await drop();
        o.log('idle: the database is free again');
      });
    }, idleMs);
    idleTimer.unref();
  };

  const open = async (): Promise<RelayBackend> => {
    // Answers may come before open() returns; they are told apart by this.
    const own: { backend?: RelayBackend } = {};
    const deliver: Deliver = (message) => {
      const answer = isJSONRPCResponse(message) || ('error' in message && 'id' in message);
      if (answer && message.id === replayId) return replayAnswered?.();
      if (answer && own.backend !== undefined && own.backend === backend) {
        inFlight = Math.max(0, inFlight - 1);
        armIdle();
      }
      toClient(message);
    };
    const self = (await o.openRemote(deliver)) ?? (await o.openLocal(deliver));
    own.backend = self;
    o.log(
      self.kind === 'remote'
        ? 'forwarding to the running Warden'
        : 'serving from the database (no Warden running)',
    );
    // A backend opened mid-session is initialized as the client did it.
    if (initialize) {
      const answered = new Promise<void>((resolve) => (replayAnswered = resolve));
      await self.send({ ...initialize, id: replayId });
      await answered;
      replayAnswered = undefined;
      if (initialized) await self.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }
    return self;
  };

  const handle = async (message: JSONRPCMessage) => {
    const request = isJSONRPCRequest(message) ? message : undefined;
    if (isInitializeRequest(message)) {
      // A new session from the client: a fresh backend, nothing to replay.
      initialize = undefined;
      initialized = false;
      await drop();
    }
    // Twice at most: a Warden that went away (a restart) gets one retry on
    // whatever runs now.
    for (let attempt = 1; ; attempt++) {
      try {
        backend ??= await open();
        clearTimeout(idleTimer);
        if (request) inFlight++;
        await backend.send(message);
        break;
      } catch (err) {
        await drop();
        if (attempt < 2) continue;
        if (request)
          toClient({
            jsonrpc: '2.0',
            id: request.id,
            error: { code: -32603, message: `could not serve this: ${errorMessage(err)}` },
          });
        else o.log(errorMessage(err));
        return;
      }
    }
    if (isInitializeRequest(message)) initialize = message as JSONRPCRequest;
    if (isJSONRPCNotification(message) && message.method === 'notifications/initialized')
      initialized = true;
    armIdle();
  };

  stdio.onmessage = (message) => {
    queue = queue.then(() => handle(message));
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    await queue.catch(() => {});
    await drop();
    o.onClose();
  };
  stdio.onclose = () => void close();
  o.input.once('end', () => void close());
  await stdio.start();
}
