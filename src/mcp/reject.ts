import type { ServerResponse } from 'node:http';

/** A JSON-RPC error as the whole answer, before or outside MCP. */
export function rejectMcp(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}
