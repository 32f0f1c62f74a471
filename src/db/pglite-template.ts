// A prepared embedded database: the PGlite data directory right after initdb,
// `CREATE EXTENSION vector` and every migration, made once at build time
// (`npm ci` / `npm run build`) as a gzipped tar beside a manifest. A first
// start unpacks it instead of running initdb in WebAssembly, which costs
// seconds. The manifest names the PGlite and pgvector versions and each
// migration's checksum; a template that does not match this build (an edited
// migration, another PGlite) is ignored and the first start runs initdb as
// before. Migrations newer than the template are applied by migrate() as usual.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { syncPath, syncTree } from '../fs-sync.ts';
import type { Migration } from './migrate.ts';
import { loadMigrations } from './migrate.ts';
import { tarEntries } from './tar.ts';

/** Where the build puts the template: dist/pglite-template/ of this package. */
export const defaultTemplateDir = fileURLToPath(
  new URL('../../dist/pglite-template/', import.meta.url),
);
const archiveName = 'pgdata.tar.gz';
const manifestName = 'manifest.json';

export type TemplateManifest = {
  pglite: string;
  pgvector: string;
  migrations: { id: number; name: string; checksum: string }[];
  /** sha256 of the archive, so a truncated copy is not unpacked. */
  sha256: string;
};

function packageVersion(name: string): string {
  // Neither package exports its package.json; find it from the entry point.
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
}

export function engineVersions(): { pglite: string; pgvector: string } {
  return {
    pglite: packageVersion('@electric-sql/pglite'),
    pgvector: packageVersion('@electric-sql/pglite-pgvector'),
  };
}

/**
 * Why the template in dir cannot seed a database for this build, or
 * undefined when it can. It may hold fewer migrations than the build knows
 * (migrate() applies the rest), never a different or unknown one.
 */
export function templateMismatch(
  dir: string,
  migrations: Migration[] = loadMigrations(),
): string | undefined {
  let manifest: TemplateManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, manifestName), 'utf8')) as TemplateManifest;
  } catch {
    return 'no template';
  }
  const versions = engineVersions();
  if (manifest.pglite !== versions.pglite || manifest.pgvector !== versions.pgvector)
    return `made with PGlite ${manifest.pglite} / pgvector ${manifest.pgvector}, this build has ${versions.pglite} / ${versions.pgvector}`;
  const known = new Map(migrations.map((m) => [m.id, m]));
  for (const m of manifest.migrations) {
    const current = known.get(m.id);
    if (!current) return `it has migration ${m.name}, which this build does not`;
    if (current.checksum !== m.checksum) return `migration ${m.name} changed since it was made`;
  }
  return undefined;
}

/** Writes the template: the archive PGlite's dumpDataDir made, and its manifest. */
export function writeTemplate(dir: string, archive: Uint8Array, migrations: Migration[]): void {
  mkdirSync(dir, { recursive: true });
  const manifest: TemplateManifest = {
    ...engineVersions(),
    migrations: migrations.map(({ id, name, checksum }) => ({ id, name, checksum })),
    sha256: createHash('sha256').update(archive).digest('hex'),
  };
  // Archive first, manifest last: a template without a manifest is never used.
  rmSync(join(dir, manifestName), { force: true });
  writeFileSync(join(dir, archiveName), archive);
  writeFileSync(join(dir, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Unpacks the template into target, which must not exist: into a sibling
 * first, renamed into place when complete, so an interrupted first start
 * leaves no half database behind. Returns false, changing nothing, when the
 * template does not fit this build (see templateMismatch). With sync (the
 * default), the files are flushed to the disk before the rename and the
 * rename after it, as initdb does, so a database that later commits on top
 * of them does not lose its base to a power loss.
 */
export function seedFromTemplate(
  target: string,
  dir: string = defaultTemplateDir,
  migrations?: Migration[],
  { sync = true }: { sync?: boolean } = {},
): { seeded: true } | { seeded: false; reason: string } {
  const mismatch = templateMismatch(dir, migrations);
  if (mismatch) return { seeded: false, reason: mismatch };
  const manifest = JSON.parse(readFileSync(join(dir, manifestName), 'utf8')) as TemplateManifest;
  const archive = readFileSync(join(dir, archiveName));
  if (createHash('sha256').update(archive).digest('hex') !== manifest.sha256)
    return { seeded: false, reason: 'the archive does not match its manifest' };
  const incoming = `${target}.seeding-${process.pid}`;
  rmSync(incoming, { recursive: true, force: true });
  mkdirSync(incoming, { mode: 0o700 });
  try {
    for (const entry of tarEntries(gunzipSync(archive))) {
      const rel = normalize(entry.name.replace(/^\/+/, ''));
      if (rel === '.' || rel === '') continue;
      if (rel.startsWith(`..${sep}`) || rel === '..')
        throw new Error(`entry outside the data directory: ${entry.name}`);
      const path = join(incoming, rel);
      if (entry.type === 'dir') mkdirSync(path, { recursive: true, mode: 0o700 });
      else {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        writeFileSync(path, entry.data, { mode: 0o600 });
      }
    }
    if (!existsSync(join(incoming, 'PG_VERSION'))) throw new Error('the archive has no PG_VERSION');
    if (sync) syncTree(incoming);
    renameSync(incoming, target);
    if (sync) syncPath(dirname(target));
  } catch (err) {
    rmSync(incoming, { recursive: true, force: true });
    return { seeded: false, reason: `it could not be unpacked (${(err as Error).message})` };
  }
  return { seeded: true };
}
