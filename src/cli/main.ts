// The `warden` command. Each subcommand parses flags and calls a service;
// errors become one plain line and an exit code by who is at fault.

import { Command } from 'commander';

import { isOperationalError, isUserError } from '../errors.ts';
import { registerAdminCommands } from './admin-commands.ts';
import { registerMonitorCommands } from './monitor-commands.ts';
import { registerIncidentCommands } from './incident-commands.ts';
import { registerMaintenanceCommands } from './maintenance-commands.ts';
import { registerExecCommands } from './exec-commands.ts';
import { registerMcpOpsCommand } from './mcp-ops-command.ts';
import { registerMcpLocalCommands } from './mcp-local-commands.ts';
import { registerMcpToolsCommands } from './mcp-tools-commands.ts';
import { registerDoctorCommand } from './doctor.ts';
import { registerMemoryCommands } from './memory-commands.ts';
import { registerBackupCommands } from './backup-commands.ts';
import { registerHardenCommand } from './harden-command.ts';
import { registerAgentCommand } from './agent-command.ts';
import { registerModelsCommands } from './models-commands.ts';
import { wardenVersion } from '../version.ts';
import { startCommand, workerCommand } from './start.ts';
import { registerWorkflowCommands } from './workflow-commands.ts';

export function buildProgram(): Command {
  const program = new Command('warden')
    .description('Warden: keeps servers healthy with local LLMs')
    .version(wardenVersion, '-v, --version')
    .showHelpAfterError();

  program
    .command('start')
    .description('run Warden: HTTP server (UI, API, webhooks) and its workers')
    .option('--port <port>', 'HTTP port (WARDEN_PORT)')
    .option('--host <host>', 'listen address (WARDEN_HOST)')
    .option(
      '--role <role>',
      'all (HTTP, scheduler and worker) or main (HTTP and scheduler; needs REDIS_URL)',
      'all',
    )
    .action(startCommand);

  program
    .command('worker')
    .description('consume executions from Redis (needs REDIS_URL and DATABASE_URL)')
    .option('--concurrency <n>', 'executions at once (WARDEN_WORKER_CONCURRENCY)')
    .option('--health-port <port>', 'serve /healthz and /readyz on this port')
    .action(workerCommand);

  registerWorkflowCommands(program);

  registerAdminCommands(program);
  registerMonitorCommands(program);
  registerIncidentCommands(program);
  registerMaintenanceCommands(program);
  registerExecCommands(program);
  registerMcpOpsCommand(program);
  registerMcpLocalCommands(program);
  registerMcpToolsCommands(program);
  registerModelsCommands(program);
  registerMemoryCommands(program);
  registerBackupCommands(program);
  registerHardenCommand(program);
  registerAgentCommand(program);
  registerDoctorCommand(program);
  return program;
}

export function exitCodeFor(err: unknown): number {
  if (isUserError(err)) return 2;
  if (isOperationalError(err)) return 3;
  return 1;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (isUserError(err) || isOperationalError(err)) process.stderr.write(`warden: ${err.message}\n`);
  else
    process.stderr.write(
      `warden: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  process.exit(exitCodeFor(err));
}
