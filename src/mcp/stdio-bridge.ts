// `warden mcp <name>` over stdio when a Warden already runs on the data
// directory: the messages of the stdio client (Claude Desktop) are passed
// to the main process's /mcp/<name> over Streamable HTTP and its answers
// back, unchanged, so the tools work on the running process's database
// instead of fighting it for the embedded database's lock. One stdio client
// is one HTTP session (one server instance: a thinking chain per client).
import type { Readable, Writable } from 'node:stream';

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isJSONRPCRequest, isJSONRPCResponse } from '@modelcontextprotocol/sdk/types.js';

import { errorMessage } from '../errors.ts';

export type StdioBridgeOptions = {
  /** The server's MCP endpoint, e.g. http://127.0.0.1:5678/mcp/memory. */
  url: string;
  /** Bearer token the endpoint takes. */
  token: string;
  input: Readable;
  output: Writable;
  /** Told what went wrong on the HTTP side (stderr). */
  warn: (message: string) => void;
  /** Called once, when the stdio client has gone and the session is ended. */
  onClose: () => void;
};

/** Starts passing messages both ways; resolves once both sides are open. */
export async function bridgeStdioToHttp(o: StdioBridgeOptions): Promise<void> {
  const http = new StreamableHTTPClientTransport(new URL(o.url), {
    requestInit: { headers: { authorization: `Bearer ${o.token}` } },
  });
  const stdio = new StdioServerTransport(o.input, o.output);
  // Requests sent upstream and not yet answered: the initialize among them
  // tells the HTTP side which protocol version to announce afterwards.
  const pending = new Map<string | number, string>();

  http.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResponse(message)) {
      const method = pending.get(message.id);
      pending.delete(message.id);
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (method === 'initialize' && typeof version === 'string') http.setProtocolVersion(version);
    } else if ('id' in message && message.id !== undefined && !isJSONRPCRequest(message))
      pending.delete(message.id);
    void stdio.send(message).catch((err: unknown) => o.warn(errorMessage(err)));
  };
  http.onerror = (err) => o.warn(`MCP over HTTP: ${err.message}`);

  stdio.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message)) pending.set(message.id, message.method);
    http.send(message).catch((err: unknown) => {
      // A request that could not be delivered is answered, so the client does not wait forever.
      if (!isJSONRPCRequest(message)) return o.warn(errorMessage(err));
      pending.delete(message.id);
      void stdio.send({
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: -32603,
          message: `the running Warden did not take it: ${errorMessage(err)}`,
        },
      });
    });
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await http.terminateSession().catch(() => {});
    await http.close().catch(() => {});
    o.onClose();
  };
  stdio.onclose = () => void close();
  o.input.once('end', () => void close());

  await http.start();
  await stdio.start();
}
