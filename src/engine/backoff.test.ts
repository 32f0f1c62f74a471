import { describe, expect, it } from 'vitest';

import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('grows the pause after each failure up to the ceiling, and resets after a success', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000 });
    expect(b.waiting).toBe(false);
    const first = b.failed();
    expect(first).toBeGreaterThanOrEqual(50);
    expect(first).toBeLessThanOrEqual(100);
    expect(b.waiting).toBe(true);
    for (let i = 0; i < 10; i++) b.failed();
    const late = b.failed();
    expect(late).toBeGreaterThanOrEqual(500);
    expect(late).toBeLessThanOrEqual(1000);
    expect(b.streak).toBe(12);
    expect(b.succeeded()).toBe(true);
    expect(b.waiting).toBe(false);
    expect(b.succeeded()).toBe(false);
  });
});
