// Human approval of actions the safety gate will not run on its own. A
// request names the action and its parameters exactly; a decision applies to
// that request only, once, and only before it expires. Every step lands on
// the incident's timeline, and a person is notified when one is needed.
import type { Db } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { IncidentService } from '../incidents/incident-service.ts';
import type { NotificationService } from '../notify/notification-service.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export type Approval = {
  id: number;
  incidentId: number;
  executionId: string | null;
  action: string;
  parameters: Record<string, unknown>;
  risk: string;
  reason: string;
  proposal: unknown;
  status: ApprovalStatus;
  requestedAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  comment: string | null;
};

export type ApprovalRequest = {
  incidentId: number;
  executionId?: string;
  action: string;
  parameters: Record<string, unknown>;
  risk: string;
  /** Why a person must decide, in one line. */
  reason: string;
  /** The diagnosis behind the proposal, shown to the approver. */
  proposal?: unknown;
  /** @default the service's ttlMs */
  ttlMs?: number;
};

export type ApprovalDecisionListener = (approval: Approval) => void | Promise<void>;

type Row = {
  id: number;
  incident_id: number;
  execution_id: string | null;
  action: string;
  parameters: Record<string, unknown>;
  risk: string;
  reason: string;
  proposal: unknown;
  status: ApprovalStatus;
  requested_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  comment: string | null;
};

const toApproval = (r: Row): Approval => ({
  id: r.id,
  incidentId: r.incident_id,
  executionId: r.execution_id,
  action: r.action,
  parameters: r.parameters,
  risk: r.risk,
  reason: r.reason,
  proposal: r.proposal,
  status: r.status,
  requestedAt: r.requested_at,
  expiresAt: r.expires_at,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  comment: r.comment,
});

export type ApprovalServiceOptions = {
  /** How long a request stays open. @default 3600000 */
  ttlMs?: number;
  /** Base URL for links in notifications. */
  publicUrl?: string;
};

export class ApprovalService {
  private readonly listeners: ApprovalDecisionListener[] = [];
  private readonly ttlMs: number;

  constructor(
    private readonly db: Db,
    private readonly incidents: IncidentService,
    private readonly notifications: NotificationService,
    private readonly options: ApprovalServiceOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 3600_000;
  }

  /** Called after a request is approved, rejected or expires. */
  onDecision(listener: ApprovalDecisionListener): void {
    this.listeners.push(listener);
  }

  async request(r: ApprovalRequest): Promise<Approval> {
    const ttl = r.ttlMs ?? this.ttlMs;
    let row: Row | undefined;
    try {
      ({
        rows: [row],
      } = await this.db.query<Row>(
        `INSERT INTO approvals (incident_id, execution_id, action, parameters, risk, reason, proposal, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 millisecond') RETURNING *`,
        [
          r.incidentId,
          r.executionId ?? null,
          r.action,
          JSON.stringify(r.parameters),
          r.risk,
          r.reason,
          JSON.stringify(r.proposal ?? null),
          ttl,
        ],
      ));
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new UserError(
          'approval_pending',
          `incident ${r.incidentId} already has a pending approval`,
          { status: 409 },
        );
      }
      throw err;
    }
    const approval = toApproval(row!);
    const incident = await this.incidents.setStatus(r.incidentId, 'awaiting_approval', {
      message: `approval needed to run ${r.action}: ${r.reason}`,
      evidence: {
        approvalId: approval.id,
        action: r.action,
        parameters: r.parameters,
        risk: r.risk,
        expiresAt: approval.expiresAt,
      },
    });
    const link = this.options.publicUrl
      ? `${this.options.publicUrl.replace(/\/$/, '')}/api/v1/incidents/${r.incidentId}`
      : undefined;
    await this.notifications.notify({
      kind: 'approval_needed',
      title: `Approval needed: ${r.action} on ${incident.service}`,
      text: [
        `Incident ${incident.id}: ${incident.summary}`,
        `Proposed action: ${r.action} ${JSON.stringify(r.parameters)} (risk: ${r.risk})`,
        `Why a person must decide: ${r.reason}`,
        `Expires: ${approval.expiresAt.toISOString()}`,
        `Approve: warden incidents approve ${incident.id}   Reject: warden incidents reject ${incident.id}`,
      ].join('\n'),
      dedupKey: `approval:${approval.id}`,
      incidentId: incident.id,
      severity: incident.severity,
      ...(link ? { url: link } : {}),
    });
    return approval;
  }

  async get(id: number): Promise<Approval> {
    const { rows } = await this.db.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('approval', id);
    return toApproval(rows[0]);
  }

  /** Requests newest first; `beforeId` and `limit` page through them. */
  async list(
    options: {
      status?: ApprovalStatus;
      incidentId?: number;
      beforeId?: number;
      limit?: number;
    } = {},
  ): Promise<Approval[]> {
    await this.expireDue();
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM approvals WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR incident_id = $2)
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [
        options.status ?? null,
        options.incidentId ?? null,
        options.beforeId ?? null,
        Math.min(options.limit ?? 500, 1000),
      ],
    );
    return rows.map(toApproval);
  }

  /** Approves or rejects the pending request of an incident. */
  async decide(
    incidentId: number,
    decision: 'approve' | 'reject',
    by: string,
    comment?: string,
  ): Promise<Approval> {
    await this.expireDue();
    const status = decision === 'approve' ? 'approved' : 'rejected';
    const { rows } = await this.db.query<Row>(
      `UPDATE approvals SET status = $2, decided_at = now(), decided_by = $3, comment = $4
        WHERE incident_id = $1 AND status = 'pending' AND expires_at > now() RETURNING *`,
      [incidentId, status, by, comment ?? null],
    );
    const row = rows[0];
    if (!row) {
      const { rows: last } = await this.db.query<Row>(
        'SELECT * FROM approvals WHERE incident_id = $1 ORDER BY id DESC LIMIT 1',
        [incidentId],
      );
      const prior = last[0];
      if (!prior)
        throw new UserError('no_approval', `incident ${incidentId} has no approval request`, {
          status: 404,
        });
      throw new UserError(
        'approval_closed',
        `incident ${incidentId}'s approval request is already ${prior.status}${prior.decided_by ? ` (by ${prior.decided_by})` : ''}`,
        { status: 409 },
      );
    }
    const approval = toApproval(row);
    await this.incidents.addEvent(incidentId, {
      type: `approval.${status}`,
      message: `${by} ${status} ${approval.action}${comment ? `: ${comment}` : ''}`,
      evidence: {
        approvalId: approval.id,
        action: approval.action,
        parameters: approval.parameters,
      },
      actor: by,
    });
    await this.emit(approval);
    return approval;
  }

  /** Marks every overdue pending request expired; returns them. */
  async expireDue(): Promise<Approval[]> {
    const { rows } = await this.db.query<Row>(
      `UPDATE approvals SET status = 'expired', decided_at = now()
        WHERE status = 'pending' AND expires_at <= now() RETURNING *`,
    );
    const expired = rows.map(toApproval);
    for (const a of expired) {
      await this.incidents.addEvent(a.incidentId, {
        type: 'approval.expired',
        message: `nobody decided on ${a.action} before ${a.expiresAt.toISOString()}`,
        evidence: { approvalId: a.id },
      });
      await this.emit(a);
    }
    return expired;
  }

  private async emit(approval: Approval): Promise<void> {
    for (const l of this.listeners) await l(approval);
  }
}
