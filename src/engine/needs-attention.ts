// needs_attention on every process's /metrics: the count is read from the
// database at scrape time, so a main process that runs no executions in
// queue mode still shows what its workers stopped.
import type { Db } from '../db/db.ts';
import type { MetricFamily } from '../metrics/registry.ts';

export function needsAttentionCollector(db: Db): () => Promise<MetricFamily[]> {
  return async () => {
    const { rows } = await db.query<{ n: number; recent: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE finished_at > now() - interval '1 day')::int AS recent
         FROM executions WHERE status = 'needs_attention'`,
    );
    return [
      {
        name: 'warden_executions_needs_attention',
        help: 'Executions stopped as needs_attention (a side effect whose outcome is unknown); each needs a person. window="1d" counts those of the last day.',
        type: 'gauge',
        samples: [
          { labels: { window: 'all' }, value: rows[0]?.n ?? 0 },
          { labels: { window: '1d' }, value: rows[0]?.recent ?? 0 },
        ],
      },
    ];
  };
}
