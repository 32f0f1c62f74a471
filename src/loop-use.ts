// How busy this process is, from its event loop's utilisation: the share of
// time the loop spent running callbacks rather than waiting for events.
// Work that holds the embedded database (vacuum, a backup's snapshot) is
// put off while this is high, since every request waits for it.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** A share above which a process counts as serving load (about 100 webhook executions/s on two cores). */
export const busyShare = 0.05;

/** A function that gives the loop's use (0 to 1) since its last call (or its creation). */
export function loopUse(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const use = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return use;
  };
}

/** A function that tells whether the loop was busier than share since its last call (or its creation). */
export function loopBusierThan(share = busyShare): () => boolean {
  const use = loopUse();
  return () => use() > share;
}

/** Whether the loop is busier than share over the next windowMs: what it does now, not on average. */
export async function busyNow(share = busyShare, windowMs = 1000): Promise<boolean> {
  const busier = loopBusierThan(share);
  await sleep(windowMs, undefined, { ref: false });
  return busier();
}
