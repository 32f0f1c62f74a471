// The in-process queue: a FIFO with bounded concurrency and timers for
// delayed jobs. Nothing survives the process; the sweep re-enqueues what the
// database says is unfinished when the next process starts.
import type { Logger } from '../log.ts';
import type {
  ConsumeOptions,
  EnqueueOptions,
  JobHandler,
  JobQueue,
  QueueSlot,
} from './job-queue.ts';

export class EmbeddedQueue implements JobQueue {
  readonly kind = 'embedded' as const;
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private handler: JobHandler | undefined;
  private concurrency = 1;
  private running = 0;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(private readonly logger?: Logger) {}

  async enqueue(executionId: string, options: EnqueueOptions = {}): Promise<void> {
    const delay = options.delayMs ?? 0;
    if (delay > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.push(executionId);
      }, delay);
      t.unref();
      this.timers.add(t);
      return;
    }
    this.push(executionId);
  }

  private push(id: string) {
    // An id already waiting is not queued twice.
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.ready.push(id);
    this.pump();
  }

  private pump() {
    while (this.handler && !this.stopped && this.running < this.concurrency && this.ready.length) {
      const id = this.ready.shift()!;
      this.queued.delete(id);
      this.running++;
      void this.handler(id)
        .catch((err) => this.logger?.error({ err, executionId: id }, 'job handler failed'))
        .finally(() => this.done());
    }
  }

  private done() {
    this.running--;
    if (this.running === 0) for (const f of this.idle.splice(0)) f();
    this.pump();
  }

  reserve(): QueueSlot | undefined {
    if (!this.handler || this.stopped || this.running >= this.concurrency || this.ready.length > 0)
      return undefined;
    this.running++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.done();
      },
    };
  }

  async consume(handler: JobHandler, options: ConsumeOptions): Promise<void> {
    this.handler = handler;
    this.concurrency = options.concurrency;
    this.stopped = false;
    this.pump();
  }

  async stopConsuming(timeoutMs: number): Promise<void> {
    this.stopped = true;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  active(): number {
    return this.running;
  }

  async check() {
    return { ok: true, kind: 'embedded', waiting: this.ready.length, active: this.running };
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
