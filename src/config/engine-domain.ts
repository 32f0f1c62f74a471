// Configuration of the workflow engine (executor, leases, sweep, webhooks)
// and of the job queue (embedded, or BullMQ on Redis).
import { z } from 'zod';

import { parseAllowEntry } from '../nodes/outbound-policy.ts';
import { commaList, domain, durationMs, envBoolean, setting } from './setting.ts';

const positiveInt = z.coerce.number().int().min(1);

export const queueDomain = domain('queue', 'Job queue: in-process, or BullMQ on Redis.', {
  redisUrl: setting({
    env: 'REDIS_URL',
    schema: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    secret: true,
    doc: 'Redis for queue mode (BullMQ). Unset: the in-process queue, executions run in the `warden start` process.',
  }),
  name: setting({
    env: 'WARDEN_QUEUE_NAME',
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/),
    default: 'executions',
    doc: 'BullMQ queue name.',
  }),
  prefix: setting({
    env: 'WARDEN_QUEUE_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/),
    default: 'warden',
    doc: 'Prefix of every Redis key Warden writes.',
  }),
  pingIntervalMs: setting({
    env: 'WARDEN_REDIS_PING_INTERVAL_MS',
    schema: durationMs.min(100),
    default: 5_000,
    doc: 'How often the Redis watchdog PINGs each connection.',
  }),
  pingTimeoutMs: setting({
    env: 'WARDEN_REDIS_PING_TIMEOUT_MS',
    schema: durationMs.min(50),
    default: 2_000,
    doc: 'A PING unanswered this long marks Redis down and reconnects (half-open connections).',
  }),
  enqueueTimeoutMs: setting({
    env: 'WARDEN_ENQUEUE_TIMEOUT_MS',
    schema: durationMs.min(50),
    default: 2_000,
    doc: 'Longest wait for Redis to take a job; the execution row is already durable and the sweep enqueues it later.',
  }),
});

export const engineDomain = domain('engine', 'Workflow engine: workers, leases, sweep, webhooks.', {
  concurrency: setting({
    env: 'WARDEN_WORKER_CONCURRENCY',
    schema: positiveInt.max(1000),
    default: 20,
    doc: 'Executions one process runs at once.',
  }),
  instantRunsInMain: setting({
    env: 'WARDEN_INSTANT_RUNS_IN_MAIN',
    schema: envBoolean,
    default: true,
    doc: 'Queue mode: the main process runs an instant workflow (only webhook, schedule, manual, set, if, switch, merge, no-op and respond nodes: nothing that waits or acts on the world) itself, in memory, and records it in one statement, instead of sending it through Redis to a worker. false: every execution goes to a worker.',
  }),
  leaseMs: setting({
    env: 'WARDEN_LEASE_MS',
    schema: durationMs.min(500),
    default: 30_000,
    doc: 'How long a worker owns a running execution without a heartbeat.',
  }),
  heartbeatMs: setting({
    env: 'WARDEN_HEARTBEAT_MS',
    schema: durationMs.min(100),
    default: 5_000,
    doc: 'How often a worker renews the leases of its running executions.',
  }),
  sweepIntervalMs: setting({
    env: 'WARDEN_SWEEP_INTERVAL_MS',
    schema: durationMs.min(100),
    default: 3_000,
    doc: 'How often the sweep re-enqueues expired leases, due waits and lost jobs.',
  }),
  requeueAfterMs: setting({
    env: 'WARDEN_REQUEUE_AFTER_MS',
    schema: durationMs.min(100),
    default: 60_000,
    doc: 'A queued execution no worker took for this long is enqueued again (the queue lost it).',
  }),
  stepDataMaxBytes: setting({
    env: 'WARDEN_STEP_DATA_MAX_BYTES',
    schema: positiveInt,
    default: 1_048_576,
    doc: 'Largest step input or output stored; larger ones are stored truncated.',
  }),
  executionTimeoutMs: setting({
    env: 'WARDEN_EXECUTION_TIMEOUT_MS',
    schema: durationMs,
    default: 3_600_000,
    doc: 'Execution timeout when the workflow sets none (0: none).',
  }),
  envAllowlist: setting({
    env: 'WARDEN_EXPRESSION_ENV',
    schema: z.string().regex(/^[A-Za-z0-9_,\s]*$/, 'comma-separated variable names'),
    default: '',
    doc: 'Environment variables expressions may read as $env (comma-separated names).',
  }),
  webhookResponseTimeoutMs: setting({
    env: 'WARDEN_WEBHOOK_RESPONSE_TIMEOUT_MS',
    schema: durationMs.min(10),
    default: 30_000,
    doc: 'How long a webhook waits for its respond node before answering 504.',
  }),
  httpMaxResponseBytes: setting({
    env: 'WARDEN_HTTP_NODE_MAX_BYTES',
    schema: positiveInt,
    default: 10_485_760,
    doc: 'Default response size cap of the HTTP request node.',
  }),
  httpAllowHosts: setting({
    env: 'WARDEN_HTTP_ALLOW_HOSTS',
    schema: commaList(
      z.string().refine(
        (e) => {
          try {
            parseAllowEntry(e);
            return true;
          } catch {
            return false;
          }
        },
        {
          message:
            'each entry is a host (or *.domain), an address or a CIDR, with an optional :port',
        },
      ),
    ),
    default: [],
    doc: 'Hosts, addresses or CIDRs (optional :port) the HTTP request node may reach although they are loopback, private, link-local or metadata addresses, which are refused by default.',
  }),
});
