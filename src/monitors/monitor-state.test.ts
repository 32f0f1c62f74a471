import { describe, expect, it } from 'vitest';

import type { MonitorState } from './monitor-state.ts';
import { nextState } from './monitor-state.ts';

function run(results: boolean[], retries: number, start: MonitorState = 'pending') {
  let s = { state: start, failures: 0 };
  const emitted: string[] = [];
  for (const ok of results) {
    const t = nextState(s, ok, retries);
    if (t.emit) emitted.push(t.emit);
    s = t;
  }
  return { state: s.state, emitted };
}

describe('nextState', () => {
  it('goes down only after `retries` tolerated failures in a row', () => {
    expect(run([false, false], 2)).toEqual({ state: 'pending', emitted: [] });
    expect(run([false, false, false], 2)).toEqual({ state: 'down', emitted: ['firing'] });
    expect(run([false], 0)).toEqual({ state: 'down', emitted: ['firing'] });
  });

  it('resets the count on a success', () => {
    expect(run([false, false, true, false, false], 2, 'up')).toEqual({ state: 'up', emitted: [] });
  });

  it('fires once while down and resolves on the first success', () => {
    expect(run([false, false, false, false, true, true], 0, 'up')).toEqual({
      state: 'up',
      emitted: ['firing', 'resolved'],
    });
  });

  it('never resolves a monitor that was not down', () => {
    expect(run([true, true], 1)).toEqual({ state: 'up', emitted: [] });
  });
});
