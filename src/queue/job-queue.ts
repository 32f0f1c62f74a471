// The JobQueue port: it carries execution ids and nothing else; the
// database is the record. Delivery is at least once: a handler may see an id
// twice (a re-enqueue by the sweep, a stalled job), and the executor's claim
// makes the second delivery a no-op. Two adapters pass one contract suite
// (test/job-queue-contract.ts): embedded (in-process) and BullMQ (Redis).
import type { CheckResult } from '../health.ts';

export type JobHandler = (executionId: string) => Promise<void>;

export type EnqueueOptions = {
  /** Deliver no sooner than this. @default 0 */
  delayMs?: number;
};

export type ConsumeOptions = {
  /** Handlers running at once in this process. */
  concurrency: number;
};

export type QueueSlot = { release(): void };

export interface JobQueue {
  readonly kind: 'embedded' | 'bullmq';
  enqueue(executionId: string, options?: EnqueueOptions): Promise<void>;
  /** Starts delivering jobs to handler; a handler's failure is logged and the job dropped. */
  consume(handler: JobHandler, options: ConsumeOptions): Promise<void>;
  /** Stops taking jobs; resolves once running handlers finished or timeoutMs passed. */
  stopConsuming(timeoutMs: number): Promise<void>;
  /** Handlers running now. */
  active(): number;
  /** Readiness: can this process enqueue and, when consuming, take jobs now? */
  check(): Promise<CheckResult>;
  /**
   * A free handler slot of this process, taken now, for an execution the
   * caller runs itself instead of enqueueing it (it saves the claim's
   * statement); undefined when there is none, or the queue is not
   * in-process, or jobs are waiting (they keep their turn). The caller
   * releases it when the run ends.
   */
  reserve?(): QueueSlot | undefined;
  /**
   * Calls listener each time the queue's server answers again after an
   * outage (it may have come back empty). Absent for the in-process queue.
   */
  onRecovered?(listener: () => void): void;
  close(): Promise<void>;
}
