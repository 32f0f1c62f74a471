// GET /api/v1/dashboard: what the console's first page shows in one read:
// open incidents by severity, pending approvals, monitors, executions per
// minute with their success rate, the queue, the models, the last backup and
// whether an alert storm has paused automatic actions.
// Read-only and for any logged-in role; it names no secret and no file path.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { stormState } from '../../incidents/storm.ts';

/** The model server's address without any user:password in it. */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Minutes of execution history the dashboard charts. */
const minutes = 15;

export default async function dashboardPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { db, approvals, monitors, backups, queue, config } = opts.services;

  async function incidentCounts() {
    const { rows } = await db.query<{ severity: string; n: string | number }>(
      `SELECT severity, count(*) AS n FROM incidents WHERE status <> 'resolved' GROUP BY severity`,
    );
    return Object.fromEntries(rows.map((r) => [r.severity, Number(r.n)]));
  }

  async function executionRates(now: Date) {
    const since = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - (minutes - 1) * 60_000);
    const { rows } = await db.query<{
      minute: Date;
      total: string | number;
      succeeded: string | number;
      failed: string | number;
    }>(
      `SELECT date_trunc('minute', created_at) AS minute, count(*) AS total,
              count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
              count(*) FILTER (WHERE status IN ('failed', 'needs_attention')) AS failed
         FROM executions WHERE created_at >= $1 GROUP BY 1`,
      [since],
    );
    const byMinute = new Map(rows.map((r) => [new Date(r.minute).getTime(), r]));
    const perMinute = Array.from({ length: minutes }, (_, i) => {
      const at = since.getTime() + i * 60_000;
      const r = byMinute.get(at);
      return {
        minute: new Date(at).toISOString(),
        total: Number(r?.total ?? 0),
        succeeded: Number(r?.succeeded ?? 0),
        failed: Number(r?.failed ?? 0),
      };
    });
    const finished = perMinute.reduce((n, m) => n + m.succeeded + m.failed, 0);
    const succeeded = perMinute.reduce((n, m) => n + m.succeeded, 0);
    return { perMinute, successRate: finished === 0 ? null : succeeded / finished };
  }

  async function queueState() {
    const { rows } = await db.query<{
      queued: string | number;
      running: string | number;
      waiting: string | number;
      workers: string | number;
    }>(
      `SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
              count(*) FILTER (WHERE status = 'running') AS running,
              count(*) FILTER (WHERE status = 'waiting') AS waiting,
              count(DISTINCT lease_owner) FILTER (WHERE status = 'running') AS workers
         FROM executions WHERE status IN ('queued', 'running', 'waiting')`,
    );
    const r = rows[0];
    return {
      kind: queue.kind,
      queued: Number(r?.queued ?? 0),
      running: Number(r?.running ?? 0),
      waiting: Number(r?.waiting ?? 0),
      busyWorkers: Number(r?.workers ?? 0),
      activeHere: queue.active(),
    };
  }

  async function lastBackup() {
    const list = await backups.list().catch(() => []);
    const last = [...list].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    return last
      ? { file: last.file, kind: last.kind, createdAt: last.createdAt, bytes: last.bytes }
      : null;
  }

  const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;

  app.get('/api/v1/dashboard', { schema: { querystring: noQuery } }, async () => {
    const now = new Date();
    const [incidents, pending, monitorList, executions, queueNow, backup, storm, checks] =
      await Promise.all([
        incidentCounts(),
        approvals.list({ status: 'pending' }),
        monitors.list(),
        executionRates(now),
        queueState(),
        lastBackup(),
        stormState(db, {
          windowMs: config.heal.stormWindowSeconds * 1000,
          groupAfter: config.heal.stormGroupAfter,
          pauseAfter: config.heal.stormPauseAfter,
        }),
        monitors.recentChecks({ limit: 30 }),
      ]);
    const { llm } = config;
    return {
      at: now.toISOString(),
      incidents: { openBySeverity: incidents },
      approvals: pending.map((a) => ({
        id: a.id,
        incidentId: a.incidentId,
        action: a.action,
        risk: a.risk,
        requestedAt: a.requestedAt,
        expiresAt: a.expiresAt,
      })),
      monitors: monitorList.map((m) => ({
        id: m.id,
        name: m.name,
        service: m.service,
        enabled: m.enabled,
        state: m.state,
        failures: m.failures,
        lastCheckedAt: m.lastCheckedAt,
        lastResult: m.lastResult,
        recentChecks: (checks.get(m.id) ?? []).map((c) => ({
          at: c.at,
          ok: c.ok,
          latencyMs: c.latencyMs,
        })),
      })),
      executions,
      queue: queueNow,
      models: {
        provider: llm.provider,
        url: withoutCredentials(llm.url),
        roles: {
          orchestrator: llm.orchestratorModel,
          reasoning: llm.reasoningModel,
          vision: llm.visionModel,
          embedding: llm.embeddingModel,
          validator: llm.validatorModel,
        },
      },
      backup,
      storm: { autoHeal: config.heal.enabled, ...storm },
    };
  });
}
