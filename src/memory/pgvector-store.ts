// pgvector adapter: one table per collection with a vector(n) column and an
// HNSW index for cosine distance. Works in PGlite (pgvector is bundled) and
// in PostgreSQL when the extension is installed; when it is not, open()
// refuses with how to install it.
import { UserError } from '../errors.ts';
import type { Db } from '../db/db.ts';
import type { RegistryRow } from './pg-collections.ts';
import {
  collectionInfo,
  ensureRegistered,
  pgvectorInstallHint,
  pgvectorStatus,
  requireCollection,
  upsertRows,
} from './pg-collections.ts';
import type {
  CollectionInfo,
  CollectionSpec,
  Payload,
  SearchHit,
  SearchRequest,
  VectorPoint,
  VectorStore,
} from './vector-store.ts';
import { checkCollectionName, checkVector } from './vector-store.ts';

export type PgvectorStoreOptions = {
  /** Candidates HNSW visits per search; higher is slower and more exact. @default 100 */
  efSearch?: number;
};

export const vectorLiteral = (v: number[]) => `[${v.join(',')}]`;

export class PgvectorStore implements VectorStore {
  readonly kind = 'pgvector' as const;

  /** Registry rows by name: saves a query per search. Dropping or creating refreshes it. */
  private readonly specs = new Map<string, RegistryRow>();

  private constructor(
    private readonly db: Db,
    private readonly efSearch: number,
    /** pgvector 0.8+ can keep scanning the index until a filter is satisfied. */
    private readonly iterativeScan: boolean,
  ) {}

  private async spec(name: string): Promise<RegistryRow> {
    const cached = this.specs.get(name);
    if (cached) return cached;
    const row = await requireCollection(this.db, name);
    this.specs.set(name, row);
    return row;
  }

  static async open(db: Db, options: PgvectorStoreOptions = {}): Promise<PgvectorStore> {
    let status = await pgvectorStatus(db);
    if (!status.available)
      throw new UserError(
        'pgvector_missing',
        `The pgvector extension is not installed on this PostgreSQL ${status.serverMajor} server. ${pgvectorInstallHint(status.serverMajor)}`,
      );
    if (!status.installed) {
      try {
        await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
      } catch (err) {
        throw new UserError(
          'pgvector_not_enabled',
          `pgvector is on the server but not enabled in Warden's database, and Warden may not enable it (${(err as Error).message}). Run \`CREATE EXTENSION vector;\` in the database as a superuser`,
          { cause: err },
        );
      }
      status = await pgvectorStatus(db);
    }
    const [major = 0, minor = 0] = (status.version ?? '0.0').split('.').map(Number);
    const iterative = major > 0 || minor >= 8;
    const efSearch = options.efSearch ?? 100;
    if (db.kind === 'pglite') {
      // One connection for the whole process: session settings hold for every
      // search, which saves a transaction per query.
      await db.exec(`SET hnsw.ef_search = ${Math.floor(efSearch)}`);
      if (iterative) await db.exec('SET hnsw.iterative_scan = strict_order');
    }
    return new PgvectorStore(db, efSearch, iterative);
  }

  private table(name: string) {
    return `vec_${checkCollectionName(name)}`;
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    const t = this.table(spec.name);
    this.specs.delete(spec.name);
    await ensureRegistered(this.db, this.kind, spec, async (tx) => {
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${t} (id text PRIMARY KEY, embedding vector(${spec.dimension}) NOT NULL, payload jsonb NOT NULL DEFAULT '{}')`,
      );
      await tx.query(
        `CREATE INDEX IF NOT EXISTS ${t}_hnsw ON ${t} USING hnsw (embedding vector_cosine_ops)`,
      );
      await tx.query(
        `CREATE INDEX IF NOT EXISTS ${t}_payload ON ${t} USING gin (payload jsonb_path_ops) WITH (fastupdate = off)`,
      );
    });
  }

  info(name: string): Promise<CollectionInfo | undefined> {
    return collectionInfo(this.db, this.kind, name, this.table(name));
  }

  async upsert(name: string, points: VectorPoint[]): Promise<void> {
    const spec = await this.spec(name);
    await upsertRows(this.db, this.table(name), spec, points, vectorLiteral, 'vector');
  }

  async delete(name: string, ids: string[]): Promise<void> {
    await this.spec(name);
    await this.db.query(`DELETE FROM ${this.table(name)} WHERE id = ANY($1::text[])`, [ids]);
  }

  async search(name: string, r: SearchRequest): Promise<SearchHit[]> {
    const spec = await this.spec(name);
    checkVector(spec, r.vector);
    const topK = r.topK ?? 10;
    const params: unknown[] = [vectorLiteral(r.vector), topK];
    const conditions: string[] = [];
    if (r.filter && Object.keys(r.filter).length > 0) {
      params.push(JSON.stringify(r.filter));
      conditions.push(`payload @> $${params.length}::jsonb`);
    }
    if (r.ids) {
      params.push(r.ids);
      conditions.push(`id = ANY($${params.length}::text[])`);
    }
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    // The distance is computed once, in the index scan, and turned into a similarity here.
    const sql = `SELECT id, payload, embedding <=> $1::vector AS distance FROM ${this.table(name)} ${where}
         ORDER BY distance LIMIT $2`;
    type Hit = { id: string; payload: Payload; distance: number };
    const rows =
      this.db.kind === 'pglite'
        ? (await this.db.query<Hit>(sql, params)).rows
        : await this.db.transaction(async (tx) => {
            // SET LOCAL takes no parameters; both values are integers or keywords we chose.
            await tx.query(`SET LOCAL hnsw.ef_search = ${Math.max(this.efSearch, topK)}`);
            if (where && this.iterativeScan)
              await tx.query('SET LOCAL hnsw.iterative_scan = strict_order');
            return (await tx.query<Hit>(sql, params)).rows;
          });
    return rows
      .map((x) => ({ id: x.id, score: 1 - Number(x.distance), payload: x.payload }))
      .filter((h) => r.threshold === undefined || h.score >= r.threshold);
  }

  async dropCollection(name: string): Promise<void> {
    this.specs.delete(name);
    await this.db.transaction(async (tx) => {
      // Both PostgreSQL stores' tables go, so switching stores leaves nothing behind.
      await tx.query(
        `DROP TABLE IF EXISTS vec_${checkCollectionName(name)}, vecx_${checkCollectionName(name)}`,
      );
      await tx.query('DELETE FROM vector_collections WHERE name = $1', [name]);
    });
  }
}
