import { describe, expect, it } from 'vitest';

import { percentile, summarize } from './stats.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('gives the 50th and 99th of 100 sorted values, and the slowest for p100', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
  });

  it('lets one stall in 50 requests be the p99', () => {
    const values = [...Array.from({ length: 49 }, () => 5), 2000].sort((a, b) => a - b);
    expect(percentile(values, 0.99)).toBe(2000);
  });

  it('is NaN with no values and the smallest for q 0', () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(percentile([3, 4], 0)).toBe(3);
  });
});

describe('summarize', () => {
  it('sorts its input, counts errors apart and reports the max', () => {
    const s = summarize([9, 1, 5, 3, 7], 2);
    expect(s).toEqual({ count: 5, errors: 2, p50: 5, p99: 9, max: 9 });
  });
});
