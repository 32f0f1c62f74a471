// The actions every Warden ships with. Units, supervisord programs and log
// directories come from config (exec.allowedUnits, exec.allowedLogDirs),
// so these templates stay fixed while what they may touch is the admin's.
import type { ActionDefinition } from './action-catalogue.ts';
import { actionSchema } from './action-catalogue.ts';

const lines = {
  type: 'integer',
  min: 1,
  max: 1000,
  default: 100,
  description: 'how many lines',
} as const;

const definitions: unknown[] = [
  {
    name: 'system.resources',
    description: 'CPU count, load averages, memory and disk usage of the root filesystem.',
    risk: 'read',
    builtin: 'system.resources',
  },
  {
    name: 'disk.usage',
    description: 'Disk usage per filesystem (df -h).',
    risk: 'read',
    argv: ['df', '-h'],
  },
  {
    name: 'disk.inodes',
    description: 'Inode usage per filesystem (df -i).',
    risk: 'read',
    argv: ['df', '-i'],
  },
  {
    name: 'memory.usage',
    description: 'Memory and swap in MiB (free -m).',
    risk: 'read',
    argv: ['free', '-m'],
  },
  {
    name: 'load.average',
    description: 'Uptime and load averages.',
    risk: 'read',
    argv: ['uptime'],
  },
  {
    name: 'units.failed',
    description: 'systemd units in the failed state.',
    risk: 'read',
    argv: ['systemctl', 'list-units', '--failed', '--no-pager', '--plain', '--no-legend'],
  },
  {
    name: 'unit.status',
    description: 'systemctl status of an allowed unit.',
    risk: 'read',
    argv: ['systemctl', 'status', '--no-pager', '--lines=20', '{unit}'],
    params: { unit: { type: 'unit' } },
  },
  {
    name: 'unit.restart',
    description: 'Restart an allowed systemd unit, then check it is active.',
    risk: 'change',
    argv: ['systemctl', 'restart', '{unit}'],
    params: { unit: { type: 'unit' } },
    timeoutMs: 90_000,
    verify: { argv: ['systemctl', 'is-active', '--quiet', '{unit}'] },
  },
  {
    name: 'supervisor.status',
    description: 'supervisorctl status of all programs.',
    risk: 'read',
    argv: ['supervisorctl', 'status'],
  },
  {
    name: 'supervisor.restart',
    description: 'Restart an allowed supervisord program.',
    risk: 'change',
    argv: ['supervisorctl', 'restart', '{program}'],
    params: {
      program: { type: 'unit', description: 'program name (from the allowed units list)' },
    },
    timeoutMs: 60_000,
  },
  {
    name: 'journal.tail',
    description: 'The last lines of the journal of an allowed unit.',
    risk: 'read',
    argv: ['journalctl', '--no-pager', '--output=short-iso', '-n', '{lines}', '-u', '{unit}'],
    params: { unit: { type: 'unit' }, lines },
  },
  {
    name: 'log.tail',
    description: 'The last lines of a log file under an allowed log directory.',
    risk: 'read',
    argv: ['tail', '-n', '{lines}', '--', '{path}'],
    params: { path: { type: 'path', description: 'absolute path of the log file' }, lines },
  },
  {
    name: 'nginx.test',
    description: 'Check the nginx configuration (nginx -t).',
    risk: 'read',
    argv: ['nginx', '-t'],
  },
  {
    name: 'postgres.ready',
    description: 'Whether PostgreSQL accepts connections (pg_isready).',
    risk: 'read',
    argv: ['pg_isready', '-h', '{host}', '-p', '{port}', '-t', '5'],
    network: true,
    params: {
      host: {
        type: 'enum',
        values: ['127.0.0.1', 'localhost', '::1', '/var/run/postgresql'],
        default: '127.0.0.1',
      },
      port: { type: 'integer', min: 1, max: 65535, default: 5432 },
    },
  },
  {
    name: 'docker.list',
    description: 'Docker containers, running or not (Engine API).',
    risk: 'read',
    builtin: 'docker.list',
  },
  {
    name: 'docker.logs',
    description: 'The last log lines of a Docker container (Engine API).',
    risk: 'read',
    builtin: 'docker.logs',
    params: { container: { type: 'container' }, lines },
  },
  {
    name: 'docker.inspect',
    description: 'State and configuration of a Docker container (Engine API).',
    risk: 'read',
    builtin: 'docker.inspect',
    params: { container: { type: 'container' } },
  },
  {
    name: 'docker.restart',
    description: 'Restart a Docker container (Engine API).',
    risk: 'change',
    builtin: 'docker.restart',
    params: { container: { type: 'container' } },
    timeoutMs: 60_000,
  },
];

export const defaultCatalogue: readonly ActionDefinition[] = definitions.map((d) =>
  actionSchema.parse(d),
);

/** The default catalogue, with supervisorctl pointed at a given config file. */
export function defaultCatalogueFor(options: {
  supervisorConfig?: string | undefined;
}): ActionDefinition[] {
  const conf = options.supervisorConfig;
  if (!conf) return [...defaultCatalogue];
  const point = (argv: string[] | undefined) =>
    argv?.[0] === 'supervisorctl' ? ['supervisorctl', '-c', conf, ...argv.slice(1)] : argv;
  return defaultCatalogue.map((a) => ({
    ...a,
    ...(a.argv ? { argv: point(a.argv) } : {}),
    ...(a.verify ? { verify: { ...a.verify, argv: point(a.verify.argv)! } } : {}),
  }));
}
