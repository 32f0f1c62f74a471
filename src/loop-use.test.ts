// The event-loop measures that put off work holding the embedded database.
import { describe, expect, it } from 'vitest';

import { busyNow, loopBusierThan } from './loop-use.ts';

/** Keeps the loop running callbacks (about 5 ms of work every 10 ms) until stopped. */
function keepBusy(): () => void {
  let on = true;
  const spin = () => {
    if (!on) return;
    const until = performance.now() + 5;
    while (performance.now() < until);
    setTimeout(spin, 5);
  };
  spin();
  return () => (on = false);
}

describe('loop use', () => {
  it('busyNow tells a loop at work from an idle one, over its window', async () => {
    expect(await busyNow(0.05, 300)).toBe(false);
    const stop = keepBusy();
    try {
      expect(await busyNow(0.05, 300)).toBe(true);
    } finally {
      stop();
    }
  });

  it('loopBusierThan measures since its last call', async () => {
    const busier = loopBusierThan(0.05);
    const stop = keepBusy();
    await new Promise((r) => setTimeout(r, 200));
    stop();
    expect(busier()).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(busier()).toBe(false); // the busy part is no longer in its window
  });
});
