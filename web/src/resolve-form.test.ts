import { describe, expect, it } from 'vitest';

import type { CatalogueAction } from './resolve-form.ts';
import { buildResolveBody } from './resolve-form.ts';

const restart: CatalogueAction = {
  name: 'service.restart',
  description: 'Restart a unit',
  risk: 'change',
  params: {
    unit: { type: 'unit' },
    lines: { type: 'integer', min: 1, max: 500, default: 50 },
    mode: { type: 'enum', values: ['soft', 'hard'] },
    tag: { type: 'regex', pattern: '[a-z]+', maxLength: 8 },
  },
  verify: null,
  rollback: null,
  source: 'default',
};

const base = {
  action: restart,
  values: { unit: 'nginx.service', mode: 'soft', tag: 'web' },
  rootCause: '  worker leak  ',
  evidence: 'rss grew to 4 GB\n\n  restart freed it  \n',
};

describe('buildResolveBody', () => {
  it('sends the action, typed parameters, the trimmed root cause and one evidence item a line', () => {
    const r = buildResolveBody({ ...base, values: { ...base.values, lines: '200' } });
    expect(r).toEqual({
      ok: true,
      body: {
        action: 'service.restart',
        parameters: { unit: 'nginx.service', lines: 200, mode: 'soft', tag: 'web' },
        rootCause: 'worker leak',
        evidence: ['rss grew to 4 GB', 'restart freed it'],
      },
    });
  });

  it('leaves out a parameter with a default when its field is empty, and evidence when there is none', () => {
    const r = buildResolveBody({ ...base, evidence: '  \n' });
    expect(r.ok && r.body.parameters).toEqual({ unit: 'nginx.service', mode: 'soft', tag: 'web' });
    expect(r.ok && 'evidence' in r.body).toBe(false);
  });

  it.each([
    [{ action: undefined }, 'Choose the action'],
    [{ rootCause: '   ' }, 'root cause'],
    [{ values: { mode: 'soft', tag: 'web' } }, 'Give a value for unit'],
    [{ values: { ...base.values, lines: '2.5' } }, 'lines must be a whole number'],
    [{ values: { ...base.values, lines: '501' } }, 'between 1 and 500'],
    [{ values: { ...base.values, mode: 'brutal' } }, 'mode must be one of soft, hard'],
    [{ values: { ...base.values, tag: 'Web1' } }, 'tag does not match'],
    [{ values: { ...base.values, tag: 'abcdefghij' } }, 'longer than 8'],
    [{ evidence: Array.from({ length: 51 }, (_, i) => `line ${i}`).join('\n') }, 'At most 50'],
  ])('names what is wrong: %j', (change, message) => {
    const r = buildResolveBody({ ...base, ...change });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });
});
