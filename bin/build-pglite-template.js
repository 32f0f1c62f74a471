#!/usr/bin/env node
// Makes the prepared embedded database (dist/pglite-template/): a PGlite data
// directory after initdb, pgvector and every migration, dumped as a gzipped
// tar with a manifest. A first `warden start` unpacks it instead of running
// initdb in WebAssembly (see src/db/pglite-template.ts). Runs after the
// TypeScript build (prepare, `npm run build`); needs dist/.
//   node bin/build-pglite-template.js [directory]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}dist/db/pglite-template.js`)) {
  console.error('build-pglite-template: dist/ is not built; run `npm run build`');
  process.exit(1);
}
const { PgliteDb } = await import(`${root}dist/db/pglite-db.js`);
const { loadMigrations, migrate } = await import(`${root}dist/db/migrate.js`);
const { defaultTemplateDir, writeTemplate } = await import(`${root}dist/db/pglite-template.js`);

const dir = process.argv[2] ?? defaultTemplateDir;
const started = Date.now();
// In memory: initdb there is quicker, and the dump is the same.
const db = await PgliteDb.open();
try {
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  await migrate(db);
  // A checkpoint first: a database seeded from the dump has no WAL to replay.
  await db.exec('CHECKPOINT');
  const blob = await db.pg.dumpDataDir('gzip');
  writeTemplate(dir, new Uint8Array(await blob.arrayBuffer()), loadMigrations());
  console.log(
    `prepared the embedded database template (${Math.round(blob.size / 1024)} KiB, ${Date.now() - started} ms)`,
  );
} finally {
  await db.close();
}
