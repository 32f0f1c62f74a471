// Noise control: what one incoming alert does, decided from facts read out
// of the database under a per-(service, fingerprint) lock. decide() is pure,
// so every rule is testable without a database; gatherFacts() reads them.
//
// Rules, in order:
// - a resolved alert closes the unresolved incident for its key, if any, and
//   never opens anything nor is suppressed;
// - a firing alert inside an active maintenance window is stored, nothing more;
// - a firing alert whose key flips between firing and resolved too often
//   marks (or reopens) its incident as flapping instead of opening a new one;
// - a firing alert with an unresolved incident for its key is a duplicate;
// - otherwise it counts towards opening: the incident opens once `openAfter`
//   firing alerts arrived within the group window since the key last resolved.
import type { Queryable } from '../db/db.ts';
import type { AlertStatus, NormalizedAlert } from './alert.ts';
import type { MaintenanceWindow } from './maintenance.ts';
import { activeMaintenance } from './maintenance.ts';

export type NoiseSettings = {
  /** Window for counting firing alerts towards opening, ms. */
  groupWindowMs: number;
  /** Firing alerts needed to open an incident. */
  openAfter: number;
  /** Status changes within the flapping window that mean flapping. */
  flappingTransitions: number;
  flappingWindowMs: number;
};

export type Facts = {
  /** The unresolved incident for this service and fingerprint. */
  active: { id: number; flapping: boolean } | undefined;
  /** The latest resolved incident for the key. */
  lastResolved: { id: number; resolvedAt: Date } | undefined;
  maintenance: MaintenanceWindow | undefined;
  /** Statuses of earlier alerts for the key within the flapping window, oldest first. */
  recentStatuses: AlertStatus[];
  /** Earlier firing alerts (not suppressed) within the group window since the key last resolved. */
  firingSinceReset: number;
};

export type Outcome =
  'opened' | 'deduplicated' | 'pending' | 'suppressed' | 'flapping' | 'resolved' | 'ignored';

export type Decision =
  | { outcome: 'resolved'; incidentId: number }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'suppressed'; maintenance: MaintenanceWindow }
  | { outcome: 'deduplicated'; incidentId: number }
  | { outcome: 'flapping'; action: 'mark'; incidentId: number; transitions: number }
  | { outcome: 'flapping'; action: 'reopen'; incidentId: number; transitions: number }
  | { outcome: 'flapping'; action: 'open'; transitions: number; occurrences: number }
  | { outcome: 'pending'; occurrences: number; needed: number }
  | { outcome: 'opened'; occurrences: number };

/** How many times consecutive statuses differ. */
export function countTransitions(statuses: readonly AlertStatus[]): number {
  let n = 0;
  for (let i = 1; i < statuses.length; i++) if (statuses[i] !== statuses[i - 1]) n++;
  return n;
}

export function decide(status: AlertStatus, facts: Facts, settings: NoiseSettings): Decision {
  if (status === 'resolved') {
    return facts.active
      ? { outcome: 'resolved', incidentId: facts.active.id }
      : { outcome: 'ignored', reason: 'resolved, and no incident is open for it' };
  }
  if (facts.maintenance) return { outcome: 'suppressed', maintenance: facts.maintenance };
  const transitions = countTransitions([...facts.recentStatuses, status]);
  const flapping = transitions >= settings.flappingTransitions;
  const occurrences = facts.firingSinceReset + 1;
  if (facts.active) {
    if (flapping && !facts.active.flapping)
      return { outcome: 'flapping', action: 'mark', incidentId: facts.active.id, transitions };
    return { outcome: 'deduplicated', incidentId: facts.active.id };
  }
  if (flapping) {
    return facts.lastResolved
      ? { outcome: 'flapping', action: 'reopen', incidentId: facts.lastResolved.id, transitions }
      : { outcome: 'flapping', action: 'open', transitions, occurrences };
  }
  if (occurrences < settings.openAfter)
    return { outcome: 'pending', occurrences, needed: settings.openAfter };
  return { outcome: 'opened', occurrences };
}

export async function gatherFacts(
  q: Queryable,
  alert: Pick<NormalizedAlert, 'service' | 'fingerprint' | 'status' | 'labels'>,
  now: Date,
  settings: NoiseSettings,
): Promise<Facts> {
  const key = [alert.service, alert.fingerprint];
  const active = (
    await q.query<{ id: number; flapping: boolean }>(
      `SELECT id, flapping FROM incidents
        WHERE service = $1 AND fingerprint = $2 AND status <> 'resolved'`,
      key,
    )
  ).rows[0];
  const lastResolved = (
    await q.query<{ id: number; resolved_at: Date }>(
      `SELECT id, resolved_at FROM incidents
        WHERE service = $1 AND fingerprint = $2 AND status = 'resolved'
        ORDER BY resolved_at DESC, id DESC LIMIT 1`,
      key,
    )
  ).rows[0];
  const maintenance =
    alert.status === 'firing'
      ? await activeMaintenance(q, alert.service, alert.labels, now)
      : undefined;
  const recent = await q.query<{ status: AlertStatus }>(
    `SELECT status FROM alerts
      WHERE service = $1 AND fingerprint = $2 AND received_at > $3
      ORDER BY received_at, id`,
    [...key, new Date(now.getTime() - settings.flappingWindowMs)],
  );
  const count = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM alerts
      WHERE service = $1 AND fingerprint = $2 AND status = 'firing' AND outcome <> 'suppressed'
        AND received_at > $3
        AND received_at > coalesce(
          (SELECT max(received_at) FROM alerts
            WHERE service = $1 AND fingerprint = $2 AND status = 'resolved'),
          '-infinity'::timestamptz)`,
    [...key, new Date(now.getTime() - settings.groupWindowMs)],
  );
  return {
    active,
    lastResolved: lastResolved && { id: lastResolved.id, resolvedAt: lastResolved.resolved_at },
    maintenance,
    recentStatuses: recent.rows.map((r) => r.status),
    firingSinceReset: count.rows[0]?.n ?? 0,
  };
}
