// `warden mcp ops [--http] [--authorized-keys-line <public key file>]
// [--pg-role-sql [role]]`: the remote ops MCP server over stdio (what an SSH
// forced command starts), or Streamable HTTP; or the authorized_keys line
// that lets one key start it and nothing else; or the SQL that makes the
// read-only role query_postgres connects as.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';

import { createServices } from '../app.ts';
import { UserError } from '../errors.ts';
import { queryRoleSql } from '../exec/pg-query-role.ts';
import { createLogger } from '../log.ts';
import { serveMcpHttp } from '../mcp/http-transport.ts';
import type { OpsServerOptions } from '../mcp/ops-server.ts';
import { createOpsServer } from '../mcp/ops-server.ts';
import { wardenVersion } from '../version.ts';
import { cliConfig } from './context.ts';
import { claimStdout } from './mcp-stdio.ts';
import { printLine } from './output.ts';

type OpsFlags = {
  http?: boolean;
  authorizedKeysLine?: string;
  pgRoleSql?: string | boolean;
  cwd?: string;
  port?: string;
  host?: string;
  maxSessions?: string;
  idleTimeout?: string;
};

const mapSeconds = (s: number | undefined) => (s === undefined ? undefined : s * 1000);

/** A whole number of at least `min` from a flag, or undefined when the flag is absent. */
function countFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(
      'invalid_flag',
      `${flag} takes a whole number of at least ${min}; got "${value}"`,
    );
  return n;
}

const keyLine =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,3})(?: ([\x20-\x7e]*))?$/;
const plainPath = /^\/[A-Za-z0-9._/@+-]+$/;

/** The authorized_keys line that lets `publicKey` start the ops server and do nothing else. */
export function authorizedKeysLine(publicKey: string, cwd: string): string {
  const m = keyLine.exec(publicKey.trim());
  if (!m || publicKey.trim().includes('\n'))
    throw new UserError(
      'invalid_public_key',
      'expected one OpenSSH public key line (ssh-ed25519 AAAA... comment)',
    );
  const node = process.execPath;
  const warden = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
  for (const p of [cwd, node, warden])
    if (!plainPath.test(p))
      throw new UserError(
        'unsafe_path',
        `${p}: the forced command takes absolute paths of plain characters only`,
      );
  const comment = (m[3] ?? '').replace(/[^A-Za-z0-9@._+-]/g, '_');
  const command = `cd ${cwd} && exec ${node} ${warden} mcp ops`;
  return `command="${command}",restrict ${m[1]} ${m[2]}${comment ? ` ${comment}` : ''}`;
}

async function runOps(flags: OpsFlags): Promise<void> {
  if (flags.pgRoleSql) {
    const config = cliConfig({});
    process.stdout.write(
      queryRoleSql({
        role: typeof flags.pgRoleSql === 'string' ? flags.pgRoleSql : undefined,
        timeoutMs: config.exec.queryTimeoutMs,
      }),
    );
    return;
  }
  if (flags.authorizedKeysLine) {
    const key = readFileSync(flags.authorizedKeysLine, 'utf8');
    printLine(authorizedKeysLine(key, resolve(flags.cwd ?? process.cwd())));
    return;
  }
  const mcpOut = flags.http ? undefined : claimStdout();
  const config = cliConfig({ WARDEN_MCP_PORT: flags.port, WARDEN_MCP_HOST: flags.host });
  const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
  const services = await createServices(config, logger);
  const base: Omit<OpsServerOptions, 'via'> = {
    exec: services.exec,
    postgresUrl: config.exec.postgresUrl,
    wardenDatabaseUrl: config.database.url,
    queryRowCap: config.exec.queryRowCap,
    queryTimeoutMs: config.exec.queryTimeoutMs,
    allowedUnits: config.exec.allowedUnits,
    backupDir: config.exec.backupDir,
    pingDatabase: async () => {
      await services.db.query('SELECT 1');
    },
    version: wardenVersion,
  };
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await services.close().catch(() => {});
    process.exit(code);
  };

  if (!flags.http) {
    const server = createOpsServer({ ...base, via: process.env.SSH_CONNECTION ? 'ssh' : 'stdio' });
    const transport = new StdioServerTransport(process.stdin, mcpOut);
    transport.onclose = () => void shutdown(0);
    process.stdin.on('end', () => void shutdown(0));
    await server.connect(transport);
    return;
  }
  if (!config.mcp.token) {
    await services.close();
    throw new UserError(
      'mcp_token_missing',
      '--http needs WARDEN_MCP_TOKEN (24 characters or more)',
    );
  }
  const http = await serveMcpHttp({
    host: config.mcp.host,
    port: config.mcp.port,
    token: config.mcp.token,
    allowedOrigins: config.mcp.allowedOrigins,
    createServer: () => createOpsServer({ ...base, via: 'http' }),
    logger,
    maxSessions: countFlag(flags.maxSessions, '--max-sessions', 1),
    idleTimeoutMs: mapSeconds(countFlag(flags.idleTimeout, '--idle-timeout', 1)),
  });
  process.stderr.write(`warden ops MCP server on ${http.url}\n`);
  const stop = () => void http.close().finally(() => shutdown(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export function registerMcpOpsCommand(program: Command): void {
  const mcp =
    program.commands.find((c) => c.name() === 'mcp') ??
    program.command('mcp').description('MCP servers (stdio by default)');
  mcp
    .command('ops')
    .description(
      'the remote ops MCP server: safe commands, catalogue actions, containers, read-only SQL',
    )
    .option(
      '--http',
      'serve Streamable HTTP (WARDEN_MCP_HOST:WARDEN_MCP_PORT, bearer WARDEN_MCP_TOKEN)',
    )
    .option('--port <port>', 'HTTP port (WARDEN_MCP_PORT)')
    .option('--host <host>', 'HTTP listen address (WARDEN_MCP_HOST)')
    .option('--max-sessions <n>', 'HTTP sessions open at once; more get 503 (default 32)')
    .option(
      '--idle-timeout <seconds>',
      'close an HTTP session after this long without a request (default 600)',
    )
    .option(
      '--authorized-keys-line <file>',
      'print an authorized_keys line restricting this public key to the ops server',
    )
    .option(
      '--pg-role-sql [role]',
      'print the SQL that makes the read-only PostgreSQL role query_postgres connects as (default warden_query)',
    )
    .option('--cwd <dir>', 'directory the forced command starts in (holds warden.yaml / .env)')
    .action(runOps);
}
