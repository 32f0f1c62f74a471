// What a person does to an incident by hand: acknowledge it, add a note,
// reopen it after it was resolved. Each is a timeline event with the person
// as its actor, so the timeline stays the one record of who did what. An
// acknowledgement does not change the status (the status says where healing
// is; "someone is on it" is a separate fact), and it counts once per opening:
// after a reopen the incident can be acknowledged again. A reopen by hand
// does not start automatic healing: the person who reopened it decides.
import type { Db, Queryable } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { Incident, IncidentEvent, IncidentRow } from './incident-store.ts';
import { insertEvent, toIncident } from './incident-store.ts';

export type IncidentActionsOptions = {
  /** @default () => new Date() */
  now?: () => Date;
};

export class IncidentActions {
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    options: IncidentActionsOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Locks the incident row for the transaction, so two people acting at once are ordered. */
  private async lock(tx: Queryable, id: number): Promise<Incident> {
    const { rows } = await tx.query<IncidentRow>(
      'SELECT * FROM incidents WHERE id = $1 FOR UPDATE',
      [id],
    );
    if (!rows[0]) throw notFound('incident', id);
    return toIncident(rows[0]);
  }

  /** Records that `actor` is on it. Refused on a resolved incident and when already acknowledged since it last (re)opened. */
  acknowledge(id: number, actor: string): Promise<IncidentEvent> {
    return this.db.transaction(async (tx) => {
      const incident = await this.lock(tx, id);
      if (incident.status === 'resolved')
        throw new UserError(
          'incident_resolved',
          `incident ${id} is resolved; reopen it before acknowledging`,
          { status: 409 },
        );
      const { rows } = await tx.query<{ actor: string; at: Date }>(
        `SELECT actor, at FROM incident_events
          WHERE incident_id = $1 AND type = 'acknowledged'
            AND id > COALESCE((SELECT max(id) FROM incident_events
                                WHERE incident_id = $1 AND type = 'reopened'), 0)
          ORDER BY id DESC LIMIT 1`,
        [id],
      );
      const prior = rows[0];
      if (prior)
        throw new UserError(
          'already_acknowledged',
          `incident ${id} was already acknowledged by ${prior.actor} at ${new Date(prior.at).toISOString()}`,
          { status: 409, details: { by: prior.actor, at: new Date(prior.at).toISOString() } },
        );
      return insertEvent(tx, id, this.now(), {
        type: 'acknowledged',
        message: `acknowledged by ${actor}`,
        evidence: { status: incident.status },
        actor,
      });
    });
  }

  /** A note on the timeline; allowed in any status, a resolved incident included. */
  async addNote(id: number, note: { text: string; actor: string }): Promise<IncidentEvent> {
    const text = note.text.trim();
    if (text === '')
      throw new UserError('empty_note', 'the note is empty; write what you saw or did');
    return this.db.transaction(async (tx) => {
      await this.lock(tx, id);
      return insertEvent(tx, id, this.now(), { type: 'note', message: text, actor: note.actor });
    });
  }

  /** Opens a resolved incident again; refused (409) when it is not resolved. */
  reopen(id: number, request: { actor: string; reason?: string }): Promise<Incident> {
    return this.db.transaction(async (tx) => {
      const incident = await this.lock(tx, id);
      if (incident.status !== 'resolved')
        throw new UserError(
          'incident_not_resolved',
          `incident ${id} is ${incident.status}, not resolved; only a resolved incident can be reopened`,
          { status: 409 },
        );
      const now = this.now();
      const { rows } = await tx.query<IncidentRow>(
        `UPDATE incidents SET status = 'open', resolved_at = NULL, updated_at = $2
          WHERE id = $1 RETURNING *`,
        [id, now],
      );
      const reason = request.reason?.trim();
      await insertEvent(tx, id, now, {
        type: 'reopened',
        message: reason
          ? `reopened by ${request.actor}: ${reason}`
          : `reopened by ${request.actor}`,
        evidence: { by: request.actor, ...(reason ? { reason } : {}) },
        actor: request.actor,
      });
      return toIncident(rows[0]!);
    });
  }
}
