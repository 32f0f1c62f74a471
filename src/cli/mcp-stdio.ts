// Shared by the `warden mcp ...` commands that speak MCP over stdio: stdout
// belongs to MCP, and a server whose data a running Warden holds is reached
// through that Warden.
import { Writable } from 'node:stream';

import type { Config } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { bridgeStdioToHttp } from '../mcp/stdio-bridge.ts';
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

/**
 * When a Warden runs on this data directory, serves `name` by forwarding
 * stdio to its /mcp/<name> and answers true; otherwise false (serve it here).
 * With --http there is nothing to forward: the running Warden already serves
 * it over HTTP, and the embedded database is its alone, so that is said.
 */
export async function forwardToRunningWarden(
  name: string,
  config: Config,
  mcpOut: Writable | undefined,
): Promise<boolean> {
  const api = await runningWarden(config);
  if (!api) return false;
  const url = new URL(`/mcp/${name}`, api.control.url).toString();
  if (!mcpOut) {
    if (config.database.url) return false;
    throw new UserError(
      'warden_running',
      `Warden runs on this data directory (pid ${api.control.pid}) and already serves this MCP server at ${url} (bearer: an API key with the operator role; see docs/mcp.md)`,
    );
  }
  await bridgeStdioToHttp({
    url,
    token: api.control.token,
    input: process.stdin,
    output: mcpOut,
    warn: (message) => process.stderr.write(`warden mcp ${name}: ${message}\n`),
    onClose: () => process.exit(0),
  });
  process.stderr.write(`warden mcp ${name}: forwarding to the running Warden at ${url}\n`);
  return true;
}
