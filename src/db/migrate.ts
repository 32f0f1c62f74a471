// Plain SQL migrations, applied in file-name order and recorded in
// warden_migrations. Each file runs as one implicit transaction (one simple
// query), so a failing file leaves nothing half-applied. Concurrent starts
// serialise on an advisory lock; an edited, already-applied file is refused.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { UserError } from '../errors.ts';
import type { Db } from './db.ts';

export type Migration = { id: number; name: string; sql: string; checksum: string };

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export function loadMigrations(dir = migrationsDir): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const id = Number(file.slice(0, 4));
    if (seen.has(id)) throw new Error(`Two migrations share the number ${id}: ${file}`);
    seen.add(id);
    const sql = readFileSync(`${dir}/${file}`, 'utf8');
    return {
      id,
      name: file.replace(/\.sql$/, ''),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    };
  });
}

export type MigrateResult = { applied: string[]; current: number };

export type MigrateOptions = {
  dir?: string;
  /** Called before each migration runs. */
  onApply?: (m: Migration) => void;
};

export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = loadMigrations(options.dir);
  return db.withLock('warden:migrations', async () => {
    await db.exec(`CREATE TABLE IF NOT EXISTS warden_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await db.query<{ id: number; name: string; checksum: string }>(
      'SELECT id, name, checksum FROM warden_migrations ORDER BY id',
    );
    const done = new Map(rows.map((r) => [r.id, r]));
    for (const m of migrations) {
      const prior = done.get(m.id);
      if (prior && prior.checksum !== m.checksum) {
        throw new UserError(
          'migration_changed',
          `Migration ${m.name} was changed after it was applied; add a new migration instead of editing it`,
        );
      }
    }
    const known = new Set(migrations.map((m) => m.id));
    const unknown = rows.filter((r) => !known.has(r.id));
    if (unknown.length > 0) {
      throw new UserError(
        'database_newer',
        `The database has migrations this Warden does not know (${unknown.map((r) => r.name).join(', ')}): it was used by a newer version`,
      );
    }
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      options.onApply?.(m);
      // name and checksum are [a-z0-9_] and hex: safe to inline.
      await db.exec(
        `${m.sql}\n;\nINSERT INTO warden_migrations (id, name, checksum) VALUES (${m.id}, '${m.name}', '${m.checksum}');`,
      );
      applied.push(m.name);
    }
    return { applied, current: migrations.at(-1)?.id ?? 0 };
  });
}

/** Whether every known migration is applied; /readyz asks this. */
export async function pendingMigrations(db: Db, dir?: string): Promise<string[]> {
  const migrations = loadMigrations(dir);
  try {
    const { rows } = await db.query<{ id: number }>('SELECT id FROM warden_migrations');
    const done = new Set(rows.map((r) => r.id));
    return migrations.filter((m) => !done.has(m.id)).map((m) => m.name);
  } catch {
    return migrations.map((m) => m.name);
  }
}
