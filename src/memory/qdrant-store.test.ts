import { describe, expect, it } from 'vitest';

import { pointId } from './qdrant-store.ts';

describe('Qdrant point ids', () => {
  it('maps a string id to a stable, version-5-shaped UUID', () => {
    const a = pointId('42');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId('42')).toBe(a);
    expect(pointId('43')).not.toBe(a);
  });
});
