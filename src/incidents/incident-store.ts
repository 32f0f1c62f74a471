// Rows of alerts, incidents and incident events, and the reads the API and
// CLI need. Writes that decide something live in incident-service.ts.
import type { Queryable } from '../db/db.ts';
import type { AlertSource, AlertStatus, NormalizedAlert, Severity } from './alert.ts';
import type { Outcome } from './noise.ts';

export const incidentStatuses = [
  'open',
  'investigating',
  'remediating',
  'verifying',
  'resolved',
  'escalated',
  'awaiting_approval',
] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

export type Incident = {
  id: number;
  service: string;
  fingerprint: string;
  source: AlertSource;
  severity: Severity;
  status: IncidentStatus;
  summary: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  occurrences: number;
  flapping: boolean;
  openedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  updatedAt: Date;
  /** The incident this one was grouped into during an alert storm. */
  parentId: number | null;
};

export type IncidentEvent = {
  id: number;
  incidentId: number;
  at: Date;
  /** opened, occurrence, flapping, reopened, resolved, status, ... */
  type: string;
  message: string;
  /** Command outputs, log excerpts, model answers, the alert: anything that explains the step. */
  evidence: Record<string, unknown>;
  actor: string;
};

export type StoredAlert = Omit<NormalizedAlert, 'raw'> & {
  id: number;
  endpointId: number | null;
  receivedAt: Date;
  outcome: Outcome;
  incidentId: number | null;
  raw?: unknown;
};

export type IncidentRow = {
  id: number;
  service: string;
  fingerprint: string;
  source: AlertSource;
  severity: Severity;
  status: IncidentStatus;
  summary: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  occurrences: number;
  flapping: boolean;
  opened_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  updated_at: Date;
  parent_id?: number | null;
};

export const toIncident = (r: IncidentRow): Incident => ({
  id: r.id,
  service: r.service,
  fingerprint: r.fingerprint,
  source: r.source,
  severity: r.severity,
  status: r.status,
  summary: r.summary,
  labels: r.labels,
  annotations: r.annotations,
  occurrences: r.occurrences,
  flapping: r.flapping,
  openedAt: r.opened_at,
  lastSeenAt: r.last_seen_at,
  resolvedAt: r.resolved_at,
  updatedAt: r.updated_at,
  parentId: r.parent_id === null || r.parent_id === undefined ? null : Number(r.parent_id),
});

type EventRow = {
  id: number;
  incident_id: number;
  at: Date;
  type: string;
  message: string;
  evidence: Record<string, unknown>;
  actor: string;
};

export const toEvent = (r: EventRow): IncidentEvent => ({
  id: r.id,
  incidentId: r.incident_id,
  at: r.at,
  type: r.type,
  message: r.message,
  evidence: r.evidence,
  actor: r.actor,
});

export type AlertRow = {
  id: number;
  endpoint_id: number | null;
  source: AlertSource;
  fingerprint: string;
  service: string;
  severity: Severity;
  status: AlertStatus;
  summary: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: Date;
  ends_at: Date | null;
  raw?: unknown;
  received_at: Date;
  outcome: Outcome;
  incident_id: number | null;
};

export const toAlert = (r: AlertRow): StoredAlert => ({
  id: r.id,
  endpointId: r.endpoint_id,
  source: r.source,
  fingerprint: r.fingerprint,
  service: r.service,
  severity: r.severity,
  status: r.status,
  summary: r.summary,
  labels: r.labels,
  annotations: r.annotations,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  receivedAt: r.received_at,
  outcome: r.outcome,
  incidentId: r.incident_id,
  ...(r.raw !== undefined ? { raw: r.raw } : {}),
});

export async function insertEvent(
  q: Queryable,
  incidentId: number,
  at: Date,
  event: { type: string; message: string; evidence?: Record<string, unknown>; actor?: string },
): Promise<IncidentEvent> {
  const { rows } = await q.query<EventRow>(
    `INSERT INTO incident_events (incident_id, at, type, message, evidence, actor)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING *`,
    [
      incidentId,
      at,
      event.type,
      event.message,
      JSON.stringify(event.evidence ?? {}),
      event.actor ?? 'warden',
    ],
  );
  return toEvent(rows[0]!);
}

export async function readEvents(q: Queryable, incidentId: number): Promise<IncidentEvent[]> {
  const { rows } = await q.query<EventRow>(
    'SELECT * FROM incident_events WHERE incident_id = $1 ORDER BY at, id',
    [incidentId],
  );
  return rows.map(toEvent);
}

/** The alert as evidence: what arrived, without the bulky raw payload. */
export function alertEvidence(alert: StoredAlert): Record<string, unknown> {
  return {
    alertId: alert.id,
    source: alert.source,
    status: alert.status,
    severity: alert.severity,
    summary: alert.summary,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt.toISOString(),
  };
}
