// Shared by the `warden mcp ...` commands that speak MCP over stdio: stdout
// belongs to MCP, and a server whose data a running Warden holds is reached
// through that Warden.
import { Writable } from 'node:stream';

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

import type { Config } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { httpBackend, inProcessBackend, startStdioRelay } from '../mcp/stdio-relay.ts';
import { runningWarden } from './api-client.ts';

// Over stdio, stdout belongs to MCP. Anything else that writes there (a
// stray console.log, a dependency) goes to stderr instead.
export function claimStdout(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  const mcp = new Writable({
    write(chunk: Buffer, _enc, cb) {
      write(chunk, (err) => cb(err ?? null));
    },
  });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  console.log = console.error;
  console.info = console.error;
  return mcp;
}

/** What a stdio server opens in this process when no Warden runs. */
export type LocalServer = { server: McpServer; release: () => Promise<void> };

/**
 * Serves `name` over stdio: through the running Warden's /mcp/<name> when
 * one runs on this data directory, else from `openLocal` (opened on the
 * first request, let go of after `idleMs` idle, so `warden start` can take
 * the database).
 */
export async function serveStdio(
  name: string,
  config: Config,
  mcpOut: Writable,
  openLocal: () => Promise<LocalServer>,
  options: { idleMs?: number } = {},
): Promise<void> {
  const log = (message: string) => process.stderr.write(`warden mcp ${name}: ${message}\n`);
  await startStdioRelay({
    input: process.stdin,
    output: mcpOut,
    ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
    openRemote: async (deliver) => {
      const api = await runningWarden(config);
      if (!api) return undefined;
      const url = new URL(`/mcp/${name}`, api.control.url).toString();
      return httpBackend(url, api.control.token, deliver);
    },
    openLocal: async (deliver) => {
      const local = await openLocal();
      return inProcessBackend(local.server, deliver, local.release);
    },
    log,
    onClose: () => process.exit(0),
  });
}

/**
 * With --http beside a running Warden on the embedded database there is
 * nothing to serve: that Warden already serves it over HTTP, and the
 * database is its alone. Says so instead of failing on the lock.
 */
export async function refuseHttpBesideWarden(name: string, config: Config): Promise<void> {
  if (config.database.url) return;
  const api = await runningWarden(config);
  if (!api) return;
  const url = new URL(`/mcp/${name}`, api.control.url).toString();
  throw new UserError(
    'warden_running',
    `Warden runs on this data directory (pid ${api.control.pid}) and already serves this MCP server at ${url} (bearer: an API key with the operator role; see docs/mcp.md)`,
  );
}
