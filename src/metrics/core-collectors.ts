// Collectors for what every Warden process has: the process itself, the
// database pool, monitors and notifications.
import type { Db } from '../db/db.ts';
import type { MetricFamily } from './registry.ts';

export function processCollector(): MetricFamily[] {
  const mem = process.memoryUsage();
  return [
    {
      name: 'warden_process_uptime_seconds',
      help: 'Seconds since this process started.',
      type: 'gauge',
      samples: [{ value: process.uptime() }],
    },
    {
      name: 'warden_process_memory_bytes',
      help: 'Memory of this process by kind (rss, heap_used, heap_total, external).',
      type: 'gauge',
      samples: [
        { labels: { kind: 'rss' }, value: mem.rss },
        { labels: { kind: 'heap_used' }, value: mem.heapUsed },
        { labels: { kind: 'heap_total' }, value: mem.heapTotal },
        { labels: { kind: 'external' }, value: mem.external },
      ],
    },
  ];
}

export function dbPoolCollector(db: Db): () => MetricFamily[] {
  return () => {
    const s = db.stats();
    const labels = { database: db.kind };
    return [
      {
        name: 'warden_db_pool_connections',
        help: 'Database connections by state (total, idle, in_use) and the pool maximum.',
        type: 'gauge',
        samples: [
          { labels: { ...labels, state: 'total' }, value: s.total },
          { labels: { ...labels, state: 'idle' }, value: s.idle },
          { labels: { ...labels, state: 'in_use' }, value: s.total - s.idle },
          { labels: { ...labels, state: 'max' }, value: s.max },
        ],
      },
      {
        name: 'warden_db_pool_waiting',
        help: 'Callers waiting for a database connection.',
        type: 'gauge',
        samples: [{ labels, value: s.waiting }],
      },
    ];
  };
}

export function monitorsCollector(db: Db): () => Promise<MetricFamily[]> {
  return async () => {
    const { rows } = await db.query<{ state: string; n: number }>(
      `SELECT CASE WHEN enabled THEN state ELSE 'disabled' END AS state, count(*)::int AS n FROM monitors GROUP BY 1`,
    );
    return [
      {
        name: 'warden_monitors',
        help: 'Built-in monitors by state.',
        type: 'gauge',
        samples: rows.map((r) => ({ labels: { state: r.state }, value: r.n })),
      },
    ];
  };
}

export function notificationsCollector(db: Db): () => Promise<MetricFamily[]> {
  return async () => {
    const { rows } = await db.query<{ channel: string; status: string; n: number }>(
      `SELECT channel, status, count(*)::int AS n FROM notifications GROUP BY 1, 2`,
    );
    return [
      {
        name: 'warden_notifications_total',
        help: 'Notifications by channel and outcome (sent, failed, sending).',
        type: 'counter',
        samples: rows.map((r) => ({
          labels: { channel: r.channel, status: r.status },
          value: r.n,
        })),
      },
    ];
  };
}
