// Fires schedule triggers. Every process that runs a scheduler computes the
// same tick times from the cron expression; a tick becomes an execution
// only for the process whose INSERT of the (workflow, node, tick) row wins,
// in the same transaction as the execution row, so each tick fires once
// however many processes run.
import { randomUUID } from 'node:crypto';

import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';
import { nextTick } from '../nodes/triggers.ts';
import { Backoff } from './backoff.ts';
import type { ExecutionStore } from './execution-store.ts';
import type { ScheduleEntry, WorkflowStore } from './workflow-store.ts';

export type SchedulerOptions = {
  db: Db;
  workflows: WorkflowStore;
  executions: ExecutionStore;
  logger: Logger;
  defaultTimeoutMs: number;
  enqueue(executionId: string): Promise<void>;
  /** How often the list of schedules is re-read (other processes may change it). @default 5000 */
  refreshMs?: number;
  /** How often due ticks are looked for. @default 250 */
  checkMs?: number;
};

export class Scheduler {
  private entries: ScheduleEntry[] = [];
  private readonly next = new Map<string, Date>();
  private loadedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly backoff = new Backoff();

  constructor(private readonly o: SchedulerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => this.guardedTick(), this.o.checkMs ?? 250);
  }

  /**
   * One round from the timer. A round that fails (the database is down) is
   * logged and retried after a backoff; it must never escape the timer as an
   * unhandled rejection, which would end the process.
   */
  private guardedTick(): void {
    if (this.backoff.waiting) return;
    this.tick().then(
      () => {
        if (this.backoff.succeeded()) this.o.logger.info('scheduler recovered');
      },
      (err: unknown) => {
        const retryInMs = this.backoff.failed();
        this.o.logger.warn(
          { err, retryInMs, failures: this.backoff.streak },
          'scheduler round failed; retrying',
        );
      },
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-read the schedules at the next check (this process changed a workflow). */
  invalidate(): void {
    this.loadedAt = 0;
  }

  /** Fires the ticks due by now; returns the executions this process created. */
  async tick(now = new Date()): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    try {
      if (Date.now() - this.loadedAt > (this.o.refreshMs ?? 5000)) {
        this.entries = await this.o.workflows.activeSchedules();
        this.loadedAt = Date.now();
      }
      const fired: string[] = [];
      const live = new Set<string>();
      for (const e of this.entries) {
        const key = `${e.workflowId}:${e.version}:${e.nodeName}`;
        live.add(key);
        let due = this.next.get(key);
        try {
          if (!due) {
            // Start from now: ticks missed while no scheduler ran are not replayed.
            this.next.set(key, nextTick(e.cron, e.timezone, now));
            continue;
          }
          if (due > now) continue;
          // Fire only the latest due tick when several were missed (a pause, a slow check).
          for (
            let n = nextTick(e.cron, e.timezone, due);
            n <= now;
            n = nextTick(e.cron, e.timezone, n)
          )
            due = n;
          this.next.set(key, nextTick(e.cron, e.timezone, due));
        } catch (err) {
          this.o.logger.warn({ err, workflowId: e.workflowId }, 'bad cron expression');
          continue;
        }
        const id = await this.fire(e, due).catch((err) => {
          this.o.logger.warn({ err, workflowId: e.workflowId }, 'could not fire a schedule tick');
          return undefined;
        });
        if (id) fired.push(id);
      }
      for (const key of this.next.keys()) if (!live.has(key)) this.next.delete(key);
      return fired;
    } finally {
      this.busy = false;
    }
  }

  private async fire(e: ScheduleEntry, tick: Date): Promise<string | undefined> {
    const id = randomUUID();
    const def = await this.o.workflows.version(e.workflowId, e.version);
    const won = await this.o.db.transaction(async (tx) => {
      const { rows } = await tx.query(
        `INSERT INTO schedule_ticks (workflow_id, node_name, tick, execution_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING execution_id`,
        [e.workflowId, e.nodeName, tick.toISOString(), id],
      );
      if (rows.length === 0) return false;
      await this.o.executions.create(
        {
          id,
          workflowId: e.workflowId,
          workflowVersion: e.version,
          mode: 'schedule',
          triggerNode: e.nodeName,
          triggerItems: [{ tick: tick.toISOString(), cron: e.cron, timezone: e.timezone }],
          timeoutMs: def.settings.timeoutMs ?? this.o.defaultTimeoutMs,
        },
        tx,
      );
      return true;
    });
    if (!won) return undefined;
    await this.o.enqueue(id);
    return id;
  }
}
