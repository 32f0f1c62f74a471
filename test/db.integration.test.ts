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
