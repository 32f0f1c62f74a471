// The idle collection: it runs a full collection only when the event loop
// has been nearly idle for several looks in a row (a load that has just
// begun stops it) and the heap grew well past the last collection's floor;
// and the collection it runs is V8's, which frees unreachable memory.
import { describe, expect, it } from 'vitest';

import { fullCollection, IdleGc } from './idle-gc.ts';
import { createLogger } from './log.ts';

const logger = createLogger({ level: 'silent' });
const MB = 1024 * 1024;

function harness(start: { heap: number; use: number }) {
  const state = { ...start, afterCollect: 40 * MB, collected: 0 };
  const gc = new IdleGc({
    logger,
    quietLooks: 3,
    heapUsed: () => state.heap,
    loopUse: () => state.use,
    collect: () => {
      state.collected++;
      state.heap = state.afterCollect;
    },
  });
  return { state, gc };
}

describe('IdleGc', () => {
  it('collects once the loop has been idle for some looks and the heap grew past the floor, then not again', () => {
    const { state, gc } = harness({ heap: 40 * MB, use: 0.01 });
    expect([gc.check(), gc.check(), gc.check()]).toEqual([false, false, false]); // no growth
    state.heap = 200 * MB;
    state.use = 0.6; // under load: V8 collects as it goes
    expect(gc.check()).toBe(false);
    state.use = 0.01; // the burst is over: three quiet looks, then the collection
    expect([gc.check(), gc.check(), gc.check()]).toEqual([false, false, true]);
    expect(state.collected).toBe(1);
    expect(state.heap).toBe(40 * MB);
    expect(gc.check()).toBe(false);
    expect(state.collected).toBe(1);
  });

  it('does not collect when load returns before the quiet looks are done', () => {
    const { state, gc } = harness({ heap: 200 * MB, use: 0.01 });
    state.heap = 300 * MB;
    expect([gc.check(), gc.check()]).toEqual([false, false]);
    state.use = 0.08; // requests again, at a rate an average over a long period would hide
    expect(gc.check()).toBe(false);
    state.use = 0.01;
    expect([gc.check(), gc.check()]).toEqual([false, false]);
    expect(state.collected).toBe(0);
    expect(gc.check()).toBe(true);
  });

  it('leaves a small growth alone, and takes a smaller heap as the new floor', () => {
    const { state, gc } = harness({ heap: 100 * MB, use: 0.01 });
    expect([gc.check(), gc.check()]).toEqual([false, false]);
    state.heap = 120 * MB;
    expect(gc.check()).toBe(false);
    state.heap = 50 * MB; // V8 collected by itself
    expect(gc.check()).toBe(false);
    state.heap = 90 * MB; // 40 MB past the new floor
    expect(gc.check()).toBe(true);
  });

  it("runs V8's own full collection, which frees what nothing reaches", () => {
    const collect = fullCollection();
    collect();
    const floor = process.memoryUsage().heapUsed;
    const garbage: number[][] = Array.from({ length: 200 }, () =>
      Array.from({ length: 20_000 }, (_, i) => i),
    );
    expect(process.memoryUsage().heapUsed).toBeGreaterThan(floor + 16 * MB);
    garbage.length = 0; // nothing reaches the arrays now
    collect();
    expect(process.memoryUsage().heapUsed).toBeLessThan(floor + 8 * MB);
  });
});
