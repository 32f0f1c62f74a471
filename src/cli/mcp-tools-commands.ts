// `warden mcp files` and `warden mcp workflows`: the local files and
// workflows MCP servers, over stdio (default) or Streamable HTTP with
// `--http`, served the way `warden mcp ops` serves.
import type { Writable } from 'node:stream';

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';

import type { Config } from '../config/load.ts';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import { createFilesServer } from '../mcp/files-server.ts';
import { serveMcpHttp } from '../mcp/http-transport.ts';
import { createWorkflowsServer } from '../mcp/workflows-server.ts';
import { cliConfig } from './context.ts';
import { wardenVersion } from '../version.ts';
import { claimStdout, refuseHttpBesideWarden, serveStdio } from './mcp-stdio.ts';

type HttpFlags = { http?: boolean; port?: string; host?: string };
type FilesFlags = HttpFlags & { write?: boolean; readOnly?: boolean };

function setup(flags: HttpFlags): { mcpOut?: Writable; config: Config; logger: Logger } {
  const mcpOut = flags.http ? undefined : claimStdout();
  const config = cliConfig({ WARDEN_MCP_PORT: flags.port, WARDEN_MCP_HOST: flags.host });
  const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
  return { mcpOut, config, logger };
}

/** Serves one server over stdio, or a server per session over HTTP, until the input ends or a signal. */
async function serve(
  what: string,
  flags: HttpFlags,
  ctx: { mcpOut?: Writable; config: Config; logger: Logger },
  createServer: () => McpServer,
  close: () => Promise<void> = async () => {},
): Promise<void> {
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await close().catch(() => {});
    process.exit(code);
  };
  if (!flags.http) {
    const server = createServer();
    const transport = new StdioServerTransport(process.stdin, ctx.mcpOut);
    transport.onclose = () => void shutdown(0);
    process.stdin.on('end', () => void shutdown(0));
    await server.connect(transport);
    return;
  }
  const { mcp } = ctx.config;
  if (!mcp.token) {
    await close();
    throw new UserError(
      'mcp_token_missing',
      '--http needs WARDEN_MCP_TOKEN (24 characters or more)',
    );
  }
  const http = await serveMcpHttp({
    host: mcp.host,
    port: mcp.port,
    token: mcp.token,
    allowedOrigins: mcp.allowedOrigins,
    createServer,
    logger: ctx.logger,
  });
  process.stderr.write(`warden ${what} MCP server on ${http.url}\n`);
  const stop = () => void http.close().finally(() => shutdown(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function runFiles(flags: FilesFlags): Promise<void> {
  if (flags.write && flags.readOnly)
    throw new UserError('invalid_flags', 'give --write or --read-only, not both');
  const ctx = setup(flags);
  const { mcpFiles } = ctx.config;
  if (mcpFiles.roots.length === 0)
    throw new UserError(
      'mcp_files_roots_missing',
      'warden mcp files needs its allowed directories: set WARDEN_MCP_FILES_ROOTS to comma-separated absolute paths',
    );
  const options = {
    roots: mcpFiles.roots,
    write: flags.readOnly ? false : (flags.write ?? mcpFiles.write),
    maxReadBytes: mcpFiles.maxReadBytes,
    version: wardenVersion,
  };
  createFilesServer(options); // checks the roots before serving anything
  await serve('files', flags, ctx, () => createFilesServer(options));
}

async function runWorkflows(flags: HttpFlags): Promise<void> {
  const ctx = setup(flags);
  const open = async () => {
    const { createServices } = await import('../app.ts');
    const services = await createServices(ctx.config, ctx.logger);
    // Without Redis the queue lives in this process: run what run_workflow starts here.
    if (services.engine.queue.kind === 'embedded') {
      await services.engine.startWorker(ctx.config.engine.concurrency);
      services.engine.startSweeper();
    }
    return services;
  };
  if (ctx.mcpOut)
    // Through a running Warden (its workers run what starts); else opened at
    // the first request and kept, since executions it starts run here.
    return serveStdio(
      'workflows',
      ctx.config,
      ctx.mcpOut,
      async () => {
        const services = await open();
        return {
          server: createWorkflowsServer({ engine: services.engine, version: wardenVersion }),
          release: async () => {
            await services.engine.shutdown(ctx.config.server.shutdownTimeoutMs);
            await services.close();
          },
        };
      },
      { idleMs: Infinity },
    );
  await refuseHttpBesideWarden('workflows', ctx.config);
  const services = await open();
  await serve(
    'workflows',
    flags,
    ctx,
    () => createWorkflowsServer({ engine: services.engine, version: wardenVersion }),
    () => services.close(),
  );
}

const httpHelp = 'serve Streamable HTTP (WARDEN_MCP_HOST:WARDEN_MCP_PORT, bearer WARDEN_MCP_TOKEN)';

export function registerMcpToolsCommands(program: Command): void {
  const mcp =
    program.commands.find((c) => c.name() === 'mcp') ??
    program.command('mcp').description('MCP servers (stdio by default)');
  mcp
    .command('files')
    .description(
      'files inside WARDEN_MCP_FILES_ROOTS: read, list, search; write tools only with --write',
    )
    .option('--write', 'register the write tools (WARDEN_MCP_FILES_WRITE)')
    .option('--read-only', 'no write tools, whatever WARDEN_MCP_FILES_WRITE says (the default)')
    .option('--http', httpHelp)
    .option('--port <port>', 'HTTP port (WARDEN_MCP_PORT)')
    .option('--host <host>', 'HTTP listen address (WARDEN_MCP_HOST)')
    .action(runFiles);
  mcp
    .command('workflows')
    .description('workflows: list, read, run manually, follow executions')
    .option('--http', httpHelp)
    .option('--port <port>', 'HTTP port (WARDEN_MCP_PORT)')
    .option('--host <host>', 'HTTP listen address (WARDEN_MCP_HOST)')
    .action(runWorkflows);
}
