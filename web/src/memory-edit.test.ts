import { describe, expect, it } from 'vitest';

import type { RememberedFix } from './memory-edit.ts';
import { buildCorrection, formOf } from './memory-edit.ts';

const record: RememberedFix = {
  id: '7',
  title: 'nginx upstream lost',
  rootCause: 'deploy restarted the app before nginx',
  fix: { action: 'unit.restart', parameters: { unit: 'nginx.service' } },
  evidence: ['502 from nginx'],
  disabled: false,
};

describe('buildCorrection', () => {
  it('sends nothing when nothing changed', () => {
    expect(buildCorrection(record, formOf(record))).toEqual({ ok: true, body: null });
  });

  it('sends only the fields that changed', () => {
    const form = {
      ...formOf(record),
      disabled: true,
      evidence: '502 from nginx\n\nrestart fixed it',
    };
    expect(buildCorrection(record, form)).toEqual({
      ok: true,
      body: { disabled: true, evidenceLines: ['502 from nginx', 'restart fixed it'] },
    });
  });

  it('sends the whole fix when its action or parameters change', () => {
    const form = { ...formOf(record), parameters: '{"unit": "php-fpm.service"}' };
    expect(buildCorrection(record, form)).toEqual({
      ok: true,
      body: { fix: { action: 'unit.restart', parameters: { unit: 'php-fpm.service' } } },
    });
  });

  it.each([
    [{ title: '  ' }, 'title cannot be empty'],
    [{ parameters: '{unit: nginx}' }, 'JSON object'],
    [{ parameters: '["nginx"]' }, 'JSON object'],
    [{ action: '', parameters: '{"a": 1}' }, 'Choose the fix action'],
  ])('names what is wrong: %j', (change, message) => {
    const r = buildCorrection(record, { ...formOf(record), ...change });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });
});
