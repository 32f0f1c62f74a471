import { describe, expect, it } from 'vitest';

import { busyNote, defaultMaxLoad, loadGate, otherCores } from './gate.ts';

describe('loadGate', () => {
  it('lets a quiet machine through unmarked', () => {
    expect(loadGate({ load1: 0.4, maxLoad: 1.5, allowBusy: false })).toMatchObject({
      refuse: false,
      busy: false,
    });
  });

  it('refuses a busy machine and names the way out', () => {
    const g = loadGate({ load1: 3.2, maxLoad: 1.5, allowBusy: false });
    expect(g.refuse).toBe(true);
    expect(g.message).toMatch(/3\.20 > 1\.5/);
    expect(g.message).toMatch(/BENCH_ALLOW_BUSY=1/);
  });

  it('goes on when told to, saying the figures are marked', () => {
    const g = loadGate({ load1: 3.2, maxLoad: 1.5, allowBusy: true });
    expect(g).toMatchObject({ refuse: false, busy: true });
    expect(g.message).toMatch(/marked/);
  });

  it('defaults to three quarters of the cores', () => {
    expect(defaultMaxLoad(2)).toBe(1.5);
    expect(defaultMaxLoad(8)).toBe(6);
  });
});

describe('otherCores and busyNote', () => {
  it('is the busy time no bench process accounts for, in cores', () => {
    // 10 s, 100 ticks/s: the machine was busy 1,500 ticks, the bench used 1,000.
    expect(
      otherCores({ machineBusyTicks: 1500, benchTicks: 1000, elapsedMs: 10_000, ticksPerSec: 100 }),
    ).toBeCloseTo(0.5);
    expect(
      otherCores({ machineBusyTicks: 900, benchTicks: 1000, elapsedMs: 10_000, ticksPerSec: 100 }),
    ).toBe(0);
  });

  it('marks a figure with every reason it is not to be trusted, and leaves a quiet one bare', () => {
    expect(busyNote({ load1Before: 0.5, maxLoad: 1.5, other: 0.1, maxOther: 0.25 })).toBe('');
    expect(busyNote({ load1Before: 6.8, maxLoad: 1.5, other: 1.02, maxOther: 0.25 })).toBe(
      '(busy: load 6.80, others 1.02 cores)',
    );
    expect(busyNote({ load1Before: 0.5, maxLoad: 1.5, other: 0.6, maxOther: 0.25 })).toBe(
      '(busy: others 0.60 cores)',
    );
  });
});
