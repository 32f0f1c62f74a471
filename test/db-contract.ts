// One contract for every Db adapter: each adapter's test file calls
// defineDbContract with a factory for a fresh, empty database.
import { describe, expect, it } from 'vitest';

import type { Db } from '../src/db/db.ts';
import { loadMigrations, migrate, pendingMigrations } from '../src/db/migrate.ts';

export type DbFactory = () => Promise<{ db: Db; dispose(): Promise<void> }>;

export function defineDbContract(name: string, factory: DbFactory) {
  describe(`Db contract: ${name}`, () => {
    const withDb = async (fn: (db: Db) => Promise<void>) => {
      const { db, dispose } = await factory();
      try {
        await fn(db);
      } finally {
        await dispose();
      }
    };

    it('runs parameterised queries and returns typed rows', () =>
      withDb(async (db) => {
        const { rows } = await db.query<{ n: number; s: string; j: { a: number } }>(
          'SELECT $1::int AS n, $2::text AS s, $3::jsonb AS j',
          [42, 'x', JSON.stringify({ a: 1 })],
        );
        expect(rows).toEqual([{ n: 42, s: 'x', j: { a: 1 } }]);
      }));

    it('reports rows changed by writes', () =>
      withDb(async (db) => {
        await db.exec(
          'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, $$a$$), (2, $$b$$), (3, $$c$$);',
        );
        const res = await db.query('UPDATE t SET v = $1 WHERE id >= $2', ['z', 2]);
        expect(res.rowCount).toBe(2);
      }));

    it('commits a transaction that resolves and rolls back one that throws', () =>
      withDb(async (db) => {
        await db.exec('CREATE TABLE t (id int PRIMARY KEY)');
        await db.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1)');
        });
        await expect(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO t VALUES (2)');
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        const { rows } = await db.query<{ id: number }>('SELECT id FROM t ORDER BY id');
        expect(rows.map((r) => r.id)).toEqual([1]);
      }));

    it('applies every migration once, records it, and is idempotent', () =>
      withDb(async (db) => {
        const first = await migrate(db);
        expect(first.applied).toEqual(loadMigrations().map((m) => m.name));
        expect(await pendingMigrations(db)).toEqual([]);
        const second = await migrate(db);
        expect(second.applied).toEqual([]);
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM warden_migrations',
        );
        expect(rows[0]!.n).toBe(loadMigrations().length);
      }));

    it('serialises concurrent migrations so each runs exactly once', () =>
      withDb(async (db) => {
        const results = await Promise.all([migrate(db), migrate(db), migrate(db)]);
        const applied = results.flatMap((r) => r.applied);
        expect(applied.sort()).toEqual(
          loadMigrations()
            .map((m) => m.name)
            .sort(),
        );
      }));

    it('withLock runs holders of the same key one at a time', () =>
      withDb(async (db) => {
        let inside = 0;
        let most = 0;
        await Promise.all(
          Array.from({ length: 4 }, () =>
            db.withLock('contract-lock', async () => {
              inside++;
              most = Math.max(most, inside);
              await new Promise((r) => setTimeout(r, 20));
              inside--;
            }),
          ),
        );
        expect(most).toBe(1);
      }));

    it('tryWithLock skips when the lock is held', () =>
      withDb(async (db) => {
        let release!: () => void;
        const held = db.withLock('try-lock', () => new Promise<void>((r) => (release = r)));
        await new Promise((r) => setTimeout(r, 50));
        expect(await db.tryWithLock('try-lock', async () => 'ran')).toBeUndefined();
        release();
        await held;
        expect(await db.tryWithLock('try-lock', async () => 'ran')).toBe('ran');
      }));

    it('reports pool statistics', () =>
      withDb(async (db) => {
        await db.query('SELECT 1');
        const s = db.stats();
        expect(s.max).toBeGreaterThanOrEqual(1);
        expect(s.total).toBeLessThanOrEqual(s.max);
        expect(s.waiting).toBeGreaterThanOrEqual(0);
      }));
  });
}
