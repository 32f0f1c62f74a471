// Incident and execution changes, found by polling the database once a
// second. Polling rather than an in-process emitter is deliberate: in queue
// mode the workers that move executions run in other processes, and the
// database is the one place every process writes to. One feed per server
// polls only while someone listens, however many browsers are connected.
import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';

export type ChangeEvent =
  | {
      type: 'incident';
      id: number;
      eventId: number;
      event: string;
      status: string;
      severity: string;
      service: string;
    }
  | { type: 'execution'; id: string; status: string; workflowId: number };

export type ChangeListener = (event: ChangeEvent) => void;

export type ChangeFeedOptions = {
  /** Time between polls. @default 1000 */
  intervalMs?: number;
  logger?: Logger;
};

const openExecution = ['queued', 'running', 'waiting'];

/** How far before the newest execution seen each poll looks again. */
const lookBackMs = 5_000;

type ExecutionRow = {
  id: string;
  status: string;
  workflow_id: string | number;
  created_at: Date;
};

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastEventId = 0;
  private lastCreated = new Date(0);
  /** Executions seen in the last poll, with the status they had. */
  private known = new Map<string, string>();
  private started = false;

  constructor(
    private readonly db: Db,
    private readonly options: ChangeFeedOptions = {},
  ) {}

  /** Starts polling on the first listener; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.options.intervalMs ?? 1000);
      this.timer.unref();
      // The baseline now, so changes from the first second are not missed.
      void this.poll();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // Starting again later begins from "now", not from where it stopped.
    this.started = false;
  }

  /** One poll; concurrent calls share it. Exposed for tests. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce()
      .catch((err: unknown) => this.options.logger?.warn({ err }, 'change feed poll failed'))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (!this.started) {
      await this.baseline();
      this.started = true;
      return;
    }
    const { rows: events } = await this.db.query<{
      id: string | number;
      incident_id: string | number;
      type: string;
      status: string;
      severity: string;
      service: string;
    }>(
      `SELECT e.id, e.incident_id, e.type, i.status, i.severity, i.service
         FROM incident_events e JOIN incidents i ON i.id = e.incident_id
        WHERE e.id > $1 ORDER BY e.id LIMIT 500`,
      [this.lastEventId],
    );
    for (const e of events) {
      this.lastEventId = Number(e.id);
      this.emit({
        type: 'incident',
        id: Number(e.incident_id),
        eventId: Number(e.id),
        event: e.type,
        status: e.status,
        severity: e.severity,
        service: e.service,
      });
    }
    await this.pollExecutions();
  }

  private async baseline(): Promise<void> {
    const { rows } = await this.db.query<{ id: string | number | null }>(
      'SELECT max(id) AS id FROM incident_events',
    );
    this.lastEventId = Number(rows[0]?.id ?? 0);
    const { rows: last } = await this.db.query<{ at: Date | null }>(
      'SELECT max(created_at) AS at FROM executions',
    );
    this.lastCreated = last[0]?.at ? new Date(last[0].at) : new Date(0);
    // What is still moving now is watched from here on.
    const { rows: open } = await this.db.query<ExecutionRow>(
      `SELECT id, status, workflow_id, created_at FROM executions WHERE status = ANY($1::text[])`,
      [openExecution],
    );
    const { rows: recent } = await this.db.query<ExecutionRow>(
      `SELECT id, status, workflow_id, created_at FROM executions WHERE created_at >= $1`,
      [new Date(this.lastCreated.getTime() - lookBackMs)],
    );
    // Rows the first look-back will see again are not news either.
    this.known = new Map([...open, ...recent].map((r) => [r.id, r.status]));
  }

  private async pollExecutions(): Promise<void> {
    // New rows (a page at a time, oldest first, so a burst is caught up over
    // the next polls), and the ones still moving last time (so each status
    // change, the final one included, is seen once).
    const tracked = [...this.known.entries()]
      .filter(([, status]) => openExecution.includes(status))
      .map(([id]) => id);
    // created_at is the inserting transaction's start, so a row can commit
    // after a later-stamped one was seen: look a few seconds back; the rows
    // seen last time are in `known` and are not reported twice.
    const { rows: fresh } = await this.db.query<ExecutionRow>(
      `SELECT id, status, workflow_id, created_at FROM executions
        WHERE created_at >= $1 ORDER BY created_at LIMIT 500`,
      [new Date(this.lastCreated.getTime() - lookBackMs)],
    );
    const { rows: moving } =
      tracked.length === 0
        ? { rows: [] }
        : await this.db.query<ExecutionRow>(
            `SELECT id, status, workflow_id, created_at FROM executions WHERE id = ANY($1::uuid[])`,
            [tracked],
          );
    const next = new Map<string, string>();
    for (const r of [...fresh, ...moving]) {
      if (next.has(r.id)) continue;
      next.set(r.id, r.status);
      const created = new Date(r.created_at);
      if (created > this.lastCreated) this.lastCreated = created;
      if (this.known.get(r.id) !== r.status)
        this.emit({
          type: 'execution',
          id: r.id,
          status: r.status,
          workflowId: Number(r.workflow_id),
        });
    }
    this.known = next;
  }

  private emit(event: ChangeEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
