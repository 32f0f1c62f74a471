// Safe execution: where commands may run, what they may touch, and where
// every decision is recorded. Lists are comma-separated in the environment.
import { z } from 'zod';

import { commaList, domain, durationMs, setting } from './setting.ts';

const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._@+/-]*$/, 'must be an absolute path of plain characters');

export const execDomain = domain('exec', 'Safe command execution and the audit log.', {
  sandboxRoot: setting({
    env: 'WARDEN_EXEC_ROOT',
    schema: absolutePath.optional(),
    doc: 'Working directory root for commands; each runs in a fresh directory under it. Unset: <data dir>/exec (not a shared /tmp, where another user could own the parent).',
  }),
  allowedUnits: setting({
    env: 'WARDEN_EXEC_ALLOWED_UNITS',
    schema: commaList(z.string().regex(/^[A-Za-z0-9@._:-]+$/, 'unit names only')),
    default: ['nginx.service', 'postgresql.service', 'redis-server.service', 'ssh.service'],
    doc: 'systemd units (and supervisord programs) that actions may inspect or restart.',
  }),
  allowedLogDirs: setting({
    env: 'WARDEN_EXEC_LOG_DIRS',
    schema: commaList(absolutePath),
    default: ['/var/log'],
    doc: 'Directories whose files the log tail action may read.',
  }),
  blockedPatterns: setting({
    env: 'WARDEN_EXEC_BLOCKED_PATTERNS',
    schema: commaList(
      z
        .string()
        .min(1)
        .refine((p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        }, 'must be a valid regular expression'),
    ),
    default: [],
    doc: 'Extra regular expressions refused in free-form commands, on top of the built-in policy (never instead of it).',
  }),
  bwrap: setting({
    env: 'WARDEN_EXEC_BWRAP',
    schema: z.enum(['auto', 'on', 'off']),
    default: 'auto' as const,
    doc: 'Bubblewrap isolation: auto (when bwrap is installed and can create its namespaces here; checked before the first command), on (required: commands fail without it) or off.',
  }),
  runAsUser: setting({
    env: 'WARDEN_EXEC_RUN_AS',
    schema: z
      .string()
      .regex(/^\d+(:\d+)?$/, 'must be uid or uid:gid')
      .optional(),
    doc: 'Run commands as this uid[:gid] (Warden must be root to switch). Unset: as Warden.',
  }),
  concurrency: setting({
    env: 'WARDEN_EXEC_CONCURRENCY',
    schema: z.coerce.number().int().min(1).max(64),
    default: 4,
    doc: 'Most commands running at once; further ones wait.',
  }),
  timeoutMs: setting({
    env: 'WARDEN_EXEC_TIMEOUT_MS',
    schema: durationMs,
    default: 30_000,
    doc: 'Default time limit of a command; its whole process group is killed then.',
  }),
  outputCapBytes: setting({
    env: 'WARDEN_EXEC_OUTPUT_CAP',
    schema: z.coerce.number().int().min(1024),
    default: 65_536,
    doc: 'Default cap on each of stdout and stderr kept from a command, in bytes.',
  }),
  auditFile: setting({
    env: 'WARDEN_AUDIT_FILE',
    schema: z.string().min(1).optional(),
    doc: 'Audit log JSONL file. Unset: <data dir>/audit.jsonl.',
  }),
  actionsFile: setting({
    env: 'WARDEN_ACTIONS_FILE',
    schema: z.string().min(1).optional(),
    doc: 'actions.yaml with extra catalogue actions, loaded at start. It must not be writable by group or others.',
  }),
  supervisorConfig: setting({
    env: 'WARDEN_SUPERVISOR_CONFIG',
    schema: z.string().regex(/^\//, 'must be an absolute path').optional(),
    doc: 'supervisord config file the supervisor.* actions pass to supervisorctl (-c); unset: supervisorctl looks in its usual places.',
  }),
  dockerSocket: setting({
    env: 'DOCKER_SOCKET',
    schema: z.string().min(1),
    default: '/var/run/docker.sock',
    doc: 'Docker Engine API unix socket.',
  }),
  postgresUrl: setting({
    env: 'WARDEN_OPS_PG_URL',
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    secret: true,
    doc: "PostgreSQL that query_postgres reads, as a read-only role (`warden mcp ops --pg-role-sql` prints the SQL). Unset: query_postgres is off; Warden's own database is always refused.",
  }),
  queryRowCap: setting({
    env: 'WARDEN_OPS_QUERY_ROW_CAP',
    schema: z.coerce.number().int().min(1).max(10_000),
    default: 200,
    doc: 'Most rows query_postgres returns.',
  }),
  queryTimeoutMs: setting({
    env: 'WARDEN_OPS_QUERY_TIMEOUT_MS',
    schema: z.coerce.number().int().min(100),
    default: 5000,
    doc: 'Statement timeout of query_postgres; a client-side timer cancels the backend one second later.',
  }),
  backupDir: setting({
    env: 'WARDEN_OPS_BACKUP_DIR',
    schema: absolutePath.optional(),
    doc: 'Directory whose newest file dates the last backup in diagnose. Unset: not reported.',
  }),
});
