// A bare MCP initialize over Streamable HTTP, for tests that speak to an
// endpoint without an MCP client.
export const initializeRequest = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-03-26',
    capabilities: {},
    clientInfo: { name: 'probe', version: '1.0.0' },
  },
};

export const mcpHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
