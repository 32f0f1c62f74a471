// The remote ops MCP server: what Claude Desktop (over SSH) or a local
// agent may do on this host. Every tool goes through the exec layer (command
// policy, catalogue, sandboxed runner, audit log); no tool can change the
// policy, the catalogue, the config or the audit log, so an agent cannot
// widen its own permissions. Annotations say honestly which tools change
// the host.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { errorMessage } from '../errors.ts';
import type { Caller } from '../exec/audit-log.ts';
import { digest } from '../exec/audit-log.ts';
import type { ExecServices } from '../exec/build-exec.ts';
import type { ExecOutcome } from '../exec/executor.ts';
import { systemResources } from '../exec/executor.ts';
import { queryReadOnly } from '../exec/postgres-readonly.ts';
import { guardTool, readOnly, toolText as text } from './tool-results.ts';

export type OpsServerOptions = {
  exec: ExecServices;
  /** Database query_postgres reads; unset: the tool answers that it is not configured. */
  postgresUrl?: string;
  /** Warden's own database: query_postgres refuses a target that is this database. */
  wardenDatabaseUrl?: string;
  queryRowCap?: number;
  queryTimeoutMs?: number;
  allowedUnits: readonly string[];
  /** Directory whose newest file dates the last backup. */
  backupDir?: string;
  /** Checks Warden's own database for diagnose. */
  pingDatabase?: () => Promise<void>;
  /** How the client reached us, recorded in the audit log: stdio, ssh, http. */
  via: string;
  version: string;
};

function outcome(o: ExecOutcome): CallToolResult {
  if (o.status === 'refused') return text({ refused: true, rule: o.rule, reason: o.reason }, true);
  if (o.status === 'done') return text(o.result);
  return text(
    {
      exitCode: o.exitCode,
      timedOut: o.timedOut,
      truncated: o.truncated,
      stdout: o.stdout,
      stderr: o.stderr,
      ...(o.verify ? { verify: o.verify } : {}),
    },
    o.exitCode !== 0,
  );
}

function lastBackup(dir: string | undefined) {
  if (!dir) return { configured: false };
  try {
    let newest = 0;
    for (const f of readdirSync(dir)) {
      const st = statSync(join(dir, f));
      if (st.isFile() && st.mtimeMs > newest) newest = st.mtimeMs;
    }
    return newest === 0
      ? { configured: true, found: false }
      : {
          configured: true,
          found: true,
          ageHours: Math.round((Date.now() - newest) / 360_000) / 10,
        };
  } catch (err) {
    return { configured: true, error: errorMessage(err) };
  }
}

async function settle<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/**
 * What `systemctl list-units --failed` said. An empty list is an all-clear
 * only when systemctl itself succeeded: when it fails (no systemd, no bus)
 * the report says it could not tell, never "(none)".
 */
export function failedUnitsReport(
  o: ExecOutcome | { error: string },
): string | { unknown: string } | ExecOutcome | { error: string } {
  if ('error' in o || o.status !== 'ran') return o;
  if (o.exitCode !== 0 || o.timedOut) {
    const why = (o.stderr.trim() || o.stdout.trim()).split('\n')[0] ?? '';
    return {
      unknown: `could not tell: systemctl ${o.timedOut ? 'timed out' : `exited ${o.exitCode}`}${why ? `: ${why}` : ''}`,
    };
  }
  return o.stdout.trim() || '(none)';
}

/**
 * Tool names of the stack Warden replaces, kept so configurations written
 * for it keep working: each answers exactly as the tool it names (same
 * handler, so the same catalogue action, gate and audit).
 */
export const legacyToolNames: Readonly<Record<string, string>> = {
  list_containers: 'list_docker_containers',
  container_logs: 'check_docker_logs',
  restart_container: 'restart_docker_container',
  system_resources: 'check_system_resources',
  diagnose: 'diagnose_vps',
};

/**
 * Registers each tool that has a legacy name under that name too. The SDK's
 * registerTool is generic over the input schema; the alias passes the very
 * same config and handler on, so it is called through a plain signature.
 */
function answerLegacyNames(server: McpServer): void {
  type Register = (name: string, config: unknown, cb: unknown) => unknown;
  const register = server.registerTool.bind(server) as unknown as Register;
  const withLegacy: Register = (name, config, cb) => {
    const tool = register(name, config, cb);
    const old = legacyToolNames[name];
    if (old) register(old, config, cb);
    return tool;
  };
  server.registerTool = withLegacy as unknown as McpServer['registerTool'];
}

export function createOpsServer(options: OpsServerOptions): McpServer {
  const { exec } = options;
  const server = new McpServer(
    { name: 'warden-ops', version: options.version },
    {
      instructions:
        'Operations on this host through Warden. Commands never go through a shell; only allowlisted read-only programs run with execute_command; changes go through catalogue actions (list_actions, run_action). Every call is audited.',
    },
  );
  answerLegacyNames(server);
  const caller = (): Caller => ({
    kind: 'mcp',
    id: `${options.via}:${server.server.getClientVersion()?.name ?? 'unknown'}`,
  });
  // Tool handlers answer errors as tool results; only bugs escape.
  const guard = <A>(fn: (args: A, signal: AbortSignal) => Promise<CallToolResult>) =>
    guardTool((args: A, extra: { signal: AbortSignal }) => fn(args, extra.signal));

  server.registerTool(
    'execute_command',
    {
      title: 'Run an allowlisted read-only command',
      description: `Runs one command line without a shell, e.g. "df -h", "free -m", "systemctl status nginx", "journalctl -u nginx -n 50", "docker ps". Allowed programs: ${exec.policy.programs().join(', ')}. Operators, substitutions, redirections, globs and interpreters are refused; a refusal names its rule.`,
      inputSchema: { command: z.string().max(4096).describe('the command line') },
      annotations: readOnly,
    },
    guard(async ({ command }: { command: string }, signal) =>
      outcome(await exec.executor.executeCommand(command, caller(), signal)),
    ),
  );

  server.registerTool(
    'list_containers',
    {
      title: 'List Docker containers',
      description: 'Docker containers on this host, running or not (Docker Engine API).',
      inputSchema: {},
      annotations: readOnly,
    },
    guard(async (_args: Record<string, never>, signal) =>
      outcome(await exec.executor.runAction('docker.list', {}, caller(), signal)),
    ),
  );

  server.registerTool(
    'container_logs',
    {
      title: 'Docker container logs',
      description: 'The last log lines of a Docker container, stdout and stderr separately.',
      inputSchema: {
        container: z.string().max(128).describe('container name or id'),
        lines: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .optional()
          .describe('how many lines (default 100)'),
      },
      annotations: readOnly,
    },
    guard(async ({ container, lines }: { container: string; lines?: number }, signal) =>
      outcome(
        await exec.executor.runAction(
          'docker.logs',
          { container, ...(lines ? { lines } : {}) },
          caller(),
          signal,
        ),
      ),
    ),
  );

  server.registerTool(
    'restart_container',
    {
      title: 'Restart a Docker container',
      description:
        'Restarts a Docker container (interrupts what it is serving) and reports whether it runs again.',
      inputSchema: { container: z.string().max(128).describe('container name or id') },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    guard(async ({ container }: { container: string }, signal) =>
      outcome(await exec.executor.runAction('docker.restart', { container }, caller(), signal)),
    ),
  );

  server.registerTool(
    'system_resources',
    {
      title: 'System resources',
      description: 'CPU count, load averages, memory and root filesystem usage.',
      inputSchema: {},
      annotations: readOnly,
    },
    guard(async (_args: Record<string, never>, signal) =>
      outcome(await exec.executor.runAction('system.resources', {}, caller(), signal)),
    ),
  );

  server.registerTool(
    'diagnose',
    {
      title: 'Diagnose this host',
      description:
        'One overview: allowed services, failed units, disk, memory, load, containers, database reachability and the age of the last backup.',
      inputSchema: {},
      annotations: readOnly,
    },
    guard(async (_args: Record<string, never>, signal) => {
      const who = caller();
      const services: Record<string, string> = {};
      for (const unit of options.allowedUnits) {
        const o = await settle(() => exec.executor.runAction('unit.status', { unit }, who, signal));
        services[unit] =
          'error' in o
            ? `unknown: ${o.error}`
            : o.status === 'ran'
              ? o.exitCode === 0
                ? 'active'
                : `not active (exit ${o.exitCode})`
              : o.status === 'refused'
                ? `refused: ${o.rule}`
                : 'unknown';
      }
      const failed = await settle(() => exec.executor.runAction('units.failed', {}, who, signal));
      const containers = await settle(() => exec.docker.list(true, signal));
      const database = await settle(async () => {
        await options.pingDatabase?.();
        return { reachable: true };
      });
      const report = {
        ...systemResources(),
        services,
        failedUnits: failedUnitsReport(failed),
        containers,
        database,
        lastBackup: lastBackup(options.backupDir),
      };
      await exec.audit.append({
        caller: who,
        operation: 'diagnose',
        input: {},
        decision: 'allowed',
        rule: 'tool.diagnose',
        outputDigest: digest(JSON.stringify(report)),
      });
      return text(report);
    }),
  );

  server.registerTool(
    'query_postgres',
    {
      title: 'Read-only SQL',
      description:
        'Runs one query (SELECT, VALUES, TABLE, WITH of queries, EXPLAIN without ANALYZE) using only built-in read-only functions, inside a READ ONLY transaction that is always rolled back, with a timeout and a row cap (rows past the cap are never fetched).',
      inputSchema: { sql: z.string().max(20_000).describe('one read-only statement') },
      annotations: { ...readOnly, openWorldHint: false },
    },
    guard(async ({ sql }: { sql: string }) => {
      const who = caller();
      if (!options.postgresUrl) {
        await exec.audit.append({
          caller: who,
          operation: 'query_postgres',
          input: sql,
          decision: 'refused',
          rule: 'sql.not_configured',
        });
        return text(
          {
            refused: true,
            rule: 'sql.not_configured',
            reason:
              'query_postgres is off: set WARDEN_OPS_PG_URL to the database to read, as a read-only role (`warden mcp ops --pg-role-sql` prints the SQL that makes one)',
          },
          true,
        );
      }
      const started = Date.now();
      const out = await queryReadOnly(sql, {
        url: options.postgresUrl,
        wardenDatabaseUrl: options.wardenDatabaseUrl,
        rowCap: options.queryRowCap,
        timeoutMs: options.queryTimeoutMs,
      });
      await exec.audit.append({
        caller: who,
        operation: 'query_postgres',
        input: sql,
        decision: out.ok ? 'allowed' : 'refused',
        rule: out.ok ? 'sql.read_only_query' : out.rule,
        durationMs: Date.now() - started,
        outputDigest: digest(JSON.stringify(out)),
      });
      return out.ok ? text(out) : text({ refused: true, rule: out.rule, reason: out.reason }, true);
    }),
  );

  server.registerTool(
    'list_actions',
    {
      title: 'List catalogue actions',
      description: 'The actions run_action can run: name, description, risk and typed parameters.',
      inputSchema: {},
      annotations: readOnly,
    },
    guard(async () => {
      const actions = await exec.catalogue.list();
      return text(
        actions.map((a) => ({
          name: a.name,
          description: a.description,
          risk: a.risk,
          params: a.params,
        })),
      );
    }),
  );

  server.registerTool(
    'run_action',
    {
      title: 'Run a catalogue action',
      description:
        'Runs a named catalogue action with typed parameters (see list_actions). Some actions change the host (risk "change", e.g. unit.restart); "dangerous" ones need a human approval and are refused here.',
      inputSchema: {
        name: z.string().max(64).describe('action name from list_actions'),
        params: z
          .record(z.union([z.string().max(256), z.number()]))
          .optional()
          .describe('parameters by name'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    guard(
      async (
        { name, params }: { name: string; params?: Record<string, string | number> },
        signal,
      ) => outcome(await exec.executor.runAction(name, params ?? {}, caller(), signal)),
    ),
  );

  return server;
}
