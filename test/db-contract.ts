// One contract for every Db adapter: each adapter's test file calls
// defineDbContract with a factory for a fresh, empty database.
import { randomUUID } from 'node:crypto';

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

    it('runs a prepared statement again and again with the rows, counts and errors of an unprepared one', () =>
      withDb(async (db) => {
        await db.exec('CREATE TABLE t (id uuid PRIMARY KEY, n int, doc jsonb)');
        const insert = `INSERT INTO t (id, n, doc)
          SELECT x.id, x.n, x.doc FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, n int, doc jsonb)
          RETURNING id, n, doc`;
        const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
        // More runs than PostgreSQL's five custom plans before it considers a generic one.
        for (let i = 0; i < 8; i++) {
          const id = randomUUID();
          const res = await db.query(insert, [JSON.stringify([{ id, n: i, doc: { i } }])], {
            prepare: true,
          });
          expect(res.rows).toEqual([{ id, n: i, doc: { i } }]);
          expect(res.rowCount).toBe(1);
        }
        const batch = await db.query<{ id: string }>(
          insert,
          [JSON.stringify(ids.map((id, n) => ({ id, n: 100 + n, doc: null })))],
          { prepare: true },
        );
        expect(batch.rows.map((r) => r.id)).toEqual(ids);
        const select = 'SELECT id, n FROM t WHERE id = ANY($1::uuid[]) AND n >= $2 ORDER BY n';
        const picked = await db.query(select, [ids.slice(1, 3), 0], { prepare: true });
        expect(picked.rows).toEqual([
          { id: ids[1], n: 101 },
          { id: ids[2], n: 102 },
        ]);
        expect((await db.query(select, [ids, null], { prepare: true })).rows).toEqual([]);
        const update = await db.query('UPDATE t SET n = n + 1 WHERE n >= $1', [100], {
          prepare: true,
        });
        expect(update.rowCount).toBe(4);
        // A failed run says why, with PostgreSQL's code, and the connection and
        // the statement go on working.
        const again = JSON.stringify([{ id: ids[0], n: 1, doc: null }]);
        await expect(db.query(insert, [again], { prepare: true })).rejects.toMatchObject({
          code: '23505',
        });
        await expect(db.query(insert, ['not json'], { prepare: true })).rejects.toMatchObject({
          code: '22P02',
        });
        const fresh = randomUUID();
        const after = await db.query(insert, [JSON.stringify([{ id: fresh, n: 7, doc: [] }])], {
          prepare: true,
        });
        expect(after.rows).toEqual([{ id: fresh, n: 7, doc: [] }]);
        const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM t');
        expect(Number(rows[0]!.n)).toBe(8 + ids.length + 1);
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
