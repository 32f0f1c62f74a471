import { describe, expect, it } from 'vitest';

import { PgliteDb } from '../src/db/pglite-db.ts';
import { PgliteThreadDb } from '../src/db/pglite-thread-db.ts';
import { PostgresDb } from '../src/db/postgres-db.ts';
import { defineDbContract } from './db-contract.ts';
import { createTestDatabase } from './helpers/servers.ts';

defineDbContract('PGlite', async () => {
  const db = await PgliteDb.open();
  return { db, dispose: () => db.close() };
});

defineDbContract('PGlite on its own thread', async () => {
  const db = await PgliteThreadDb.open();
  return { db, dispose: () => db.close() };
});

defineDbContract('PostgreSQL', async () => {
  const t = await createTestDatabase();
  const db = new PostgresDb({ url: t.url, max: 4 });
  return {
    db,
    async dispose() {
      await db.close();
      await t.drop();
    },
  };
});

describe('prepared statements in the embedded database', () => {
  it('parse a text once and keep its plan, one statement per text', async () => {
    const db = await PgliteDb.open();
    try {
      const sql = 'SELECT $1::int + 1 AS n';
      for (let i = 0; i < 10; i++)
        expect((await db.query(sql, [i], { prepare: true })).rows).toEqual([{ n: i + 1 }]);
      await db.query('SELECT $1::text AS s', ['x'], { prepare: true });
      const { rows } = await db.query<{ statement: string; runs: number }>(
        `SELECT statement, (generic_plans + custom_plans)::int AS runs
           FROM pg_prepared_statements WHERE NOT from_sql ORDER BY statement`,
      );
      expect(rows).toEqual([
        { statement: 'SELECT $1::int + 1 AS n', runs: 10 },
        { statement: 'SELECT $1::text AS s', runs: 1 },
      ]);
    } finally {
      await db.close();
    }
  });

  it('never run inside another caller’s open transaction', async () => {
    const db = await PgliteDb.open();
    try {
      await db.exec('CREATE TABLE t (id int PRIMARY KEY)');
      let inside!: () => void;
      const holding = new Promise<void>((r) => (inside = r));
      let finish!: () => void;
      const held = new Promise<void>((r) => (finish = r));
      const tx = db.transaction(async (t) => {
        await t.query('INSERT INTO t VALUES (1)');
        inside();
        await held;
        throw new Error('rolled back');
      });
      await holding;
      const read = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t', [], {
        prepare: true,
      });
      await new Promise((r) => setTimeout(r, 50));
      finish();
      await expect(tx).rejects.toThrow('rolled back');
      // Had it run inside the transaction, it would have counted the row rolled back.
      expect((await read).rows).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });
});
