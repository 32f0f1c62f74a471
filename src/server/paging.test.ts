import { describe, expect, it } from 'vitest';

import { UserError } from '../errors.ts';
import { decodeCursor, encodeCursor, pageInMemory, toPage } from './paging.ts';

describe('cursors', () => {
  it('round-trips a sort key through an opaque base64url string', () => {
    const cursor = encodeCursor(['2026-12-01 06:40:00.123456+00', 'a-b']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['string', 'string'])).toEqual([
      '2026-12-01 06:40:00.123456+00',
      'a-b',
    ]);
    expect(decodeCursor(undefined, ['number'])).toBeUndefined();
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['not an array', Buffer.from('{}').toString('base64url')],
    ['another shape', encodeCursor(['x'])],
    ['a float for an id', Buffer.from('[1.5]').toString('base64url')],
    ['too long a key', encodeCursor([1, 2])],
  ])('refuses a cursor that is %s with 400 invalid_cursor', (_what, cursor) => {
    let thrown: unknown;
    try {
      decodeCursor(cursor, ['number']);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect(thrown).toMatchObject({ code: 'invalid_cursor', status: 400 });
  });

  it('lets a list refuse a well-formed key it could not have given out', () => {
    expect(() => decodeCursor(encodeCursor([0]), ['number'], ([n]) => n >= 1)).toThrow(
      /nextCursor/,
    );
  });
});

describe('pages', () => {
  it('gives a next cursor only when the extra row says more follow', () => {
    expect(toPage([1, 2, 3], 2, (n) => [n])).toEqual({
      items: [1, 2],
      nextCursor: encodeCursor([2]),
    });
    expect(toPage([1, 2], 2, (n) => [n])).toEqual({ items: [1, 2], nextCursor: null });
  });

  it('pages a list in memory by key, and a row added meanwhile is seen once, in its place', () => {
    const rows = [{ name: 'b' }, { name: 'd' }, { name: 'a' }];
    const opts = { key: (r: { name: string }) => [r.name] as [string], shape: ['string'] as const };
    const first = pageInMemory(rows, { limit: 2 }, opts);
    expect(first.items.map((r) => r.name)).toEqual(['a', 'b']);
    // 'c' sorts after the cursor, 'aa' before it: only 'c' is still to come.
    rows.push({ name: 'c' }, { name: 'aa' });
    const second = pageInMemory(rows, { limit: 2, cursor: first.nextCursor! }, opts);
    expect(second.items.map((r) => r.name)).toEqual(['c', 'd']);
    expect(second.nextCursor).toBeNull();
  });

  it('pages newest first when the order is descending', () => {
    const ids = [{ id: 1 }, { id: 3 }, { id: 2 }];
    const opts = { key: (r: { id: number }) => [r.id] as [number], shape: ['number'] as const };
    const first = pageInMemory(ids, { limit: 2 }, { ...opts, order: 'desc' });
    expect(first.items.map((r) => r.id)).toEqual([3, 2]);
    const rest = pageInMemory(ids, { cursor: first.nextCursor! }, { ...opts, order: 'desc' });
    expect(rest.items.map((r) => r.id)).toEqual([1]);
  });
});
