import { describe, expect, it } from 'vitest';

import { decideStorm } from './storm.ts';

const settings = { windowMs: 300_000, groupAfter: 3, pauseAfter: 20 };

describe('decideStorm', () => {
  it.each([
    [{ total: 1, service: 1, parentId: null }, { admit: true }],
    [{ total: 3, service: 3, parentId: 7 }, { admit: true }],
    [
      { total: 4, service: 4, parentId: 7 },
      { admit: false, reason: 'grouped', parentId: 7 },
    ],
    // Nothing open to attach to: it heals alone.
    [{ total: 4, service: 4, parentId: null }, { admit: true }],
    [{ total: 20, service: 1, parentId: null }, { admit: true }],
    [
      { total: 21, service: 1, parentId: null },
      { admit: false, reason: 'storm', opened: 21 },
    ],
    // The storm pause wins over grouping.
    [
      { total: 21, service: 9, parentId: 7 },
      { admit: false, reason: 'storm', opened: 21 },
    ],
  ])('%o -> %o', (counts, decision) => {
    expect(decideStorm(counts, settings)).toEqual(decision);
  });
});
