// Every configuration domain Warden knows. Each later subsystem adds its
// domain here; docs/configuration.md and `warden config print` follow.
import { z } from 'zod';

import { notifyDomain } from './notify-domain.ts';
import { alertsDomain } from './alerts-domain.ts';
import { execDomain } from './exec-domain.ts';
import { mcpDomain } from './mcp-domain.ts';
import { mcpFilesDomain } from './mcp-files-domain.ts';
import { llmDomain } from './llm-domain.ts';
import { memoryDomain } from './memory-domain.ts';
import { engineDomain, queueDomain } from './engine-domain.ts';
import { healDomain } from './heal-domain.ts';
import { backupDomain } from './backup-domain.ts';
import { domain, durationMs, envBoolean, port, setting } from './setting.ts';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const serverDomain = domain('server', 'HTTP server: UI, REST API and webhooks.', {
  host: setting({
    env: 'WARDEN_HOST',
    schema: z.string().min(1),
    default: '0.0.0.0',
    doc: 'Address the HTTP server listens on.',
  }),
  port: setting({
    env: 'WARDEN_PORT',
    schema: port,
    default: 5678,
    doc: 'Port the HTTP server listens on.',
  }),
  publicUrl: setting({
    env: 'WARDEN_PUBLIC_URL',
    schema: z.string().url().optional(),
    doc: 'URL users reach Warden at; used in links Warden prints. Defaults to http://localhost:<port>.',
  }),
  trustProxy: setting({
    env: 'WARDEN_TRUST_PROXY',
    schema: envBoolean,
    default: false,
    doc: 'Trust X-Forwarded-* headers from a reverse proxy (client IP, TLS).',
  }),
  bodyLimit: setting({
    env: 'WARDEN_BODY_LIMIT',
    schema: z.coerce.number().int().min(1024),
    default: 1_048_576,
    doc: 'Largest request body accepted, in bytes.',
  }),
  shutdownTimeoutMs: setting({
    env: 'WARDEN_SHUTDOWN_TIMEOUT_MS',
    schema: durationMs,
    default: 10_000,
    doc: 'How long a graceful shutdown waits for work in flight.',
  }),
  heapGrowthPercent: setting({
    env: 'WARDEN_HEAP_GROWTH_PERCENT',
    schema: z.coerce.number().int().min(0).max(400),
    default: 0,
    doc: 'How far the JavaScript heap of `warden start` and `warden worker` may grow past what was live at the last full collection, in percent, before the next one; 0 leaves it to V8, which under load lets it reach about four times. 50 kept the embedded process at 243-245 MB after 200 and 1,000/s against 283-284 MB, but ran a full collection every 10 s at 200/s, whose 5-11 ms pauses reached the p99 there.',
  }),
});

export const databaseDomain = domain('database', 'Where Warden keeps its data.', {
  url: setting({
    env: 'DATABASE_URL',
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    secret: true,
    doc: 'PostgreSQL connection URL. Unset: embedded PGlite in the data directory.',
  }),
  dataDir: setting({
    env: 'WARDEN_DATA_DIR',
    schema: z.string().min(1),
    default: './data',
    doc: 'Data directory: embedded database, lock file, generated keys.',
  }),
  poolSize: setting({
    env: 'DATABASE_POOL_SIZE',
    schema: z.coerce.number().int().min(1).max(200),
    default: 10,
    doc: 'Most PostgreSQL connections one process opens.',
  }),
  statementTimeoutMs: setting({
    env: 'DATABASE_STATEMENT_TIMEOUT_MS',
    schema: durationMs,
    default: 30_000,
    doc: 'PostgreSQL statement timeout for Warden queries (0: none).',
  }),
  pgliteSharedBuffersMb: setting({
    env: 'WARDEN_PGLITE_SHARED_BUFFERS_MB',
    schema: z.coerce.number().int().min(1).max(1024),
    default: 32,
    doc: "Embedded database only: PostgreSQL's page cache (shared_buffers), in MB. It lives in the process's memory; PGlite's own 128 MB is more than Warden's tables need. Raise it for a large incident memory.",
  }),
  pgliteMaintenanceIntervalMs: setting({
    env: 'WARDEN_PGLITE_MAINTENANCE_INTERVAL_MS',
    schema: durationMs,
    default: 30_000,
    doc: 'Embedded database only: how often the main process vacuums and analyzes tables with many dead, new or changed rows (a pass that falls due while the process is busy waits for a quieter moment, at most 5 minutes: it holds every query while it runs); every 5 s it also checkpoints once 256 MB of WAL were written, or 5 minutes after the last checkpoint (PGlite has neither autovacuum nor a checkpointer: without them queries slow down and the WAL grows for ever). 0: none of it.',
  }),
  pgliteThread: setting({
    env: 'WARDEN_PGLITE_THREAD',
    schema: envBoolean,
    default: false,
    doc: 'Embedded database only: run PGlite on a thread of its own, beside the thread that serves HTTP and runs workflows. On two cores it gave about a fifth more executions per second at saturation (runs varied from 0 to 60%), for about a third more CPU per execution, about 20 MB more memory and a longer tail (p99 at 1,000/s about 30 ms against 20); off, one thread does both. One-shot commands never use a thread.',
  }),
  pgliteFsync: setting({
    env: 'WARDEN_PGLITE_FSYNC',
    schema: envBoolean,
    default: true,
    doc: "Embedded database only: flush each commit to the disk (fsync), as PostgreSQL does, so that an accepted execution survives a power loss or a kernel crash. Off (PGlite's own default), commits reach only the operating system's cache: a crash of Warden loses nothing, but a crash of the machine can lose the last commits and corrupt the database. Off is for a data directory you can lose (tmpfs, a throwaway test).",
  }),
  pgliteWasmTierUp: setting({
    env: 'WARDEN_PGLITE_WASM_TIER_UP',
    schema: envBoolean,
    default: false,
    doc: "Embedded database only: let V8 optimise PGlite's WebAssembly as it runs. A webhook then costs about a quarter less CPU (some 50% more executions per second at saturation), for about a second more CPU at start and 80-100 MB more memory. One-shot commands never do.",
  }),
});

export const securityDomain = domain('security', 'Authentication, sessions and secrets at rest.', {
  encryptionKey: setting({
    env: 'WARDEN_ENCRYPTION_KEY',
    schema: z
      .string()
      .regex(
        /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/,
        'must be 32 bytes as 64 hex digits or base64',
      )
      .optional(),
    secret: true,
    doc: 'AES-256 key for stored credentials. Unset: generated on first start into <data dir>/encryption.key (mode 0600).',
  }),
  sessionTtlHours: setting({
    env: 'WARDEN_SESSION_TTL_HOURS',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90),
    default: 24 * 7,
    doc: 'How long a browser session lasts.',
  }),
  loginMaxFailures: setting({
    env: 'WARDEN_LOGIN_MAX_FAILURES',
    schema: z.coerce.number().int().min(1),
    default: 5,
    doc: 'Free failed logins of one client for one user; after them each failure doubles the pause (429 with Retry-After) before the next try. Never a lock: the right password from a client with no failures of its own gets in.',
  }),
  loginWindowSeconds: setting({
    env: 'WARDEN_LOGIN_WINDOW_SECONDS',
    schema: z.coerce.number().int().min(1),
    default: 900,
    doc: 'Longest pause a failing client is asked to wait; a client is forgotten four times this long after its last failure.',
  }),
});

export const logDomain = domain('log', 'Logging.', {
  level: setting({
    env: 'LOG_LEVEL',
    schema: logLevel,
    default: 'info',
    doc: 'Log level: fatal, error, warn, info, debug, trace or silent.',
  }),
});

export const domains = [
  serverDomain,
  databaseDomain,
  securityDomain,
  logDomain,
  notifyDomain,
  alertsDomain,
  execDomain,
  mcpDomain,
  mcpFilesDomain,
  llmDomain,
  memoryDomain,
  queueDomain,
  engineDomain,
  healDomain,
  backupDomain,
] as const;
