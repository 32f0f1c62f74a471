import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { describeDiskFlush, diskNote, probeDiskFlush } from './disk.ts';

const dir = mkdtempSync(join(tmpdir(), 'warden-disk-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probeDiskFlush', () => {
  it('times each flush at its pace and leaves nothing behind', async () => {
    const p = await probeDiskFlush(dir, { durationMs: 200, gapMs: 10 });
    // At most one every 10 ms in 200 ms, and at least one.
    expect(p.count).toBeGreaterThan(0);
    expect(p.count).toBeLessThanOrEqual(21);
    expect(p.p50).toBeGreaterThan(0);
    expect(p.p50).toBeLessThanOrEqual(p.p99);
    expect(p.p99).toBeLessThanOrEqual(p.max);
    expect(readdirSync(dir)).toEqual([]);
    expect(describeDiskFlush(p)).toMatch(
      new RegExp(
        `^disk flush \\(8 kB appended \\+ fdatasync, every 10 ms, ${p.count} times\\): p50 `,
      ),
    );
  });

  it('flushes at least once however short the time', async () => {
    const p = await probeDiskFlush(dir, { durationMs: 0, gapMs: 0 });
    expect(p.count).toBe(1);
    expect(p.max).toBe(p.p50);
  });

  it('notes a disk that stalled, and nothing for one that did not', () => {
    const calm = { count: 250, gapMs: 20, p50: 0.5, p99: 0.9, max: 3 };
    expect(diskNote(calm)).toBe('');
    expect(diskNote({ ...calm, p99: 56.4, max: 130 })).toBe(
      '(slow disk: flush p99 56 ms, max 130 ms before the run; every durable commit waits for one)',
    );
  });
});
