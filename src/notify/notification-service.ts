// Fans a notification out to every configured channel, once per channel per
// dedup window, across all processes sharing the database. A failing
// channel is retried with backoff and recorded; it never blocks the others.
import type { Db } from '../db/db.ts';
import { lockForTransaction } from '../db/db.ts';
import type { Logger } from '../log.ts';
import type { Notification, Notifier } from './notifier.ts';

export type NotificationServiceOptions = {
  /** Same dedupKey within this window is sent once per channel. @default 3600000 */
  dedupWindowMs?: number;
  /** Attempts per channel. @default 3 */
  attempts?: number;
  /** Wait before the second attempt; doubles after. @default 1000 */
  backoffMs?: number;
  /** Told of each delivery's outcome (metrics). */
  onDelivered?(result: DeliveryResult): void;
};

export type DeliveryResult = {
  channel: string;
  status: 'sent' | 'failed' | 'duplicate';
  error?: string;
};

export class NotificationService {
  private readonly dedupWindowMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly onDelivered: ((result: DeliveryResult) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly notifiers: Notifier[],
    private readonly logger: Logger,
    options: NotificationServiceOptions = {},
  ) {
    this.dedupWindowMs = options.dedupWindowMs ?? 3600_000;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.backoffMs = options.backoffMs ?? 1000;
    this.onDelivered = options.onDelivered;
  }

  get channels(): string[] {
    return this.notifiers.map((n) => n.channel);
  }

  async notify(n: Notification): Promise<DeliveryResult[]> {
    const results = await Promise.all(this.notifiers.map((notifier) => this.deliver(notifier, n)));
    for (const r of results) this.onDelivered?.(r);
    return results;
  }

  /** Claims the (key, channel) pair for this window; false when another send already has it. */
  private async claim(channel: string, n: Notification): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      await lockForTransaction(tx, `notify:${channel}:${n.dedupKey}`);
      const { rows } = await tx.query(
        `SELECT 1 FROM notifications
          WHERE dedup_key = $1 AND channel = $2 AND status <> 'failed'
            AND created_at > now() - make_interval(secs => $3::double precision)`,
        [n.dedupKey, channel, this.dedupWindowMs / 1000],
      );
      if (rows.length > 0) return undefined;
      const inserted = await tx.query<{ id: number }>(
        `INSERT INTO notifications (dedup_key, channel, kind, title, incident_id, status)
         VALUES ($1, $2, $3, $4, $5, 'sending') RETURNING id`,
        [n.dedupKey, channel, n.kind, n.title, n.incidentId ?? null],
      );
      return inserted.rows[0]!.id;
    });
  }

  private async deliver(notifier: Notifier, n: Notification): Promise<DeliveryResult> {
    const id = await this.claim(notifier.channel, n);
    if (id === undefined) return { channel: notifier.channel, status: 'duplicate' };
    let lastError = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        await notifier.send(n);
        await this.db.query(
          `UPDATE notifications SET status = 'sent', attempts = $2, sent_at = now() WHERE id = $1`,
          [id, attempt],
        );
        return { channel: notifier.channel, status: 'sent' };
      } catch (err) {
        lastError = (err as Error).message;
        this.logger.warn(
          { channel: notifier.channel, attempt, err: lastError },
          'notification failed',
        );
        if (attempt < this.attempts)
          await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
      }
    }
    await this.db.query(
      `UPDATE notifications SET status = 'failed', attempts = $2, error = $3 WHERE id = $1`,
      [id, this.attempts, lastError],
    );
    return { channel: notifier.channel, status: 'failed', error: lastError };
  }
}
