// Collectors for the engine and the LLM gateway: workflow outcomes (for the
// success rate), the executions waiting and running (the queue's depth, read
// from the database, which is the record in every queue mode), and per model
// requests, errors, latency, tokens and generation speed.
import type { Db } from '../db/db.ts';
import type { Executor } from '../engine/executor.ts';
import type { LlmMetrics } from '../llm/metrics.ts';
import type { MetricFamily } from './registry.ts';

export function executionsEndedCollector(executor: Executor): () => MetricFamily[] {
  return () => [
    {
      name: 'warden_executions_ended_total',
      help: 'Executions this process ended, by final status; the success rate is rate(status="succeeded") over the rate of all.',
      type: 'counter',
      samples: Object.entries(executor.ended).map(([status, value]) => ({
        labels: { status },
        value,
      })),
    },
  ];
}

const unfinished = ['queued', 'running', 'waiting'] as const;

export function executionsBacklogCollector(db: Db): () => Promise<MetricFamily[]> {
  return async () => {
    const { rows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM executions
        WHERE status IN ('queued', 'running', 'waiting') GROUP BY status`,
    );
    const n = new Map(rows.map((r) => [r.status, r.n]));
    return [
      {
        name: 'warden_executions',
        help: 'Executions not ended, by status: queued is the queue depth, waiting sleeps until its resume time.',
        type: 'gauge',
        samples: unfinished.map((status) => ({ labels: { status }, value: n.get(status) ?? 0 })),
      },
    ];
  };
}

export function llmCollector(metrics: LlmMetrics): () => MetricFamily[] {
  return () => {
    const models = metrics.snapshot();
    const per = (value: (m: (typeof models)[number]) => number | undefined) =>
      models.flatMap((m) => {
        const v = value(m);
        return v === undefined ? [] : [{ labels: { model: m.model }, value: v }];
      });
    return [
      {
        name: 'warden_llm_requests_total',
        help: 'Requests to the model server through the gateway, by model.',
        type: 'counter',
        samples: per((m) => m.requests),
      },
      {
        name: 'warden_llm_errors_total',
        help: 'Failed requests by model and error code.',
        type: 'counter',
        samples: models.flatMap((m) =>
          Object.entries(m.errorsByCode).map(([code, value]) => ({
            labels: { model: m.model, code },
            value,
          })),
        ),
      },
      {
        name: 'warden_llm_request_seconds_total',
        help: 'Total time of requests by model, queueing included; divide by the requests for the mean latency.',
        type: 'counter',
        samples: per((m) => m.latencyMsTotal / 1000),
      },
      {
        name: 'warden_llm_request_seconds_max',
        help: 'Longest request by model since the process started.',
        type: 'gauge',
        samples: per((m) => m.latencyMsMax / 1000),
      },
      {
        name: 'warden_llm_queue_seconds_total',
        help: "Total time requests waited for a slot of the model's concurrency limit.",
        type: 'counter',
        samples: per((m) => m.queueMsTotal / 1000),
      },
      {
        name: 'warden_llm_tokens_total',
        help: 'Tokens by model and kind (prompt, generated).',
        type: 'counter',
        samples: models.flatMap((m) => [
          { labels: { model: m.model, kind: 'prompt' }, value: m.promptTokens },
          { labels: { model: m.model, kind: 'generated' }, value: m.completionTokens },
        ]),
      },
      {
        name: 'warden_llm_tokens_per_second',
        help: "Generation speed by model: generated tokens over the server's eval time (eval_count / eval_duration).",
        type: 'gauge',
        samples: per((m) => m.tokensPerSecond),
      },
      {
        name: 'warden_llm_model_loads_total',
        help: 'Times the server loaded the model into memory for a request.',
        type: 'counter',
        samples: per((m) => m.loads),
      },
      {
        name: 'warden_llm_load_seconds_total',
        help: 'Time the server spent loading models, by model.',
        type: 'counter',
        samples: per((m) => m.loadDurationNs / 1e9),
      },
    ];
  };
}
