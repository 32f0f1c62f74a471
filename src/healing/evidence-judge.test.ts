import { describe, expect, it } from 'vitest';

import { evidenceTemplates } from './evidence-judge.ts';

describe('evidenceTemplates', () => {
  const noise = Array.from({ length: 20 }, (_, i) => `GET /health ${200} in ${i} ms from probe`);
  const noisy = Array.from(
    { length: 12 },
    (_, i) => `cache miss ratio ${i}% for shard s${i} of ring`,
  );
  const cause = 'FATAL: remaining connection slots are reserved for superuser connections';
  const gathered = [...noise, ...noisy, cause].join('\n');

  it('keeps the cited lines that are really in the evidence', () => {
    expect(evidenceTemplates([cause, 'a paraphrase the logs never held'], gathered, [])).toEqual([
      'remaining connection slots are reserved for superuser connections',
    ]);
  });

  it('without a citation, keeps the rare lines before the repeated noise', () => {
    const t = evidenceTemplates([], gathered, gathered.split('\n'));
    expect(t[0]).toBe('remaining connection slots are reserved for superuser connections');
  });
});
