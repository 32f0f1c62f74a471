// MCP servers over Streamable HTTP: where they listen and who may call them.
import { z } from 'zod';

import { commaList, domain, port, setting } from './setting.ts';

export const mcpDomain = domain('mcp', 'MCP servers over Streamable HTTP (`--http`).', {
  host: setting({
    env: 'WARDEN_MCP_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the MCP HTTP server listens on.',
  }),
  port: setting({
    env: 'WARDEN_MCP_PORT',
    schema: port,
    default: 5679,
    doc: 'Port the MCP HTTP server listens on.',
  }),
  token: setting({
    env: 'WARDEN_MCP_TOKEN',
    schema: z.string().min(24, 'must be at least 24 characters').optional(),
    secret: true,
    doc: 'Bearer token MCP HTTP clients must send. Required for --http.',
  }),
  allowedOrigins: setting({
    env: 'WARDEN_MCP_ALLOWED_ORIGINS',
    schema: commaList(z.string().url()),
    default: [],
    doc: 'Origins allowed to call the MCP HTTP server; requests with any other Origin header get 403.',
  }),
});
