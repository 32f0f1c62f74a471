// Incidents: ingest normalised alerts through noise control, keep the
// timeline, and tell listeners (the healing pipeline) when an incident opens,
// resolves or turns out to be flapping. A batch (one notification) is stored
// and decided in one transaction, all or nothing, under a lock on each
// alert's service and fingerprint (taken in sorted order, so two batches
// never wait on each other in a cycle), so two copies of one alert arriving
// together open one incident. A notification carrying an idempotency key
// seen within the window is answered with its first results and stores
// nothing again: a sender that retries after a timeout duplicates nothing.
import type { Db, Queryable } from '../db/db.ts';
import { lockForTransaction } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AlertStatus, NormalizedAlert } from './alert.ts';
import type {
  AlertRow,
  Incident,
  IncidentEvent,
  IncidentRow,
  IncidentStatus,
  StoredAlert,
} from './incident-store.ts';
import {
  alertEvidence,
  incidentStatuses,
  insertEvent,
  readEvents,
  toAlert,
  toIncident,
} from './incident-store.ts';
import type { Decision, NoiseSettings, Outcome } from './noise.ts';
import { decide, gatherFacts } from './noise.ts';

/** What happened to one alert. */
export type IngestResult = {
  alertId: number;
  service: string;
  fingerprint: string;
  status: AlertStatus;
  outcome: Outcome;
  incidentId: number | null;
  /** Why, in words: the maintenance window, the count so far, ... */
  detail: string;
};

export type IncidentNotice = {
  type: 'incident.opened' | 'incident.resolved' | 'incident.flapping';
  incident: Incident;
  alert: StoredAlert;
};

/**
 * Called after the alert's transaction committed. Only `incident.opened`
 * may lead to remediation; a resolved or flapping incident never should.
 */
export type IncidentListener = (notice: IncidentNotice) => void | Promise<void>;

export type IncidentServiceOptions = {
  settings: NoiseSettings;
  logger?: Logger;
  /** Clock for received times and windows. @default () => new Date() */
  now?: () => Date;
  /** How long a notification's idempotency key is remembered. @default 600000 */
  idempotencyWindowMs?: number;
};

export type ListIncidentsOptions = {
  status?: IncidentStatus;
  service?: string;
  /** @default 50 */
  limit?: number;
  /** Only incidents with a smaller id (paging). */
  beforeId?: number;
};

export type ListAlertsOptions = {
  service?: string;
  status?: AlertStatus;
  incidentId?: number;
  /** @default 50 */
  limit?: number;
  beforeId?: number;
  /** Include each alert's raw payload. @default false */
  raw?: boolean;
};

const alertColumns = `id, endpoint_id, source, fingerprint, service, severity, status, summary,
  labels, annotations, starts_at, ends_at, received_at, outcome, incident_id`;

function detailOf(d: Decision): string {
  switch (d.outcome) {
    case 'opened':
      return `opened an incident after ${d.occurrences} firing alert(s)`;
    case 'deduplicated':
      return 'added to the incident already open for this service and fingerprint';
    case 'pending':
      return `${d.occurrences} of ${d.needed} firing alerts needed to open an incident`;
    case 'suppressed':
      return `suppressed by maintenance window ${d.maintenance.id} (${d.maintenance.reason})`;
    case 'flapping':
      return `flapping: ${d.transitions} firing/resolved changes within the flapping window`;
    case 'resolved':
      return 'resolved the open incident';
    case 'ignored':
      return d.reason;
  }
}

export class IncidentService {
  private readonly listeners = new Set<IncidentListener>();
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    private readonly options: IncidentServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Subscribes to incident notices; returns the unsubscribe function. */
  subscribe(listener: IncidentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stores and decides each alert in order; one result per alert. */
  async ingest(
    alerts: readonly NormalizedAlert[],
    context: { endpointId?: number | null; idempotencyKey?: string } = {},
  ): Promise<IngestResult[]> {
    return (await this.ingestNotification(alerts, context)).results;
  }

  /**
   * One notification: every alert or none. `replayed` is true when the
   * idempotency key was seen within the window and nothing was stored.
   */
  async ingestNotification(
    alerts: readonly NormalizedAlert[],
    context: { endpointId?: number | null; idempotencyKey?: string } = {},
  ): Promise<{ results: IngestResult[]; replayed: boolean }> {
    const key = context.idempotencyKey;
    const windowS = (this.options.idempotencyWindowMs ?? 600_000) / 1000;
    const outcome = await this.db.transaction(async (tx) => {
      if (key !== undefined) {
        await lockForTransaction(tx, `warden:alert-notification:${key}`);
        const { rows } = await tx.query<{ results: IngestResult[] }>(
          `SELECT results FROM alert_notifications
            WHERE key = $1 AND received_at > now() - make_interval(secs => $2::double precision)`,
          [key, windowS],
        );
        if (rows[0]) return { results: rows[0].results, notices: [], replayed: true };
      }
      const lockKeys = [
        ...new Set(alerts.map((a) => `warden:incident-key:${a.service}\u0000${a.fingerprint}`)),
      ].sort();
      for (const k of lockKeys) await lockForTransaction(tx, k);
      const results: IngestResult[] = [];
      const notices: IncidentNotice[] = [];
      for (const alert of alerts) {
        const { result, notice } = await this.ingestOne(tx, alert, context.endpointId ?? null);
        results.push(result);
        if (notice) notices.push(notice);
      }
      if (key !== undefined)
        await tx.query(
          `INSERT INTO alert_notifications (key, endpoint_id, results) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (key) DO UPDATE SET results = EXCLUDED.results, received_at = now()`,
          [key, context.endpointId ?? null, JSON.stringify(results)],
        );
      return { results, notices, replayed: false };
    });
    // Listeners hear about the batch only once it is committed.
    for (const notice of outcome.notices) await this.notify(notice);
    if (key !== undefined && !outcome.replayed && Math.random() < 0.01)
      await this.db
        .query(
          'DELETE FROM alert_notifications WHERE received_at < now() - make_interval(secs => $1::double precision)',
          [windowS],
        )
        .catch(() => undefined);
    return { results: outcome.results, replayed: outcome.replayed };
  }

  private async ingestOne(
    tx: Queryable,
    alert: NormalizedAlert,
    endpointId: number | null,
  ): Promise<{ result: IngestResult; notice?: IncidentNotice }> {
    const now = this.now();
    const facts = await gatherFacts(tx, alert, now, this.options.settings);
    const decision = decide(alert.status, facts, this.options.settings);
    let incidentId: number | null = null;
    const events: { type: string; message: string }[] = [];
    let noticeType: IncidentNotice['type'] | undefined;

    switch (decision.outcome) {
      case 'opened':
      case 'flapping': {
        if (decision.outcome === 'opened' || decision.action === 'open') {
          const { rows } = await tx.query<{ id: number }>(
            `INSERT INTO incidents (service, fingerprint, source, severity, status, summary, labels,
               annotations, occurrences, flapping, opened_at, last_seen_at, updated_at)
             VALUES ($1, $2, $3, $4, 'open', $5, $6::jsonb, $7::jsonb, $8, $9, $10, $10, $10)
             RETURNING id`,
            [
              alert.service,
              alert.fingerprint,
              alert.source,
              alert.severity,
              alert.summary,
              JSON.stringify(alert.labels),
              JSON.stringify(alert.annotations),
              decision.occurrences,
              decision.outcome === 'flapping',
              now,
            ],
          );
          incidentId = rows[0]!.id;
          events.push({ type: 'opened', message: `opened: ${alert.summary}` });
        } else {
          incidentId = decision.incidentId;
          const reopen = decision.action === 'reopen';
          await tx.query(
            `UPDATE incidents SET flapping = true, occurrences = occurrences + 1,
               last_seen_at = $2, updated_at = $2,
               status = CASE WHEN $3 THEN 'open' ELSE status END,
               resolved_at = CASE WHEN $3 THEN NULL ELSE resolved_at END
             WHERE id = $1`,
            [incidentId, now, reopen],
          );
          if (reopen) events.push({ type: 'reopened', message: 'fired again after resolving' });
        }
        if (decision.outcome === 'flapping') {
          events.push({ type: 'flapping', message: detailOf(decision) });
          noticeType = 'incident.flapping';
        } else noticeType = 'incident.opened';
        break;
      }
      case 'deduplicated':
        incidentId = decision.incidentId;
        await tx.query(
          `UPDATE incidents SET occurrences = occurrences + 1, last_seen_at = $2, updated_at = $2
           WHERE id = $1`,
          [incidentId, now],
        );
        break;
      case 'resolved':
        incidentId = decision.incidentId;
        await tx.query(
          `UPDATE incidents SET status = 'resolved', resolved_at = $2, last_seen_at = $2,
             updated_at = $2 WHERE id = $1`,
          [incidentId, now],
        );
        events.push({ type: 'resolved', message: `resolved by the sender: ${alert.summary}` });
        noticeType = 'incident.resolved';
        break;
      default:
        break;
    }

    const { rows } = await tx.query<AlertRow>(
      `INSERT INTO alerts (endpoint_id, source, fingerprint, service, severity, status, summary,
         labels, annotations, starts_at, ends_at, raw, received_at, outcome, incident_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb, $13, $14, $15)
       RETURNING ${alertColumns}`,
      [
        endpointId,
        alert.source,
        alert.fingerprint,
        alert.service,
        alert.severity,
        alert.status,
        alert.summary,
        JSON.stringify(alert.labels),
        JSON.stringify(alert.annotations),
        alert.startsAt,
        alert.endsAt,
        JSON.stringify(alert.raw ?? null),
        now,
        decision.outcome,
        incidentId,
      ],
    );
    const stored = toAlert(rows[0]!);
    for (const e of events)
      await insertEvent(tx, incidentId!, now, { ...e, evidence: { alert: alertEvidence(stored) } });

    const result: IngestResult = {
      alertId: stored.id,
      service: alert.service,
      fingerprint: alert.fingerprint,
      status: alert.status,
      outcome: decision.outcome,
      incidentId,
      detail: detailOf(decision),
    };
    if (!noticeType || incidentId === null) return { result };
    const incident = await this.getIn(tx, incidentId);
    return { result, notice: { type: noticeType, incident, alert: stored } };
  }

  private async notify(notice: IncidentNotice): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(notice);
      } catch (err) {
        // The alert is stored and decided; a listener's failure must not undo that.
        this.options.logger?.error(
          { err, incidentId: notice.incident.id, type: notice.type },
          'incident listener failed',
        );
      }
    }
  }

  private async getIn(q: Queryable, id: number): Promise<Incident> {
    const { rows } = await q.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('incident', id);
    return toIncident(rows[0]);
  }

  get(id: number): Promise<Incident> {
    return this.getIn(this.db, id);
  }

  /** The incident with its timeline and the alerts grouped into it. */
  async show(
    id: number,
  ): Promise<{ incident: Incident; events: IncidentEvent[]; alerts: StoredAlert[] }> {
    const incident = await this.get(id);
    const events = await readEvents(this.db, id);
    const alerts = await this.listAlerts({ incidentId: id, limit: 100 });
    return { incident, events, alerts };
  }

  async list(options: ListIncidentsOptions = {}): Promise<Incident[]> {
    if (options.status && !incidentStatuses.includes(options.status))
      throw new UserError(
        'invalid_status',
        `status must be one of ${incidentStatuses.join(', ')}; got "${options.status}"`,
      );
    const { rows } = await this.db.query<IncidentRow>(
      `SELECT * FROM incidents
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR service = $2)
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [
        options.status ?? null,
        options.service ?? null,
        options.beforeId ?? null,
        Math.min(options.limit ?? 50, 1000),
      ],
    );
    return rows.map(toIncident);
  }

  async listAlerts(options: ListAlertsOptions = {}): Promise<StoredAlert[]> {
    const { rows } = await this.db.query<AlertRow>(
      `SELECT ${alertColumns}${options.raw ? ', raw' : ''} FROM alerts
        WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR status = $2)
          AND ($3::bigint IS NULL OR incident_id = $3) AND ($4::bigint IS NULL OR id < $4)
        ORDER BY id DESC LIMIT $5`,
      [
        options.service ?? null,
        options.status ?? null,
        options.incidentId ?? null,
        options.beforeId ?? null,
        Math.min(options.limit ?? 50, 1000),
      ],
    );
    return rows.map(toAlert);
  }

  /** Appends a step to an incident's timeline (the pipeline records its work here). */
  async addEvent(
    id: number,
    event: { type: string; message: string; evidence?: Record<string, unknown>; actor?: string },
  ): Promise<IncidentEvent> {
    await this.get(id);
    return insertEvent(this.db, id, this.now(), event);
  }

  /** Moves an incident to a status and records why. A resolved incident stays resolved. */
  async setStatus(
    id: number,
    status: IncidentStatus,
    event: { message: string; evidence?: Record<string, unknown>; actor?: string },
  ): Promise<Incident> {
    if (!incidentStatuses.includes(status))
      throw new UserError('invalid_status', `unknown incident status "${status}"`);
    return this.db.transaction(async (tx) => {
      const now = this.now();
      const { rows } = await tx.query<IncidentRow>(
        `UPDATE incidents SET status = $2, updated_at = $3,
           resolved_at = CASE WHEN $2 = 'resolved' THEN $3 ELSE resolved_at END
         WHERE id = $1 AND status <> 'resolved' RETURNING *`,
        [id, status, now],
      );
      if (!rows[0]) {
        const current = await this.getIn(tx, id);
        throw new UserError(
          'incident_closed',
          `incident ${id} is ${current.status}; it cannot move to ${status}`,
          { status: 409 },
        );
      }
      await insertEvent(tx, id, now, {
        type: 'status',
        ...event,
        evidence: { status, ...event.evidence },
      });
      return toIncident(rows[0]);
    });
  }
}
