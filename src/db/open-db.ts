// Chooses the Db adapter from config: PostgreSQL when DATABASE_URL is set,
// else embedded PGlite in the data directory under its lock file.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Config } from '../config/load.ts';
import { acquireDataLock } from './data-lock.ts';
import type { Db } from './db.ts';
import { PgliteDb } from './pglite-db.ts';
import { PostgresDb } from './postgres-db.ts';

export type OpenedDb = { db: Db; close(): Promise<void> };

export async function openDb(config: Pick<Config, 'database'>): Promise<OpenedDb> {
  const { url, poolSize, statementTimeoutMs } = config.database;
  if (url) {
    const db = new PostgresDb({ url, max: poolSize, statementTimeoutMs });
    return { db, close: () => db.close() };
  }
  const dataDir = resolve(config.database.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDataLock(dataDir);
  try {
    const db = await PgliteDb.open({ dataDir: join(dataDir, 'pglite') });
    return {
      db,
      async close() {
        try {
          await db.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
