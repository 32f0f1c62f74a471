// The sweep: every few seconds, one process at a time (an advisory lock)
// re-enqueues executions whose worker lease expired, whose wait is over, or
// that sat queued so long the queue must have lost them (Redis restarted).
import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';
import { Backoff } from './backoff.ts';
import type { ExecutionStore } from './execution-store.ts';

export type SweeperOptions = {
  db: Db;
  executions: ExecutionStore;
  logger: Logger;
  intervalMs: number;
  requeueAfterMs: number;
  enqueue(executionId: string): Promise<void>;
};

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly backoff = new Backoff({ baseMs: 1000, maxMs: 15_000 });

  constructor(private readonly o: SweeperOptions) {}

  start(): void {
    this.timer ??= setInterval(() => {
      if (!this.backoff.waiting) void this.sweep();
    }, this.o.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One sweep; returns the ids it re-enqueued (none when another process is
   * sweeping). requeueAfterMs 0 takes every queued execution (an in-process
   * queue that just started is empty).
   */
  async sweep(requeueAfterMs = this.o.requeueAfterMs): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    try {
      const ids =
        (await this.o.db.tryWithLock('warden:sweep', () =>
          this.o.executions.sweep(requeueAfterMs),
        )) ?? [];
      if (ids.length > 0) this.o.logger.info({ count: ids.length }, 'sweep re-enqueued executions');
      for (const id of ids) await this.o.enqueue(id);
      if (this.backoff.succeeded()) this.o.logger.info('sweep recovered');
      return ids;
    } catch (err) {
      const retryInMs = this.backoff.failed();
      this.o.logger.warn({ err, retryInMs, failures: this.backoff.streak }, 'sweep failed');
      return [];
    } finally {
      this.busy = false;
    }
  }
}
