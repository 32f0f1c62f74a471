import { describe, expect, it } from 'vitest';

import { checkCounts, judge } from './verdict.ts';

describe('checkCounts', () => {
  it('accepts records for every answer and up to the unanswered requests more', () => {
    const c = checkCounts({
      answered: 1000,
      records: { created: 1040, finished: 1000, notSucceeded: 0 },
      unanswered: 64,
    });
    expect(c.ok).toBe(true);
  });

  it('flags answers without a record', () => {
    const c = checkCounts({
      answered: 1000,
      records: { created: 900, finished: 900, notSucceeded: 0 },
      unanswered: 64,
    });
    expect(c.ok).toBe(false);
    expect(c.message).toMatch(/100 answers have no succeeded execution record/);
  });

  it('flags more records than requests went unanswered, and failed executions', () => {
    const c = checkCounts({
      answered: 1000,
      records: { created: 1200, finished: 1190, notSucceeded: 10 },
      unanswered: 64,
    });
    expect(c.ok).toBe(false);
    expect(c.message).toMatch(/200 more records than answers/);
    expect(c.message).toMatch(/10 records did not succeed/);
  });
});

describe('judge', () => {
  it('says which targets are met', () => {
    const v = judge({ saturationMin: 3000, p99At200Max: 20 }, { saturation: 3100, p99At200: 25 });
    expect(v.map((x) => x.met)).toEqual([true, false]);
    expect(v[1]!.what).toMatch(/p99 at 200\/s .* < 20 ms: 25\.0/);
  });
});
