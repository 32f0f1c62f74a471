// One paging contract for every list the API answers: `?limit=&cursor=` →
// `{ <items>: [...], nextCursor: string | null }`. A cursor is opaque to
// callers: base64url of the last row's sort key (JSON), so a page starts
// strictly after it (keyset paging) and rows inserted meanwhile neither
// repeat nor shift the next page. A cursor this list did not give out is a
// 400 that says so.
import { UserError } from '../errors.ts';

/** Rows in a page when `limit` is left out. */
export const defaultPageLimit = 50;
/** Most rows one page may ask for. */
export const maxPageLimit = 500;

export const pageQueryProperties = {
  limit: {
    type: 'integer',
    minimum: 1,
    maximum: maxPageLimit,
    default: defaultPageLimit,
    description: `Rows in this page, 1 to ${maxPageLimit} (default ${defaultPageLimit}).`,
  },
  cursor: {
    type: 'string',
    minLength: 1,
    maxLength: 1000,
    description: 'The nextCursor of the previous page, unchanged; leave it out for the first page.',
  },
} as const;

export type PageQuery = { limit?: number; cursor?: string };

/** A list's querystring schema: its own filters plus `limit` and `cursor`. */
export function pagedQuery<const P extends Record<string, object>>(properties: P) {
  return {
    type: 'object',
    properties: { ...properties, ...pageQueryProperties },
    additionalProperties: false,
  } as const;
}

/** A list's 200 response schema: the array under its key, and `nextCursor`. */
export function pagedResponse<const K extends string>(key: K, items: object) {
  return {
    type: 'object',
    required: [key, 'nextCursor'],
    properties: {
      [key]: { type: 'array', items },
      nextCursor: {
        type: ['string', 'null'],
        description: 'Pass as `cursor` for the next page; null when this page is the last.',
      },
    },
  } as const;
}

type KeyKind = 'string' | 'number';
type KeyOf<S extends readonly KeyKind[]> = {
  -readonly [I in keyof S]: S[I] extends 'number' ? number : string;
};
export type CursorKey = readonly (string | number)[];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function badCursor(): UserError {
  return new UserError(
    'invalid_cursor',
    "cursor is not one this list gave out: pass the previous page's nextCursor unchanged, or leave cursor out for the first page",
  );
}

/** The sort key a cursor holds, checked against the shape this list uses; undefined for no cursor. */
export function decodeCursor<const S extends readonly KeyKind[]>(
  cursor: string | undefined,
  shape: S,
  valid: (key: KeyOf<S>) => boolean = () => true,
): KeyOf<S> | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (
    !Array.isArray(key) ||
    key.length !== shape.length ||
    !key.every((v, i) =>
      shape[i] === 'number' ? Number.isSafeInteger(v) : typeof v === 'string' && v.length > 0,
    )
  )
    throw badCursor();
  if (!valid(key as KeyOf<S>)) throw badCursor();
  return key as KeyOf<S>;
}

/** The page limit a query asked for, or the default. */
export function pageLimit(query: PageQuery): number {
  return Math.min(Math.max(query.limit ?? defaultPageLimit, 1), maxPageLimit);
}

/**
 * A page from rows fetched with `limit + 1` (the extra row only says that
 * more follow): the first `limit` rows and the cursor after the last one.
 */
export function toPage<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => CursorKey,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

function compareKeys(a: CursorKey, b: CursorKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Keyset paging over a list already in memory (small lists: users, keys,
 * the catalogue): sorted by `key` (unique per row), rows strictly after the
 * cursor's key in that order.
 */
export function pageInMemory<T, const S extends readonly KeyKind[]>(
  rows: readonly T[],
  query: PageQuery,
  options: { key: (row: T) => KeyOf<S>; shape: S; order?: 'asc' | 'desc' },
): { items: T[]; nextCursor: string | null } {
  const sign = options.order === 'desc' ? -1 : 1;
  const sorted = [...rows].sort((a, b) => sign * compareKeys(options.key(a), options.key(b)));
  const after = decodeCursor(query.cursor, options.shape);
  const start =
    after === undefined
      ? 0
      : (() => {
          const i = sorted.findIndex((r) => sign * compareKeys(options.key(r), after) > 0);
          return i === -1 ? sorted.length : i;
        })();
  const limit = pageLimit(query);
  return toPage(sorted.slice(start, start + limit + 1), limit, options.key);
}
