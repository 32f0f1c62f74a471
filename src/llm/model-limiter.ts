// Per-model concurrency limit: Ollama serves one request per model at a time
// by default (OLLAMA_NUM_PARALLEL), so Warden queues its own requests in
// order instead of piling them onto the server. A waiter that is aborted
// leaves the queue without taking a slot.

type Waiter = {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
};

type Lane = { active: number; queue: Waiter[] };

export class ModelLimiter {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly perModel: number) {}

  private lane(model: string): Lane {
    let l = this.lanes.get(model);
    if (!l) this.lanes.set(model, (l = { active: 0, queue: [] }));
    return l;
  }

  /** Waits for a slot for model; returns the function that frees it. */
  async acquire(model: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const lane = this.lane(model);
    if (lane.active < this.perModel) {
      lane.active++;
    } else {
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = { resolve, reject, signal };
        if (signal) {
          w.onAbort = () => {
            const i = lane.queue.indexOf(w);
            if (i >= 0) lane.queue.splice(i, 1);
            reject(signal.reason);
          };
          signal.addEventListener('abort', w.onAbort, { once: true });
        }
        lane.queue.push(w);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = lane.queue.shift();
      if (next) {
        // The slot passes straight to the next waiter: active stays the same.
        if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
        next.resolve();
      } else {
        lane.active--;
      }
    };
  }

  stats(): Record<string, { active: number; queued: number }> {
    return Object.fromEntries(
      [...this.lanes].map(([m, l]) => [m, { active: l.active, queued: l.queue.length }]),
    );
  }
}
