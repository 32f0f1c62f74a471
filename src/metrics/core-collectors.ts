// Metrics every Warden process has (its database pool, the notifications it
// sent) and the installation-wide figures read from the database, which only
// the main process collects: monitors, executions by status (the queue's
// depth), incidents, backups and whether the model server answers.
import type { BackupService } from '../backup/backup-service.ts';
import type { Db } from '../db/db.ts';
import type { LlmGateway } from '../llm/gateway.ts';
import type { DeliveryResult } from '../notify/notification-service.ts';
import { redisCommandsSent } from '../queue/redis-command-count.ts';
import type { MetricsRegistry } from './registry.ts';

export function registerDbPoolMetrics(m: MetricsRegistry, db: Db): void {
  const labels = { database: db.kind };
  m.gaugeFrom(
    {
      name: 'warden_db_pool_connections',
      help: 'Database connections of this process by state (total, idle, in_use) and the pool maximum.',
      labelNames: ['database', 'state'],
    },
    (g) => {
      const s = db.stats();
      g.set({ ...labels, state: 'total' }, s.total);
      g.set({ ...labels, state: 'idle' }, s.idle);
      g.set({ ...labels, state: 'in_use' }, s.total - s.idle);
      g.set({ ...labels, state: 'max' }, s.max);
    },
  );
  m.gaugeFrom(
    {
      name: 'warden_db_pool_waiting',
      help: 'Callers of this process waiting for a database connection.',
      labelNames: ['database'],
    },
    (g) => g.set(labels, db.stats().waiting),
  );
}

/**
 * Round trips this process made: SQL statements sent to its database and
 * commands sent to Redis. Divided by executions, they say what an execution
 * costs; the counts live in the adapters and are read at scrape time.
 */
export function registerRoundTripMetrics(m: MetricsRegistry, db: Db): void {
  const labels = { database: db.kind };
  m.counter({
    name: 'warden_db_statements_total',
    help: 'SQL statements this process sent to the database (each query, BEGIN, COMMIT, ROLLBACK and lock call).',
    labelNames: ['database'],
    collect() {
      this.reset();
      this.inc(labels, db.statementCount);
    },
  });
  if (db.diskFlushCount !== undefined)
    m.counter({
      name: 'warden_db_disk_flushes_total',
      help: 'Files the embedded database flushed to the disk (fsync): one per commit that wrote, more at a checkpoint.',
      labelNames: ['database'],
      collect() {
        this.reset();
        this.inc(labels, db.diskFlushCount ?? 0);
      },
    });
  m.counter({
    name: 'warden_redis_commands_total',
    help: 'Commands this process sent to Redis (queue, webhook answers, pings; each command of a pipeline counts).',
    collect() {
      this.reset();
      this.inc(redisCommandsSent());
    },
  });
}

/** A counter of deliveries by channel and outcome; pass it as NotificationService's onDelivered. */
export function notificationCounter(m: MetricsRegistry): (r: DeliveryResult) => void {
  const c = m.counter({
    name: 'warden_notifications_total',
    help: 'Notifications this process delivered, by channel and outcome (sent, failed, duplicate: suppressed within the dedup window).',
    labelNames: ['channel', 'status'],
  });
  return (r) => c.inc({ channel: r.channel, status: r.status });
}

const unfinished = ['queued', 'running', 'waiting'] as const;
const incidentStatuses = [
  'open',
  'investigating',
  'remediating',
  'verifying',
  'awaiting_approval',
  'escalated',
  'resolved',
] as const;

export type QueueWideSources = {
  db: Db;
  backups: BackupService;
  llm: LlmGateway;
  /** Scheduled backups are on (else the backup interval reads 0). */
  backupEveryHours: number | undefined;
};

/** Figures about the whole installation; register them in one process only (main). */
export function registerQueueWideMetrics(m: MetricsRegistry, s: QueueWideSources): void {
  const { db } = s;
  m.gaugeFrom(
    {
      name: 'warden_executions',
      help: 'Executions not ended, by status, from the database: queued is the queue depth, waiting sleeps until its resume time, needs_attention waits for a person.',
      labelNames: ['status'],
    },
    async (g) => {
      const { rows } = await db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM executions
          WHERE status IN ('queued', 'running', 'waiting', 'needs_attention') GROUP BY status`,
      );
      const n = new Map(rows.map((r) => [r.status, r.n]));
      for (const status of [...unfinished, 'needs_attention'])
        g.set({ status }, n.get(status) ?? 0);
    },
  );
  m.gaugeFrom(
    {
      name: 'warden_executions_oldest_queued_seconds',
      help: 'Age of the oldest queued execution (0 when none): a queue that is not drained grows this.',
    },
    async (g) => {
      const { rows } = await db.query<{ age: number | null }>(
        `SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM executions WHERE status = 'queued'`,
      );
      g.set(Math.max(0, rows[0]?.age ?? 0));
    },
  );
  m.gaugeFrom(
    {
      name: 'warden_monitors',
      help: 'Built-in monitors by state.',
      labelNames: ['state'],
    },
    async (g) => {
      const { rows } = await db.query<{ state: string; n: number }>(
        `SELECT CASE WHEN enabled THEN state ELSE 'disabled' END AS state, count(*)::int AS n FROM monitors GROUP BY 1`,
      );
      g.reset();
      for (const r of rows) g.set({ state: r.state }, r.n);
    },
  );
  m.gaugeFrom(
    {
      name: 'warden_incidents',
      help: 'Incidents by status, from the database.',
      labelNames: ['status'],
    },
    async (g) => {
      const { rows } = await db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM incidents GROUP BY status`,
      );
      g.reset();
      for (const status of incidentStatuses) g.set({ status }, 0);
      for (const r of rows) g.set({ status: r.status }, r.n);
    },
  );
  m.gaugeFrom(
    {
      name: 'warden_backup_newest_timestamp_seconds',
      help: 'When the newest backup of the database in use was taken (Unix seconds; 0 when there is none).',
    },
    async (g) => {
      const [newest] = await s.backups.listOfThisDatabase();
      g.set(newest ? newest.createdAt.getTime() / 1000 : 0);
    },
  );
  m.gaugeFrom(
    {
      name: 'warden_backup_interval_seconds',
      help: 'Seconds between scheduled backups (WARDEN_BACKUP_EVERY_HOURS); 0 when scheduled backups are off.',
    },
    (g) => g.set((s.backupEveryHours ?? 0) * 3600),
  );
  m.gaugeFrom(
    {
      name: 'warden_llm_server_up',
      help: 'Whether the model server answered its health check at the last scrape (1) or not (0).',
    },
    async (g) => {
      g.set((await s.llm.health()).ok ? 1 : 0);
    },
  );
}
