// What the two PostgreSQL vector stores share: the vector_collections
// registry (migration 0200), batched upserts, and the pgvector check.
import { UserError } from '../errors.ts';
import type { Db, Queryable } from '../db/db.ts';
import type { CollectionSpec, Payload, VectorPoint } from './vector-store.ts';
import { checkCollectionName, checkVector, mismatch } from './vector-store.ts';

export type RegistryRow = { name: string; store: string; dimension: number; embedder: string };

export async function registryRow(db: Queryable, name: string): Promise<RegistryRow | undefined> {
  const { rows } = await db.query<RegistryRow>(
    'SELECT name, store, dimension, embedder FROM vector_collections WHERE name = $1',
    [name],
  );
  return rows[0];
}

/** Creates a collection under the registry's lock, or checks the existing one matches. */
export async function ensureRegistered(
  db: Db,
  store: string,
  spec: CollectionSpec,
  createTable: (tx: Queryable) => Promise<void>,
): Promise<RegistryRow> {
  checkCollectionName(spec.name);
  return db.withLock(`warden:vector-collection:${spec.name}`, async () => {
    const existing = await registryRow(db, spec.name);
    if (existing) {
      if (existing.dimension !== spec.dimension || existing.embedder !== spec.embedder)
        throw mismatch(spec, existing);
      if (existing.store !== store)
        throw new UserError(
          'vector_store_changed',
          `Collection "${spec.name}" was built by the ${existing.store} store, and the ${store} store is configured now; run \`warden memory reindex\` to rebuild it`,
          { status: 409 },
        );
      return existing;
    }
    return db.transaction(async (tx) => {
      await createTable(tx);
      await tx.query(
        'INSERT INTO vector_collections (name, store, dimension, embedder) VALUES ($1, $2, $3, $4)',
        [spec.name, store, spec.dimension, spec.embedder],
      );
      return { name: spec.name, store, dimension: spec.dimension, embedder: spec.embedder };
    });
  });
}

/** The registry row for an existing collection, or a clear error. */
export async function requireCollection(db: Queryable, name: string): Promise<RegistryRow> {
  const row = await registryRow(db, checkCollectionName(name));
  if (!row)
    throw new UserError('no_collection', `Vector collection "${name}" does not exist`, {
      status: 404,
    });
  return row;
}

/** INSERT ... ON CONFLICT in batches; `cast` is the SQL type of the vector parameter. */
export async function upsertRows(
  db: Db,
  table: string,
  spec: RegistryRow,
  points: VectorPoint[],
  toParam: (v: number[]) => unknown,
  cast: string,
  batch = 200,
): Promise<void> {
  for (const p of points) checkVector(spec, p.vector);
  for (let i = 0; i < points.length; i += batch) {
    const slice = points.slice(i, i + batch);
    const params: unknown[] = [];
    const values = slice.map((p) => {
      params.push(p.id, toParam(p.vector), JSON.stringify(p.payload satisfies Payload));
      const n = params.length;
      return `($${n - 2}, $${n - 1}::${cast}, $${n}::jsonb)`;
    });
    await db.query(
      `INSERT INTO ${table} (id, embedding, payload) VALUES ${values.join(', ')}
       ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding, payload = excluded.payload`,
      params,
    );
  }
}

export type PgvectorStatus = {
  /** The extension's files are on the server. */
  available: boolean;
  /** CREATE EXTENSION has been run in this database. */
  installed: boolean;
  version?: string;
  serverMajor: number;
};

export async function pgvectorStatus(db: Queryable): Promise<PgvectorStatus> {
  const { rows } = await db.query<{
    default_version: string | null;
    installed_version: string | null;
  }>(
    "SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'vector'",
  );
  const { rows: v } = await db.query<{ n: string }>('SHOW server_version_num');
  const serverMajor = Math.floor(Number(v[0]?.n ?? 0) / 10000);
  const r = rows[0];
  return {
    available: !!r,
    installed: !!r?.installed_version,
    version: r?.installed_version ?? r?.default_version ?? undefined,
    serverMajor,
  };
}

export function pgvectorInstallHint(serverMajor: number): string {
  return `Install pgvector on the PostgreSQL server (Debian/Ubuntu with the PostgreSQL apt repository: \`apt install postgresql-${serverMajor}-pgvector\`; RHEL: \`dnf install pgvector_${serverMajor}\`; Docker: the pgvector/pgvector:pg${serverMajor} image; or build it from https://github.com/pgvector/pgvector), then run \`CREATE EXTENSION vector;\` in Warden's database as a superuser. Until then, set MEMORY_STORE=postgres-exact (or auto) to keep vectors as float8[] and scan them exactly, or use Qdrant (QDRANT_URL).`;
}

/** A collection's registry entry and row count, for the stores that keep vectors in a PostgreSQL table. */
export async function collectionInfo(
  db: Queryable,
  kind: string,
  name: string,
  table: string,
): Promise<{ name: string; dimension: number; embedder: string; count: number } | undefined> {
  const row = await registryRow(db, checkCollectionName(name));
  if (!row || row.store !== kind) return undefined;
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return { name, dimension: row.dimension, embedder: row.embedder, count: rows[0]!.n };
}
