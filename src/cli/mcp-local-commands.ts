// `warden mcp memory [--http]` and `warden mcp thinking [--http]`: the
// knowledge-graph and sequential-thinking MCP servers, over stdio (default)
// or Streamable HTTP, both kept in Warden's database. Over stdio they
// forward to a running Warden's, or open the database only while there is
// work (mcp-stdio.ts), so `warden start` can run beside them.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Command } from 'commander';

import type { Config } from '../config/load.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';
import { migrate } from '../db/migrate.ts';
import { openDb } from '../db/open-db.ts';
import { UserError } from '../errors.ts';
import { serveMcpHttp } from '../mcp/http-transport.ts';
import { createMemoryServer } from '../mcp/memory-server.ts';
import { createThinkingServer } from '../mcp/thinking-server.ts';
import { cliConfig, cliLogger } from './context.ts';
import { wardenVersion } from '../version.ts';
import { claimStdout, refuseHttpBesideWarden, serveStdio } from './mcp-stdio.ts';

type Flags = { http?: boolean; port?: string; host?: string };

type Factory = (options: { db: Db; version: string }) => McpServer;

/** A stdio server opens the database for its work and lets go of it after this long idle. */
const stdioIdleMs = 10_000;

async function openMigrated(config: Config, logger: Logger) {
  const opened = await openDb(config);
  try {
    await migrate(opened.db, {
      onApply: (m) => logger.info({ migration: m.name }, 'applying migration'),
    });
  } catch (err) {
    await opened.close().catch(() => {});
    throw err;
  }
  return opened;
}

async function serveLocal(label: string, factory: Factory, flags: Flags): Promise<void> {
  const mcpOut = flags.http ? undefined : claimStdout();
  const config = cliConfig({ WARDEN_MCP_PORT: flags.port, WARDEN_MCP_HOST: flags.host });
  const logger = cliLogger(config);
  if (mcpOut) {
    // Through a running Warden, or the database only while there is work.
    return serveStdio(
      label,
      config,
      mcpOut,
      async () => {
        const opened = await openMigrated(config, logger);
        return {
          server: factory({ db: opened.db, version: wardenVersion }),
          release: () => opened.close(),
        };
      },
      { idleMs: stdioIdleMs },
    );
  }
  if (!config.mcp.token)
    throw new UserError(
      'mcp_token_missing',
      '--http needs WARDEN_MCP_TOKEN (24 characters or more)',
    );
  await refuseHttpBesideWarden(label, config);
  const opened = await openMigrated(config, logger);
  const http = await serveMcpHttp({
    host: config.mcp.host,
    port: config.mcp.port,
    token: config.mcp.token,
    allowedOrigins: config.mcp.allowedOrigins,
    createServer: () => factory({ db: opened.db, version: wardenVersion }),
    logger,
  });
  process.stderr.write(`warden ${label} MCP server on ${http.url}\n`);
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void http
      .close()
      .then(() => opened.close())
      .catch(() => {})
      .finally(() => process.exit(0));
  };
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
