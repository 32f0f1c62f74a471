// The prepared embedded database: a new data directory is seeded from the
// template and has every migration and pgvector; a template that does not
// fit the build (an edited migration, another PGlite, a damaged archive) is
// ignored and initdb makes the database instead; a template older than the
// build gets the newer migrations; and a data directory made the old way
// (initdb, no template) still opens with its data. The page cache is sized
// from the setting, and new WAL segments are not zero-filled.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/load.ts';
import { loadMigrations, migrate, migrationsDir } from '../src/db/migrate.ts';
import { openDb } from '../src/db/open-db.ts';
import { PgliteDb } from '../src/db/pglite-db.ts';
import type { TemplateManifest } from '../src/db/pglite-template.ts';
import { seedFromTemplate, templateMismatch, writeTemplate } from '../src/db/pglite-template.ts';

const root = mkdtempSync(join(tmpdir(), 'warden-template-'));
const full = join(root, 'template-full');
const older = join(root, 'template-older');
const all = loadMigrations();
const olderCount = Math.max(1, all.length - 2);

function config(dataDir: string) {
  return loadConfig({
    env: { WARDEN_DATA_DIR: dataDir, WARDEN_PGLITE_SHARED_BUFFERS_MB: '24' },
    cwd: root,
  });
}

async function dump(db: PgliteDb): Promise<Uint8Array> {
  await db.exec('CHECKPOINT');
  return new Uint8Array(await (await db.pg.dumpDataDir('gzip')).arrayBuffer());
}

beforeAll(async () => {
  // Made as bin/build-pglite-template.js makes it; one initdb for both templates.
  const partialDir = join(root, 'migrations-older');
  mkdirSync(partialDir);
  for (const m of all.slice(0, olderCount))
    cpSync(join(migrationsDir, `${m.name}.sql`), join(partialDir, `${m.name}.sql`));
  const db = await PgliteDb.open();
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
    await migrate(db, { dir: partialDir });
    writeTemplate(older, await dump(db), all.slice(0, olderCount));
    await migrate(db);
    writeTemplate(full, await dump(db), all);
  } finally {
    await db.close();
  }
}, 180_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

function copyTemplate(from: string, name: string): string {
  const dir = join(root, name);
  cpSync(from, dir, { recursive: true });
  return dir;
}

function editManifest(dir: string, edit: (m: TemplateManifest) => void): void {
  const path = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as TemplateManifest;
  edit(m);
  writeFileSync(path, JSON.stringify(m));
}

describe('a new data directory seeded from the template', () => {
  it('has every migration, pgvector, and keeps what is written across a restart', async () => {
    const dataDir = join(root, 'seeded');
    const skipped: string[] = [];
    const opened = await openDb(config(dataDir), {
      templateDir: full,
      onTemplateSkipped: (r) => skipped.push(r),
    });
    try {
      expect(skipped).toEqual([]);
      const { applied } = await migrate(opened.db);
      expect(applied).toEqual([]);
      const { rows } = await opened.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM warden_migrations',
      );
      expect(rows[0]!.n).toBe(all.length);
      const d = await opened.db.query<{ d: number }>(
        "SELECT ('[1,0,0]'::vector <=> '[0,1,0]'::vector)::float8 AS d",
      );
      expect(d.rows[0]!.d).toBeCloseTo(1);
      // The page cache is the one configured, not PGlite's 128 MB.
      const sb = await opened.db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(sb.rows[0]!.shared_buffers).toBe('24MB');
      // A new WAL segment is not zero-filled (a stall inside a commit), and
      // an old one is removed after a checkpoint rather than kept for reuse.
      const wal = await opened.db.query<{ zero: string; recycle: string }>(
        "SELECT current_setting('wal_init_zero') AS zero, current_setting('wal_recycle') AS recycle",
      );
      expect(wal.rows[0]).toEqual({ zero: 'off', recycle: 'off' });
      await opened.db.query("INSERT INTO workflows (name, current_version) VALUES ('seeded', 1)");
    } finally {
      await opened.close();
    }
    const again = await openDb(config(dataDir), { templateDir: full });
    try {
      const { rows } = await again.db.query<{ name: string }>('SELECT name FROM workflows');
      expect(rows.map((r) => r.name)).toEqual(['seeded']);
    } finally {
      await again.close();
    }
    // Unpacked beside the target and renamed: nothing half-made is left.
    expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
  });

  it('gets the migrations newer than an older template', async () => {
    const dataDir = join(root, 'older');
    const opened = await openDb(config(dataDir), { templateDir: older });
    try {
      const { applied } = await migrate(opened.db);
      expect(applied).toEqual(all.slice(olderCount).map((m) => m.name));
    } finally {
      await opened.close();
    }
  });
});

describe('a template that does not fit this build', () => {
  it('is refused when a migration it holds was edited, made by another PGlite, or unknown', () => {
    const edited = copyTemplate(full, 'edited');
    editManifest(edited, (m) => {
      m.migrations[0]!.checksum = '0'.repeat(64);
    });
    expect(templateMismatch(edited)).toMatch(/migration 0001_core changed/);
    const otherPglite = copyTemplate(full, 'other-pglite');
    editManifest(otherPglite, (m) => {
      m.pglite = '0.0.1';
    });
    expect(templateMismatch(otherPglite)).toMatch(/made with PGlite 0\.0\.1/);
    const newer = copyTemplate(full, 'newer');
    editManifest(newer, (m) => {
      m.migrations.push({ id: 9999, name: '9999_future', checksum: 'f'.repeat(64) });
    });
    expect(templateMismatch(newer)).toMatch(/9999_future, which this build does not/);
    expect(templateMismatch(join(root, 'nowhere'))).toBe('no template');
  });

  it('leaves nothing behind when its archive is damaged', () => {
    const damaged = copyTemplate(full, 'damaged');
    const archive = join(damaged, 'pgdata.tar.gz');
    writeFileSync(archive, readFileSync(archive).subarray(0, 1000));
    const target = join(root, 'damaged-target');
    expect(seedFromTemplate(target, damaged)).toEqual({
      seeded: false,
      reason: 'the archive does not match its manifest',
    });
    expect(existsSync(target)).toBe(false);
  });

  it('is ignored: initdb makes the database, which opens again later as one made the old way', async () => {
    const stale = copyTemplate(full, 'stale');
    editManifest(stale, (m) => {
      m.migrations[1]!.checksum = '0'.repeat(64);
    });
    const dataDir = join(root, 'initdb');
    const skipped: string[] = [];
    const opened = await openDb(config(dataDir), {
      templateDir: stale,
      onTemplateSkipped: (r) => skipped.push(r),
    });
    try {
      expect(skipped).toEqual([`migration ${all[1]!.name} changed since it was made`]);
      const { rows } = await opened.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'warden_migrations'",
      );
      expect(rows[0]!.n).toBe(0); // a bare initdb: nothing from the template
      expect((await migrate(opened.db)).applied).toHaveLength(all.length);
      await opened.db.query("INSERT INTO workflows (name, current_version) VALUES ('old way', 1)");
    } finally {
      await opened.close();
    }
    // Opening it again never touches the template, even a good one.
    const again = await openDb(config(dataDir), { templateDir: full });
    try {
      expect((await migrate(again.db)).applied).toEqual([]);
      const { rows } = await again.db.query<{ name: string }>('SELECT name FROM workflows');
      expect(rows.map((r) => r.name)).toEqual(['old way']);
    } finally {
      await again.close();
    }
  }, 180_000);
});
