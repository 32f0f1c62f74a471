// Maintenance windows: while one is active for a service (or for every
// service), firing alerts that match it are stored but open nothing.
// Resolved alerts are never suppressed.
import type { Db, Queryable } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';

export type MaintenanceWindow = {
  id: number;
  /** null: every service. */
  service: string | null;
  /** Labels an alert must carry, with these values, for the window to apply. */
  matchers: Record<string, string>;
  reason: string;
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  createdAt: Date;
};

export type CreateMaintenanceInput = {
  service?: string | null;
  matchers?: Record<string, string>;
  reason: string;
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
};

type Row = {
  id: number;
  service: string | null;
  matchers: Record<string, string>;
  reason: string;
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  created_at: Date;
};

const toWindow = (r: Row): MaintenanceWindow => ({
  id: r.id,
  service: r.service,
  matchers: r.matchers,
  reason: r.reason,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/** The first window active at `at` that covers this service and labels. */
export async function activeMaintenance(
  q: Queryable,
  service: string,
  labels: Record<string, string>,
  at: Date,
): Promise<MaintenanceWindow | undefined> {
  const { rows } = await q.query<Row>(
    `SELECT * FROM maintenance_windows
      WHERE starts_at <= $1 AND ends_at > $1 AND (service IS NULL OR service = $2)
      ORDER BY id`,
    [at, service],
  );
  return rows
    .map(toWindow)
    .find((w) => Object.entries(w.matchers).every(([k, v]) => labels[k] === v));
}

export class MaintenanceService {
  constructor(private readonly db: Db) {}

  async create(input: CreateMaintenanceInput): Promise<MaintenanceWindow> {
    const reason = input.reason.trim();
    if (reason === '')
      throw new UserError('invalid_maintenance', 'a maintenance window needs a reason');
    for (const [field, d] of [
      ['startsAt', input.startsAt],
      ['endsAt', input.endsAt],
    ] as const) {
      if (!(d instanceof Date) || Number.isNaN(d.getTime()))
        throw new UserError('invalid_maintenance', `${field} must be a valid time`);
    }
    if (input.endsAt <= input.startsAt)
      throw new UserError('invalid_maintenance', 'endsAt must be after startsAt');
    // A blank service must not silently widen the window to every service.
    if (typeof input.service === 'string' && input.service.trim() === '')
      throw new UserError(
        'invalid_maintenance',
        'service must not be blank (leave it out to cover every service)',
      );
    const matchers = input.matchers ?? {};
    for (const [k, v] of Object.entries(matchers))
      if (typeof v !== 'string')
        throw new UserError('invalid_maintenance', `matchers.${k} must be a string`);
    const { rows } = await this.db.query<Row>(
      `INSERT INTO maintenance_windows (service, matchers, reason, starts_at, ends_at, created_by)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6) RETURNING *`,
      [
        input.service?.trim() || null,
        JSON.stringify(matchers),
        reason,
        input.startsAt,
        input.endsAt,
        input.createdBy,
      ],
    );
    return toWindow(rows[0]!);
  }

  /** Windows not yet over (or all of them), soonest first. */
  async list(options: { includePast?: boolean; now?: Date } = {}): Promise<MaintenanceWindow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM maintenance_windows WHERE $1 OR ends_at > $2 ORDER BY starts_at, id`,
      [options.includePast ?? false, options.now ?? new Date()],
    );
    return rows.map(toWindow);
  }

  async get(id: number): Promise<MaintenanceWindow> {
    const { rows } = await this.db.query<Row>('SELECT * FROM maintenance_windows WHERE id = $1', [
      id,
    ]);
    if (!rows[0]) throw notFound('maintenance window', id);
    return toWindow(rows[0]);
  }

  /**
   * Ends a window that is in effect now (its end moves to now, so the record
   * of what was suppressed stays true). A window not started yet is cancelled
   * with remove(); one already over is refused.
   */
  async end(id: number, now: Date = new Date()): Promise<MaintenanceWindow> {
    const { rows } = await this.db.query<Row>(
      `UPDATE maintenance_windows SET ends_at = $2
        WHERE id = $1 AND starts_at < $2 AND ends_at > $2 RETURNING *`,
      [id, now],
    );
    if (rows[0]) return toWindow(rows[0]);
    const w = await this.get(id);
    throw new UserError(
      'maintenance_not_active',
      w.endsAt <= now
        ? `maintenance window ${id} already ended at ${w.endsAt.toISOString()}`
        : `maintenance window ${id} has not started (it starts at ${w.startsAt.toISOString()}); delete it to cancel it`,
      { status: 409 },
    );
  }

  async remove(id: number): Promise<MaintenanceWindow> {
    const { rows } = await this.db.query<Row>(
      'DELETE FROM maintenance_windows WHERE id = $1 RETURNING *',
      [id],
    );
    if (!rows[0]) throw notFound('maintenance window', id);
    return toWindow(rows[0]);
  }
}
