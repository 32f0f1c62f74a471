// How fast the machine's disk flushes, measured beside each mode: every
// commit that must survive a power loss waits for one flush (PostgreSQL's
// WAL, the embedded database's fsync), so a disk that stalls on fsync
// stalls the requests, whatever Warden does. The flushes are spaced as a
// database's commits are: on the development machine's virtual disk,
// flushes made back to back gave p99 0.55 ms while the same disk, flushed
// every 20 ms, stalled for up to 900 ms (a stall hides among thousands of
// back-to-back flushes; at 50 a second it is a second's worth of requests).
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { percentile } from './stats.ts';

export type DiskFlushProbe = {
  /** Flushes made. */
  count: number;
  /** Their pace: one every gapMs. */
  gapMs: number;
  p50: number;
  p99: number;
  max: number;
};

export type DiskFlushOptions = {
  /** How long to probe. @default 5000 */
  durationMs?: number;
  /** The pause between one flush and the next. @default 20 */
  gapMs?: number;
};

/**
 * Appends 8 kB to a new file under dir (on the disk the databases use) and
 * flushes it (fdatasync), every gapMs for durationMs, as a WAL is written:
 * each flush's time in ms.
 */
export async function probeDiskFlush(
  dir: string,
  { durationMs = 5000, gapMs = 20 }: DiskFlushOptions = {},
): Promise<DiskFlushProbe> {
  const work = mkdtempSync(join(dir, 'warden-bench-flush-'));
  const fd = openSync(join(work, 'probe'), 'w');
  const block = Buffer.alloc(8192, 1);
  const times: number[] = [];
  const until = performance.now() + durationMs;
  try {
    for (let offset = 0; times.length === 0 || performance.now() < until; offset += block.length) {
      const t0 = performance.now();
      writeSync(fd, block, 0, block.length, offset);
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
      if (gapMs > 0) await sleep(gapMs);
    }
  } finally {
    closeSync(fd);
    rmSync(work, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    count: times.length,
    gapMs,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export function describeDiskFlush(p: DiskFlushProbe): string {
  const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
  return `disk flush (8 kB appended + fdatasync, every ${p.gapMs} ms, ${p.count} times): p50 ${ms(p.p50)} / p99 ${ms(p.p99)} / max ${ms(p.max)} ms`;
}

/** Flushes slower than this at p99 make a latency figure the disk's as much as Warden's. */
export const slowDiskP99Ms = 5;

/**
 * A note for a latency figure taken after this probe: empty when the disk
 * flushed in time, else what it did.
 */
export function diskNote(p: DiskFlushProbe): string {
  if (!(p.p99 > slowDiskP99Ms)) return '';
  return `(slow disk: flush p99 ${p.p99.toFixed(0)} ms, max ${p.max.toFixed(0)} ms before the run; every durable commit waits for one)`;
}
