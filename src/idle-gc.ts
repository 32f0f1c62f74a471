// Gives memory back after a burst. Under load, requests in flight outlive
// the young generation's collections and are promoted to the old one; when
// the load stops, nothing allocates, so V8 never runs the major collection
// that would free them: after a 64-connection run the embedded process kept
// 155 MB of old space of which 44 MB was live, and its RSS stayed at 340 MB.
// Every second this looks at the event loop; once it has been nearly idle
// for ten looks in a row and the heap holds much more than after the last
// full collection, it runs one. A pause of tens of milliseconds, only when
// the process has had nothing to do for a while. The decision rests on the
// last second, not on a long period: averaged over 10 s, a load that began
// two seconds ago still looked idle, and the pause fell on its requests.
// Under load, limitHeapGrowth can keep the heap from growing to four times
// what is live before V8 collects it, at the price of more full collections.
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { Logger } from './log.ts';
import { loopUse } from './loop-use.ts';

export type IdleGcOptions = {
  logger: Logger;
  /** How often to look (default 1 s). */
  everyMs?: number;
  /** Event-loop use since the last look under which the process counts as idle (default 0.02). */
  idleBelow?: number;
  /** Idle looks in a row before a collection (default 10). */
  quietLooks?: number;
  /** Heap growth since the last full collection that makes one worth it (default 32 MB). */
  growthBytes?: number;
  /** Seams for tests: the heap in use, the loop's use over the period, a full collection. */
  heapUsed?: () => number;
  loopUse?: () => number;
  collect?: () => void;
};

/**
 * Caps how far V8's heap grows past what was live after a full collection
 * (percent; 0 leaves V8's own factor, up to 4x under a high allocation
 * rate). V8's flags are the process's: this applies to every thread.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** A full collection: V8's gc(), exposed without starting the process with --expose-gc. */
export function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => gc();
}

export class IdleGc {
  private timer: NodeJS.Timeout | undefined;
  private baseline: number;
  private readonly heapUsed: () => number;
  private readonly loopUse: () => number;
  private readonly collect: () => void;
  /** Idle looks in a row so far. */
  private quiet = 0;

  constructor(private readonly o: IdleGcOptions) {
    this.heapUsed = o.heapUsed ?? (() => getHeapStatistics().used_heap_size);
    this.loopUse = o.loopUse ?? loopUse();
    this.collect = o.collect ?? fullCollection();
    this.baseline = this.heapUsed();
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.o.everyMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look; returns whether it collected. */
  check(): boolean {
    const use = this.loopUse();
    const used = this.heapUsed();
    // A busy process collects on its own; a smaller heap is the new floor.
    if (used < this.baseline) this.baseline = used;
    if (use >= (this.o.idleBelow ?? 0.02)) {
      this.quiet = 0;
      return false;
    }
    this.quiet++;
    if (this.quiet < (this.o.quietLooks ?? 10)) return false;
    if (used - this.baseline < (this.o.growthBytes ?? 32 * 1024 * 1024)) return false;
    const started = performance.now();
    this.collect();
    this.baseline = this.heapUsed();
    this.o.logger.debug(
      { before: used, after: this.baseline, ms: Math.round(performance.now() - started) },
      'idle: full garbage collection',
    );
    return true;
  }
}
