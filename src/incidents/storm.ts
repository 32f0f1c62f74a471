// Alert storms, in the manner of Alertmanager's grouping and PagerDuty's
// event grouping: decides, for each newly opened incident, whether it may
// start automatic healing. Within a window, an incident of a service that
// already has several open is attached to the first of them (its parent) and
// is not healed alone; above a storm threshold (all services) automatic
// actions pause and one summary escalation goes out per window, naming the
// services. The counts are read from the database, so every main process
// decides the same. Healing runs that are admitted still queue behind the
// healing concurrency limit (engine: the execution group).
import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';
import type { NotificationService } from '../notify/notification-service.ts';
import type { IncidentService } from './incident-service.ts';
import type { Incident } from './incident-store.ts';

export type StormSettings = {
  windowMs: number;
  /** Incidents of one service within the window before more are grouped. */
  groupAfter: number;
  /** Incidents within the window (all services) above which automatic actions pause. */
  pauseAfter: number;
};

export type StormDecision =
  | { admit: true }
  | { admit: false; reason: 'grouped'; parentId: number }
  | { admit: false; reason: 'storm'; opened: number };

export type StormDeps = {
  db: Db;
  incidents: IncidentService;
  notifications: NotificationService;
  logger: Logger;
  settings: StormSettings;
  /** @default () => Date.now() */
  now?: () => number;
};

/** The pure rule: counts in, decision out. */
export function decideStorm(
  counts: { total: number; service: number; parentId: number | null },
  settings: StormSettings,
): StormDecision {
  if (counts.total > settings.pauseAfter)
    return { admit: false, reason: 'storm', opened: counts.total };
  if (counts.service > settings.groupAfter && counts.parentId !== null)
    return { admit: false, reason: 'grouped', parentId: counts.parentId };
  return { admit: true };
}

export type StormState = {
  /** True while more incidents opened within the window than the pause threshold. */
  paused: boolean;
  openedInWindow: number;
  pauseAfter: number;
  windowSeconds: number;
  /** Why automatic actions are paused, in words; null when they are not. */
  reason: string | null;
};

/** Whether a newly opened incident would find automatic actions paused now (what admit() would decide on the count). */
export async function stormState(
  db: Db,
  settings: StormSettings,
  now: number = Date.now(),
): Promise<StormState> {
  const { rows } = await db.query<{ total: number }>(
    'SELECT count(*)::int AS total FROM incidents WHERE opened_at > $1',
    [new Date(now - settings.windowMs)],
  );
  const opened = rows[0]?.total ?? 0;
  const decision = decideStorm({ total: opened, service: 0, parentId: null }, settings);
  const windowSeconds = Math.round(settings.windowMs / 1000);
  return {
    paused: !decision.admit,
    openedInWindow: opened,
    pauseAfter: settings.pauseAfter,
    windowSeconds,
    reason: decision.admit
      ? null
      : `${opened} incidents opened within ${windowSeconds} s (more than ${settings.pauseAfter}); new incidents wait for a person`,
  };
}

export class StormGuard {
  constructor(private readonly d: StormDeps) {}

  private now(): number {
    return this.d.now?.() ?? Date.now();
  }

  /** Decides for a newly opened incident, and records what it decided on the incident. */
  async admit(incident: Incident): Promise<StormDecision> {
    const { settings } = this.d;
    const since = new Date(this.now() - settings.windowMs);
    const { rows } = await this.d.db.query<{
      total: number;
      service: number;
      parent: number | null;
    }>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE service = $2 AND status <> 'resolved')::int AS service,
              min(id) FILTER (WHERE service = $2 AND id <> $3 AND parent_id IS NULL
                AND status <> 'resolved') AS parent
         FROM incidents WHERE opened_at > $1 AND id <= $3`,
      [since, incident.service, incident.id],
    );
    const c = rows[0]!;
    const decision = decideStorm(
      { total: c.total, service: c.service, parentId: c.parent === null ? null : Number(c.parent) },
      settings,
    );
    if (decision.admit) return decision;
    if (decision.reason === 'grouped') {
      await this.d.db.query('UPDATE incidents SET parent_id = $2 WHERE id = $1', [
        incident.id,
        decision.parentId,
      ]);
      await this.d.incidents.addEvent(incident.id, {
        type: 'storm.grouped',
        message: `grouped into incident ${decision.parentId}: ${c.service} incidents of ${incident.service} opened within ${Math.round(settings.windowMs / 1000)} s; it is not healed alone`,
        evidence: { parentId: decision.parentId, serviceIncidents: c.service },
      });
      return decision;
    }
    await this.d.incidents.addEvent(incident.id, {
      type: 'storm.paused',
      message: `automatic actions paused: ${decision.opened} incidents opened within ${Math.round(settings.windowMs / 1000)} s (more than ${settings.pauseAfter}); a person decides`,
      evidence: { opened: decision.opened },
    });
    await this.summarize(since).catch((err: unknown) =>
      this.d.logger.error({ err }, 'could not send the storm summary'),
    );
    return decision;
  }

  /** One escalation per window: how many incidents, of which services. */
  private async summarize(since: Date): Promise<void> {
    const { rows } = await this.d.db.query<{ service: string; n: number }>(
      `SELECT service, count(*)::int AS n FROM incidents WHERE opened_at > $1
        GROUP BY service ORDER BY n DESC, service LIMIT 10`,
      [since],
    );
    const total = rows.reduce((a, r) => a + r.n, 0);
    const bucket = Math.floor(this.now() / this.d.settings.windowMs);
    this.d.logger.warn({ services: rows, total }, 'alert storm: automatic actions paused');
    await this.d.notifications.notify({
      kind: 'escalated',
      title: `Alert storm: ${total}+ incidents opened within ${Math.round(this.d.settings.windowMs / 1000)} s; automatic actions paused`,
      text: [
        'Warden stopped starting automatic fixes until the storm passes; new incidents wait for a person.',
        ...rows.map((r) => `${r.service}: ${r.n}`),
      ].join('\n'),
      dedupKey: `storm:${bucket}`,
      severity: 'critical',
    });
  }
}
