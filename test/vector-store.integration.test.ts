// The VectorStore contract on pgvector (PGlite), the exact-scan fallback
// (real PostgreSQL and PGlite), and Qdrant when QDRANT_URL is set. Also: the
// pgvector store on a PostgreSQL without the extension says how to install it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgliteDb } from '../src/db/pglite-db.ts';
import { migrate } from '../src/db/migrate.ts';
import { PostgresDb } from '../src/db/postgres-db.ts';
import { UserError } from '../src/errors.ts';
import { ExactScanStore } from '../src/memory/exact-scan-store.ts';
import { pgvectorStatus } from '../src/memory/pg-collections.ts';
import { PgvectorStore } from '../src/memory/pgvector-store.ts';
import { QdrantStore } from '../src/memory/qdrant-store.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { defineVectorStoreContract } from './vector-store-contract.ts';

let lite: PgliteDb;
let pgTest: TestDatabase;
let pgDb: PostgresDb;

beforeAll(async () => {
  lite = await PgliteDb.open();
  await migrate(lite);
  pgTest = await createTestDatabase();
  pgDb = new PostgresDb({ url: pgTest.url, max: 4 });
  await migrate(pgDb);
});
afterAll(async () => {
  await lite?.close();
  await pgDb?.close();
  await pgTest?.drop();
});

defineVectorStoreContract('pgvector in PGlite', () => PgvectorStore.open(lite));
defineVectorStoreContract('exact scan in PostgreSQL', () => new ExactScanStore(pgDb));
defineVectorStoreContract('exact scan in PGlite', () => new ExactScanStore(lite));

describe('pgvector store on PostgreSQL', () => {
  it('refuses with install instructions when the server lacks pgvector, else works', async () => {
    const status = await pgvectorStatus(pgDb);
    if (status.available) {
      const store = await PgvectorStore.open(pgDb);
      await store.ensureCollection({ name: 'probe', dimension: 2, embedder: 'x' });
      await store.upsert('probe', [{ id: 'a', vector: [1, 0], payload: {} }]);
      expect((await store.search('probe', { vector: [1, 0] }))[0]!.id).toBe('a');
      return;
    }
    const err = await PgvectorStore.open(pgDb).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('pgvector_missing');
    expect((err as Error).message).toContain(`postgresql-${status.serverMajor}-pgvector`);
    expect((err as Error).message).toContain('CREATE EXTENSION vector');
    expect((err as Error).message).toContain('MEMORY_STORE=postgres-exact');
  });

  it('keeps the stores apart: a collection built by one store is not silently used by another', async () => {
    const exact = new ExactScanStore(lite);
    await exact.ensureCollection({ name: 'switched', dimension: 2, embedder: 'x' });
    const vec = await PgvectorStore.open(lite);
    const err = await vec
      .ensureCollection({ name: 'switched', dimension: 2, embedder: 'x' })
      .catch((e: unknown) => e);
    expect((err as UserError).code).toBe('vector_store_changed');
    await vec.dropCollection('switched');
    await vec.ensureCollection({ name: 'switched', dimension: 2, embedder: 'x' });
    expect(await vec.info('switched')).toMatchObject({ count: 0 });
  });
});

const qdrantUrl = process.env.QDRANT_URL;
if (qdrantUrl) {
  defineVectorStoreContract(
    'Qdrant',
    () => new QdrantStore({ url: qdrantUrl, prefix: 'warden_test' }),
  );
} else {
  console.info('Qdrant contract skipped: set QDRANT_URL (e.g. http://127.0.0.1:6333) to run it');
  describe('VectorStore contract: Qdrant', () => {
    it.skip('skipped: set QDRANT_URL (e.g. http://127.0.0.1:6333) to run the contract against a Qdrant server', () => {});
  });
}
