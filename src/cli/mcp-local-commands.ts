// `warden mcp memory [--http]` and `warden mcp thinking [--http]`: the
// knowledge-graph and sequential-thinking MCP servers, over stdio (default)
// or Streamable HTTP, both kept in Warden's database. Over stdio beside a
// running Warden they forward to the one it serves.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';

import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { openDb } from '../db/open-db.ts';
import { UserError } from '../errors.ts';
import { serveMcpHttp } from '../mcp/http-transport.ts';
import { createMemoryServer } from '../mcp/memory-server.ts';
import { createThinkingServer } from '../mcp/thinking-server.ts';
import { cliConfig, cliLogger } from './context.ts';
import { wardenVersion } from '../version.ts';
import { claimStdout, forwardToRunningWarden } from './mcp-stdio.ts';

type Flags = { http?: boolean; port?: string; host?: string };

type Factory = (options: { db: Db; version: string }) => McpServer;

async function serveLocal(label: string, factory: Factory, flags: Flags): Promise<void> {
  const mcpOut = flags.http ? undefined : claimStdout();
  const config = cliConfig({ WARDEN_MCP_PORT: flags.port, WARDEN_MCP_HOST: flags.host });
  const logger = cliLogger(config);
  if (flags.http && !config.mcp.token)
    throw new UserError(
      'mcp_token_missing',
      '--http needs WARDEN_MCP_TOKEN (24 characters or more)',
    );
  // Beside a running Warden, its own server answers (the database is its).
  if (await forwardToRunningWarden(label, config, mcpOut)) return;
  const opened = await openDb(config);
  try {
    await migrate(opened.db, {
      onApply: (m) => logger.info({ migration: m.name }, 'applying migration'),
    });
  } catch (err) {
    await opened.close().catch(() => {});
    throw err;
  }
  const create = () => factory({ db: opened.db, version: wardenVersion });
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await opened.close().catch(() => {});
    process.exit(code);
  };

  if (!flags.http) {
    const server = create();
    const transport = new StdioServerTransport(process.stdin, mcpOut);
    transport.onclose = () => void shutdown(0);
    process.stdin.on('end', () => void shutdown(0));
    await server.connect(transport);
    return;
  }
  const http = await serveMcpHttp({
    host: config.mcp.host,
    port: config.mcp.port,
    token: config.mcp.token!,
    allowedOrigins: config.mcp.allowedOrigins,
    createServer: create,
    logger,
  });
  process.stderr.write(`warden ${label} MCP server on ${http.url}\n`);
  const stop = () => void http.close().finally(() => shutdown(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function addLocalServer(mcp: Command, name: string, description: string, factory: Factory): void {
  mcp
    .command(name)
    .description(description)
    .option(
      '--http',
      'serve Streamable HTTP (WARDEN_MCP_HOST:WARDEN_MCP_PORT, bearer WARDEN_MCP_TOKEN)',
    )
    .option('--port <port>', 'HTTP port (WARDEN_MCP_PORT)')
    .option('--host <host>', 'HTTP listen address (WARDEN_MCP_HOST)')
    .action((flags: Flags) => serveLocal(name, factory, flags));
}

export function registerMcpLocalCommands(program: Command): void {
  const mcp =
    program.commands.find((c) => c.name() === 'mcp') ??
    program.command('mcp').description('MCP servers (stdio by default)');
  addLocalServer(
    mcp,
    'memory',
    'the knowledge-graph MCP server: entities, relations and observations kept in the database',
    createMemoryServer,
  );
  addLocalServer(
    mcp,
    'thinking',
    'the sequential-thinking MCP server: thought chains kept in the database',
    createThinkingServer,
  );
}
