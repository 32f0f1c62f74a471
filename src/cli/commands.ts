// Which module registers which top-level command, loaded on use: a command
// loads only its own module (`warden workflows list` never loads the HTTP
// server or database drivers it does not need), so the CLI answers fast;
// help, and names not in the table, load them all.

import { Command } from 'commander';

import { wardenVersion } from '../version.ts';
import type { StartOptions, WorkerOptions } from './start.ts';

type Register = (program: Command) => void;

/** Top-level command name -> the modules that register it (in order). */
export const commandModules: Record<string, (() => Promise<Register>)[]> = {};
const lazy = (names: string[], load: () => Promise<Register>) => {
  for (const n of names) (commandModules[n] ??= []).push(load);
};
lazy(['start', 'worker'], async () => registerStartCommands);
lazy(
  ['workflows', 'executions'],
  async () => (await import('./workflow-commands.ts')).registerWorkflowCommands,
);
lazy(
  ['db', 'users', 'apikeys', 'config'],
  async () => (await import('./admin-commands.ts')).registerAdminCommands,
);
lazy(['monitors'], async () => (await import('./monitor-commands.ts')).registerMonitorCommands);
lazy(
  ['incidents', 'alerts'],
  async () => (await import('./incident-commands.ts')).registerIncidentCommands,
);
lazy(
  ['maintenance'],
  async () => (await import('./maintenance-commands.ts')).registerMaintenanceCommands,
);
lazy(['audit', 'actions'], async () => (await import('./exec-commands.ts')).registerExecCommands);
lazy(['mcp'], async () => (await import('./mcp-ops-command.ts')).registerMcpOpsCommand);
lazy(['mcp'], async () => (await import('./mcp-local-commands.ts')).registerMcpLocalCommands);
lazy(['mcp'], async () => (await import('./mcp-tools-commands.ts')).registerMcpToolsCommands);
lazy(['models'], async () => (await import('./models-commands.ts')).registerModelsCommands);
lazy(['memory'], async () => (await import('./memory-commands.ts')).registerMemoryCommands);
lazy(['backup'], async () => (await import('./backup-commands.ts')).registerBackupCommands);
lazy(['harden'], async () => (await import('./harden-command.ts')).registerHardenCommand);
lazy(['agent'], async () => (await import('./agent-command.ts')).registerAgentCommand);
lazy(['doctor'], async () => (await import('./doctor.ts')).registerDoctorCommand);

/**
 * The program with the commands `argv` needs: only the named command's
 * modules when the first argument names one, none for --version, else all.
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('warden')
    .description('Warden: keeps servers healthy with local LLMs')
    .version(wardenVersion, '-v, --version')
    .showHelpAfterError();
  const first = argv[0];
  let loads: (() => Promise<Register>)[];
  if (first !== undefined && Object.hasOwn(commandModules, first))
    loads = commandModules[first] ?? [];
  else if (first === '-v' || first === '--version') loads = [];
  else loads = [...new Set(Object.values(commandModules).flat())];
  for (const register of await Promise.all(loads.map((load) => load()))) register(program);
  return program;
}

function registerStartCommands(program: Command): void {
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
    .action(async (o: StartOptions) => (await import('./start.ts')).startCommand(o));

  program
    .command('worker')
    .description('consume executions from Redis (needs REDIS_URL and DATABASE_URL)')
    .option('--concurrency <n>', 'executions at once (WARDEN_WORKER_CONCURRENCY)')
    .option('--health-port <port>', 'serve /healthz and /readyz on this port')
    .action(async (o: WorkerOptions) => (await import('./start.ts')).workerCommand(o));
}
