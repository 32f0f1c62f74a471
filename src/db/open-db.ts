// Chooses the Db adapter from config: PostgreSQL when DATABASE_URL is set,
// else embedded PGlite in the data directory under its lock file. A data
// directory with no database yet is seeded from the prepared template (see
// pglite-template.ts) when it fits this build, else PGlite runs initdb.
// Each adapter is imported only when chosen: the other's driver costs start
// time and memory for nothing.
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Config } from '../config/load.ts';
import { acquireDataLock } from './data-lock.ts';
import type { Db } from './db.ts';

export type OpenedDb = { db: Db; close(): Promise<void> };

export type OpenDbOptions = {
  /** Where the prepared template is. @default dist/pglite-template of this package */
  templateDir?: string;
  /** Told why a new embedded database was made by initdb rather than from the template. */
  onTemplateSkipped?: (reason: string) => void;
};

/** Seeds dir from the template when it holds no database yet; a no-op otherwise. */
async function seedIfNew(dir: string, options: OpenDbOptions & { sync: boolean }): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  // An empty directory (made by hand, or by a start that stopped early) is a new database.
  if (existsSync(dir)) {
    if (readdirSync(dir).length > 0) return;
    rmdirSync(dir);
  }
  const { seedFromTemplate, defaultTemplateDir } = await import('./pglite-template.ts');
  const result = seedFromTemplate(dir, options.templateDir ?? defaultTemplateDir, undefined, {
    sync: options.sync,
  });
  if (!result.seeded) options.onTemplateSkipped?.(result.reason);
}

export async function openDb(
  config: Pick<Config, 'database'>,
  options: OpenDbOptions = {},
): Promise<OpenedDb> {
  const { url, poolSize, statementTimeoutMs } = config.database;
  if (url) {
    const { PostgresDb } = await import('./postgres-db.ts');
    const db = new PostgresDb({ url, max: poolSize, statementTimeoutMs });
    return { db, close: () => db.close() };
  }
  const dataDir = resolve(config.database.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDataLock(dataDir);
  try {
    const pgDir = join(dataDir, 'pglite');
    await seedIfNew(pgDir, { ...options, sync: config.database.pgliteFsync });
    const pgliteOptions = {
      dataDir: pgDir,
      sharedBuffersMb: config.database.pgliteSharedBuffersMb,
      wasmTierUp: config.database.pgliteWasmTierUp,
      fsync: config.database.pgliteFsync,
    };
    const db = config.database.pgliteThread
      ? await (await import('./pglite-thread-db.ts')).PgliteThreadDb.open(pgliteOptions)
      : await (await import('./pglite-db.ts')).PgliteDb.open(pgliteOptions);
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
