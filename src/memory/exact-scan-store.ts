// Fallback for PostgreSQL without pgvector: vectors as float8[] and an exact
// scan that computes every dot product in SQL. Results are exact; cost grows
// with the collection (fine for thousands of incidents, not for millions).
// Vectors are unit length, so the dot product is the cosine similarity.
import type { Db } from '../db/db.ts';
import {
  collectionInfo,
  ensureRegistered,
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

export class ExactScanStore implements VectorStore {
  readonly kind = 'postgres-exact' as const;

  constructor(private readonly db: Db) {}

  private table(name: string) {
    return `vecx_${checkCollectionName(name)}`;
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    const t = this.table(spec.name);
    await ensureRegistered(this.db, this.kind, spec, async (tx) => {
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${t} (id text PRIMARY KEY, embedding float8[] NOT NULL CHECK (cardinality(embedding) = ${spec.dimension}), payload jsonb NOT NULL DEFAULT '{}')`,
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
    const spec = await requireCollection(this.db, name);
    await upsertRows(this.db, this.table(name), spec, points, (v) => v, 'float8[]');
  }

  async delete(name: string, ids: string[]): Promise<void> {
    await requireCollection(this.db, name);
    await this.db.query(`DELETE FROM ${this.table(name)} WHERE id = ANY($1::text[])`, [ids]);
  }

  async search(name: string, r: SearchRequest): Promise<SearchHit[]> {
    const spec = await requireCollection(this.db, name);
    checkVector(spec, r.vector);
    const params: unknown[] = [r.vector, r.topK ?? 10];
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
    const { rows } = await this.db.query<{ id: string; payload: Payload; score: number }>(
      `SELECT id, payload, s.score FROM ${this.table(name)},
         LATERAL (SELECT sum(a * b) AS score FROM unnest(embedding, $1::float8[]) AS u(a, b)) s
       ${where} ORDER BY s.score DESC, id LIMIT $2`,
      params,
    );
    return rows
      .map((x) => ({ id: x.id, score: Number(x.score), payload: x.payload }))
      .filter((h) => r.threshold === undefined || h.score >= r.threshold);
  }

  async dropCollection(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Both PostgreSQL stores' tables go, so switching stores leaves nothing behind.
      await tx.query(
        `DROP TABLE IF EXISTS vec_${checkCollectionName(name)}, vecx_${checkCollectionName(name)}`,
      );
      await tx.query('DELETE FROM vector_collections WHERE name = $1', [name]);
    });
  }
}
