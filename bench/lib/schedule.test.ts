import { describe, expect, it } from 'vitest';

import { buildSchedule, summarizePhases } from './schedule.ts';

const phases = [
  { name: '10/s', ratePerSec: 10, seconds: 2 },
  { name: '200/s', ratePerSec: 200, seconds: 10 },
];

describe('buildSchedule', () => {
  it('puts the phases back to back at their own rates', () => {
    const s = buildSchedule(phases);
    expect(s.due.length).toBe(20 + 2000);
    expect(s.phaseStart).toEqual([0, 2000]);
    expect(s.totalMs).toBe(12_000);
    expect(s.due[1]).toBe(100);
    expect(s.due[19]).toBe(1900);
    expect(s.due[20]).toBe(2000);
    expect(s.due[21]).toBe(2005);
    expect(s.phase[19]).toBe(0);
    expect(s.phase[20]).toBe(1);
  });

  it('refuses a phase with no rate', () => {
    expect(() => buildSchedule([{ name: 'x', ratePerSec: 0, seconds: 1 }])).toThrow(/positive/);
  });
});

describe('summarizePhases', () => {
  it('reports a stall right after the step in the first seconds and in the whole, not in the rest', () => {
    const s = buildSchedule(phases);
    // 5 ms each, except that the requests due in the 200/s phase's first
    // second wait until 2 s after the step.
    const outcomes = Array.from(s.due, (due, i) => {
      const t = due - 2000;
      const stalled = s.phase[i] === 1 && t < 1000;
      return { latency: stalled ? 2000 - t : 5, ok: true };
    });
    const [low, step] = summarizePhases(phases, s, outcomes, 5);
    expect(low!.whole.max).toBe(5);
    expect(step!.afterStep.max).toBe(2000);
    expect(step!.afterStep.count).toBe(1000);
    expect(step!.rest.max).toBe(5);
    expect(step!.whole.max).toBe(2000);
    expect(step!.whole.p99).toBeGreaterThan(1000);
    expect(step!.perSecond[0]!.max).toBe(2000);
    expect(step!.perSecond[1]!.max).toBe(5);
  });

  it('counts failures as errors in their window, not as latencies', () => {
    const s = buildSchedule(phases);
    const outcomes = Array.from(s.due, (due, i) => ({
      latency: Number.NaN,
      ok: !(s.phase[i] === 1 && due - 2000 >= 9000),
    }));
    const [, step] = summarizePhases(phases, s, outcomes, 5);
    expect(step!.rest.errors).toBe(200);
    expect(step!.afterStep.errors).toBe(0);
    expect(step!.whole.errors).toBe(200);
    expect(step!.whole.count).toBe(1800);
    expect(step!.perSecond[9]!.errors).toBe(200);
  });
});
