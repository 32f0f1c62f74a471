// The idle collection: it runs a full collection only when the event loop
// has been nearly idle for several looks in a row (a load that has just
// begun stops it) and the heap grew well past the last collection's floor;
// and the collection it runs is V8's, which frees unreachable memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

describe('limitHeapGrowth', () => {
  // V8's flags belong to the process: each measure runs in a process of its own.
  const script = join(mkdtempSync(join(tmpdir(), 'warden-heap-growth-')), 'churn.mts');
  writeFileSync(
    script,
    `import { getHeapSpaceStatistics } from 'node:v8';
import { limitHeapGrowth } from ${JSON.stringify(join(import.meta.dirname, 'idle-gc.ts'))};
limitHeapGrowth(Number(process.argv[2]));
const live = Array.from({ length: 200_000 }, (_, i) => ({ i, s: 'live ' + i }));
// Objects that outlive a few young collections and die in the old
// generation, as a request's do when many are in flight.
const ring = new Array(60_000);
let peak = 0;
for (let i = 0; i < 1_000_000; i++) {
  ring[i % ring.length] = { n: i, tag: 'row ' + i, pad: new Array(32).fill(i) };
  if (i % 1000 === 0)
    peak = Math.max(peak, getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size);
}
console.log(JSON.stringify({ peak, live: live.length }));
`,
  );
  const oldSpacePeak = (percent: number) => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', script, String(percent)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    return (JSON.parse(res.stdout) as { peak: number }).peak;
  };

  it('keeps the old generation near what is live while promoted garbage churns', () => {
    // About 40 MB stay live; V8 alone let the old space reach 190-210 MB
    // (Node 20, 22, 24), at 50% it stayed at 80-100 MB.
    const own = oldSpacePeak(0);
    const limited = oldSpacePeak(50);
    expect(limited).toBeLessThan(own * 0.7);
    expect(limited).toBeLessThan(140 * MB);
  }, 60_000);
});
