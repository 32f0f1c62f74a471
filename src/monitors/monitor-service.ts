// Built-in monitors, so the embedded default needs no Uptime Kuma. Each due
// monitor is claimed atomically (next_check_at moves forward in the same
// statement), so however many Warden processes run, each interval checks a
// monitor once. State changes emit the same normalised alerts the webhook
// adapters produce.
import { z } from 'zod';

import type { Db, Queryable } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { NormalizedAlert } from '../incidents/alert.ts';
import type { Logger } from '../log.ts';
import type { ActionRunner, CheckResult, CheckSpec } from './checks.ts';
import { runCheck } from './checks.ts';
import type { MonitorState } from './monitor-state.ts';
import { nextState } from './monitor-state.ts';

export type Monitor = {
  id: number;
  name: string;
  service: string;
  severity: 'critical' | 'warning' | 'info';
  spec: CheckSpec;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  enabled: boolean;
  state: MonitorState;
  failures: number;
  lastCheckedAt: Date | null;
  lastChangeAt: Date | null;
  lastResult: CheckResult | null;
};

/** Checks kept per monitor in monitor_checks (the heartbeat bars). */
export const checksKept = 50;

export type MonitorCheck = { at: Date; ok: boolean; latencyMs: number; detail: string };

/** A monitor's state change, in the shape every alert source produces. */
export type MonitorAlert = NormalizedAlert & { source: 'monitor' };

export type MonitorAlertListener = (alert: MonitorAlert) => Promise<void>;

const statusSpec = z
  .string()
  .regex(/^\d{3}(-\d{3})?$/, 'must be a status code or a range like 200-299');
export const checkSpecSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('http'),
      url: z
        .string()
        .url()
        .refine((u) => /^https?:/.test(u), 'must be an http:// or https:// URL'),
      method: z.enum(['GET', 'HEAD', 'POST']).optional(),
      expectStatus: z.array(statusSpec).min(1).optional(),
      keyword: z.string().min(1).max(500).optional(),
      maxLatencyMs: z.number().int().positive().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('tcp'),
      host: z.string().min(1).max(255),
      port: z.number().int().min(1).max(65535),
    })
    .strict(),
  z
    .object({
      kind: z.literal('action'),
      action: z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'must be a catalogue action name'),
      params: z.record(z.unknown()).optional(),
    })
    .strict(),
]);

export const monitorInputSchema = z
  .object({
    name: z.string().min(1).max(100),
    service: z.string().min(1).max(100),
    severity: z.enum(['critical', 'warning', 'info']).default('critical'),
    spec: checkSpecSchema,
    intervalMs: z.number().int().min(1000).default(30_000),
    timeoutMs: z.number().int().min(100).default(10_000),
    retries: z.number().int().min(0).max(100).default(1),
    enabled: z.boolean().default(true),
  })
  .strict();
export type MonitorInput = z.input<typeof monitorInputSchema>;

type Row = {
  id: number;
  name: string;
  service: string;
  severity: Monitor['severity'];
  spec: CheckSpec;
  interval_ms: number;
  timeout_ms: number;
  retries: number;
  enabled: boolean;
  state: MonitorState;
  failures: number;
  last_checked_at: Date | null;
  last_change_at: Date | null;
  last_result: CheckResult | null;
};

const toMonitor = (r: Row): Monitor => ({
  id: r.id,
  name: r.name,
  service: r.service,
  severity: r.severity,
  spec: r.spec,
  intervalMs: r.interval_ms,
  timeoutMs: r.timeout_ms,
  retries: r.retries,
  enabled: r.enabled,
  state: r.state,
  failures: r.failures,
  lastCheckedAt: r.last_checked_at,
  lastChangeAt: r.last_change_at,
  lastResult: r.last_result,
});

function parseInput<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || 'monitor'}: ${i.message}`,
    );
    throw new UserError('invalid_monitor', `invalid monitor: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function describeTarget(spec: CheckSpec): string {
  switch (spec.kind) {
    case 'http':
      return `${spec.method ?? 'GET'} ${spec.url}`;
    case 'tcp':
      return `tcp ${spec.host}:${spec.port}`;
    case 'action':
      return `action ${spec.action}`;
  }
}

export type MonitorServiceOptions = {
  actions?: ActionRunner;
  /** How often due monitors are looked for. @default 1000 */
  tickMs?: number;
  /** Most checks run at once per process. @default 20 */
  concurrency?: number;
};

export class MonitorService {
  private readonly listeners: MonitorAlertListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly tickMs: number;
  private readonly concurrency: number;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly options: MonitorServiceOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 1000;
    this.concurrency = options.concurrency ?? 20;
  }

  onAlert(listener: MonitorAlertListener): void {
    this.listeners.push(listener);
  }

  async create(input: unknown): Promise<Monitor> {
    const m = parseInput(monitorInputSchema, input);
    try {
      const { rows } = await this.db.query<Row>(
        `INSERT INTO monitors (name, service, severity, spec, interval_ms, timeout_ms, retries, enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [
          m.name,
          m.service,
          m.severity,
          JSON.stringify(m.spec),
          m.intervalMs,
          m.timeoutMs,
          m.retries,
          m.enabled,
        ],
      );
      return toMonitor(rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new UserError('monitor_exists', `a monitor named "${m.name}" already exists`, {
          status: 409,
        });
      }
      throw err;
    }
  }

  async update(id: number, patch: unknown): Promise<Monitor> {
    const p = parseInput(monitorInputSchema.partial(), patch);
    const current = await this.get(id);
    const next = {
      ...current,
      ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)),
    } as Monitor;
    const { rows } = await this.db.query<Row>(
      `UPDATE monitors SET name = $2, service = $3, severity = $4, spec = $5, interval_ms = $6, timeout_ms = $7,
         retries = $8, enabled = $9, next_check_at = now() WHERE id = $1 RETURNING *`,
      [
        id,
        next.name,
        next.service,
        next.severity,
        JSON.stringify(next.spec),
        next.intervalMs,
        next.timeoutMs,
        next.retries,
        next.enabled,
      ],
    );
    return toMonitor(rows[0]!);
  }

  async get(id: number): Promise<Monitor> {
    const { rows } = await this.db.query<Row>('SELECT * FROM monitors WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('monitor', id);
    return toMonitor(rows[0]);
  }

  async list(): Promise<Monitor[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM monitors ORDER BY name');
    return rows.map(toMonitor);
  }

  /**
   * The last checks of each monitor asked for (or of all), oldest first, at
   * most `limit` (up to the 50 kept) per monitor.
   */
  async recentChecks(
    options: { monitorIds?: number[]; limit?: number } = {},
  ): Promise<Map<number, MonitorCheck[]>> {
    const limit = Math.min(Math.max(options.limit ?? checksKept, 1), checksKept);
    const { rows } = await this.db.query<{
      monitor_id: string | number;
      at: Date;
      ok: boolean;
      latency_ms: number;
      detail: string;
    }>(
      `SELECT monitor_id, at, ok, latency_ms, detail FROM (
         SELECT c.*, row_number() OVER (PARTITION BY monitor_id ORDER BY id DESC) AS n
           FROM monitor_checks c WHERE $1::bigint[] IS NULL OR monitor_id = ANY($1::bigint[])
       ) recent WHERE n <= $2 ORDER BY monitor_id, id`,
      [options.monitorIds ?? null, limit],
    );
    const out = new Map<number, MonitorCheck[]>();
    for (const r of rows) {
      const id = Number(r.monitor_id);
      const list = out.get(id) ?? [];
      list.push({ at: r.at, ok: r.ok, latencyMs: Number(r.latency_ms), detail: r.detail });
      out.set(id, list);
    }
    return out;
  }

  /** One monitor's kept checks, newest first; `beforeId` and `limit` page through them. */
  async checks(
    monitorId: number,
    options: { beforeId?: number; limit?: number } = {},
  ): Promise<(MonitorCheck & { id: number })[]> {
    const { rows } = await this.db.query<{
      id: string | number;
      at: Date;
      ok: boolean;
      latency_ms: number;
      detail: string;
    }>(
      `SELECT id, at, ok, latency_ms, detail FROM monitor_checks
        WHERE monitor_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [monitorId, options.beforeId ?? null, Math.min(options.limit ?? checksKept, 1000)],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      ok: r.ok,
      latencyMs: Number(r.latency_ms),
      detail: r.detail,
    }));
  }

  async remove(id: number): Promise<void> {
    const { rowCount } = await this.db.query('DELETE FROM monitors WHERE id = $1', [id]);
    if (rowCount === 0) throw notFound('monitor', id);
  }

  /** Checks one monitor now (outside its schedule) and applies the result. */
  async checkNow(id: number): Promise<Monitor> {
    const m = await this.get(id);
    await this.checkAndRecord(m);
    return this.get(id);
  }

  /** Claims every due monitor and checks it; returns how many were checked. */
  async tick(): Promise<number> {
    const { rows } = await this.db.query<Row>(
      `UPDATE monitors m SET next_check_at = now() + m.interval_ms * interval '1 millisecond'
        WHERE m.id IN (SELECT id FROM monitors WHERE enabled AND next_check_at <= now()
                        ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING m.*`,
      [this.concurrency],
    );
    await Promise.all(rows.map((r) => this.checkAndRecord(toMonitor(r))));
    return rows.length;
  }

  private async checkAndRecord(m: Monitor): Promise<void> {
    const result = await runCheck(m.spec, m.timeoutMs, this.options.actions);
    const alert = await this.db.transaction(async (tx) => this.record(tx, m, result));
    if (!alert) return;
    for (const listener of this.listeners) {
      try {
        await listener(alert);
      } catch (err) {
        this.logger.error({ err, monitor: m.name }, 'a monitor alert listener failed');
      }
    }
  }

  private async record(
    tx: Queryable,
    m: Monitor,
    result: CheckResult,
  ): Promise<MonitorAlert | undefined> {
    // Re-read under a row lock: state may have moved since the claim.
    const { rows } = await tx.query<Row>('SELECT * FROM monitors WHERE id = $1 FOR UPDATE', [m.id]);
    const row = rows[0];
    if (!row) return undefined;
    const t = nextState({ state: row.state, failures: row.failures }, result.ok, row.retries);
    const changed = t.state !== row.state;
    const { rows: updated } = await tx.query<{ last_change_at: Date }>(
      `UPDATE monitors SET state = $2, failures = $3, last_checked_at = now(), last_result = $4,
         last_change_at = CASE WHEN $5 THEN now() ELSE last_change_at END
       WHERE id = $1 RETURNING last_change_at`,
      [m.id, t.state, t.failures, JSON.stringify(result), changed],
    );
    // The history behind the heartbeat bars: this check, and no more than the last 50.
    await tx.query(
      `INSERT INTO monitor_checks (monitor_id, ok, latency_ms, detail) VALUES ($1, $2, $3, $4)`,
      [m.id, result.ok, result.latencyMs, result.detail.slice(0, 2000)],
    );
    await tx.query(
      `DELETE FROM monitor_checks WHERE monitor_id = $1 AND id <= (
         SELECT id FROM monitor_checks WHERE monitor_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
      [m.id, checksKept],
    );
    if (!t.emit) return undefined;
    const now = new Date();
    const downSince =
      t.emit === 'resolved' ? (row.last_change_at ?? now) : (updated[0]?.last_change_at ?? now);
    return {
      source: 'monitor',
      fingerprint: `monitor:${row.id}`,
      service: row.service,
      severity: row.severity,
      status: t.emit,
      summary:
        t.emit === 'firing'
          ? `${row.name} is down: ${result.detail}`
          : `${row.name} is up again: ${result.detail}`,
      labels: { monitor: row.name, check: row.spec.kind, service: row.service },
      annotations: { target: describeTarget(row.spec), detail: result.detail },
      startsAt: downSince,
      endsAt: t.emit === 'resolved' ? now : null,
      raw: { monitorId: row.id, result },
    };
  }

  /** Starts the periodic loop. */
  start(): void {
    if (this.timer) return;
    const loop = () => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.warn({ err }, 'monitor tick failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(loop, this.tickMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the loop and waits for checks in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
