// The Redis adapter: BullMQ. A job's data is {executionId} and nothing else.
// Jobs are removed once handled (the database keeps the history). The
// watchdog PINGs the producer and consumer connections and reconnects them
// when Redis stops answering; readiness follows it.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

import { CountedRedis } from './counted-redis.ts';

import { MicroBatcher } from '../db/micro-batcher.ts';
import { OperationalError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConsumeOptions, EnqueueOptions, JobHandler, JobQueue } from './job-queue.ts';
import { RedisWatchdog } from './redis-watchdog.ts';

export type BullmqQueueOptions = {
  url: string;
  /** Queue name. */
  name: string;
  /** Prefix of every Redis key. */
  prefix: string;
  /** Longest wait for Redis to accept a job. @default 2000 */
  enqueueTimeoutMs?: number;
  /** @default 5000 */
  pingIntervalMs?: number;
  /** @default 2000 */
  pingTimeoutMs?: number;
  logger?: Logger;
};

type JobData = { executionId: string };

export class BullmqQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly producerConnection: Redis;
  private readonly queue: Queue<JobData>;
  private worker: Worker<JobData> | undefined;
  private workerConnection: Redis | undefined;
  private readonly watchdog: RedisWatchdog;
  private running = 0;
  // Jobs enqueued together go to Redis in one addBulk.
  private readonly adds = new MicroBatcher<{ executionId: string; delayMs: number }, void>(
    async (items) => {
      await this.queue.addBulk(
        items.map((i) => ({
          name: 'execution',
          data: { executionId: i.executionId },
          opts: {
            removeOnComplete: true,
            removeOnFail: true,
            ...(i.delayMs > 0 ? { delay: Math.round(i.delayMs) } : {}),
          },
        })),
      );
      return items.map(() => undefined);
    },
    200,
    8,
  );

  constructor(private readonly o: BullmqQueueOptions) {
    // Producer commands fail fast instead of queueing forever while Redis is away.
    this.producerConnection = new CountedRedis(o.url, {
      maxRetriesPerRequest: 1,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    this.producerConnection.on('error', () => {});
    this.queue = new Queue<JobData>(o.name, {
      connection: this.producerConnection,
      prefix: o.prefix,
      skipWaitingForReady: true,
    });
    this.queue.on('error', () => {});
    this.watchdog = new RedisWatchdog({
      pinged: () => [
        this.producerConnection,
        ...(this.workerConnection ? [this.workerConnection] : []),
      ],
      reconnectAlso: async () => {
        const b = await this.worker?.getBackend().blockingClient;
        return b ? [b as unknown as Redis] : [];
      },
      intervalMs: o.pingIntervalMs ?? 5000,
      timeoutMs: o.pingTimeoutMs ?? 2000,
      logger: o.logger,
    });
    this.watchdog.start();
  }

  async enqueue(executionId: string, options: EnqueueOptions = {}): Promise<void> {
    const timeoutMs = this.o.enqueueTimeoutMs ?? 2000;
    let t: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.adds.submit({ executionId, delayMs: options.delayMs ?? 0 }),
        new Promise((_, reject) => {
          t = setTimeout(
            () => reject(new Error(`Redis did not take the job within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      throw new OperationalError(
        'queue_unavailable',
        `could not enqueue: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    } finally {
      clearTimeout(t);
    }
  }

  async consume(handler: JobHandler, options: ConsumeOptions): Promise<void> {
    if (this.worker) throw new Error('already consuming');
    this.workerConnection = new CountedRedis(this.o.url, { maxRetriesPerRequest: null });
    this.workerConnection.on('error', () => {});
    this.worker = new Worker<JobData>(
      this.o.name,
      async (job) => {
        this.running++;
        try {
          await handler(job.data.executionId);
        } catch (err) {
          // The database is the record: a failed handler leaves the execution
          // to the sweep, so the job itself is done either way.
          this.o.logger?.error({ err, executionId: job.data.executionId }, 'job handler failed');
        } finally {
          this.running--;
        }
      },
      {
        connection: this.workerConnection,
        prefix: this.o.prefix,
        concurrency: options.concurrency,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      },
    );
    this.worker.on('error', (err) => this.o.logger?.debug({ err }, 'BullMQ worker error'));
  }

  async stopConsuming(timeoutMs: number): Promise<void> {
    const w = this.worker;
    if (!w) return;
    // close() stops fetching and waits for the active jobs; past the timeout
    // the executor aborts them (they give their executions back).
    await Promise.race([w.close(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  active(): number {
    return this.running;
  }

  async check() {
    const s = this.watchdog.status();
    if (!s.ok) return s;
    if (this.worker && !this.worker.isRunning())
      return { ok: false, detail: 'the queue consumer is not running' };
    return { ...s, kind: 'bullmq', active: this.running };
  }

  onRecovered(listener: () => void): void {
    this.watchdog.onRecovered(listener);
  }

  /** The watchdog, for tests and /readyz. */
  get redisWatchdog(): RedisWatchdog {
    return this.watchdog;
  }

  async close(): Promise<void> {
    this.watchdog.stop();
    await this.worker?.close(true).catch(() => {});
    await this.queue.close().catch(() => {});
    this.producerConnection.disconnect();
    this.workerConnection?.disconnect();
  }

  /** Removes every key of this queue (tests). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}
