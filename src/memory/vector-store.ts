// The VectorStore port: named collections of unit vectors with a flat
// payload, searched by cosine similarity with top-k, a score threshold and
// equality filters on payload keys. Adapters: pgvector (PGlite, or PostgreSQL
// with the extension), exact scan in plain PostgreSQL, and Qdrant. All pass
// test/vector-store-contract.ts.
import { UserError } from '../errors.ts';

export type PayloadValue = string | number | boolean;
export type Payload = Record<string, PayloadValue>;

export type VectorPoint = { id: string; vector: number[]; payload: Payload };

export type CollectionSpec = {
  name: string;
  dimension: number;
  /** The embedder that makes this collection's vectors; mixing is refused. */
  embedder: string;
  /** Payload keys that filters will use (Qdrant indexes them). */
  indexedKeys?: string[];
};

export type CollectionInfo = { name: string; dimension: number; embedder: string; count: number };

export type SearchRequest = {
  vector: number[];
  /** @default 10 */
  topK?: number;
  /** Only results with score >= threshold. */
  threshold?: number;
  /** Every key must equal its value. */
  filter?: Payload;
  /** Only these point ids (to score known candidates). */
  ids?: string[];
};

export type SearchHit = { id: string; score: number; payload: Payload };

export interface VectorStore {
  readonly kind: 'pgvector' | 'postgres-exact' | 'qdrant';
  /** Creates the collection, or checks that the existing one has the same dimension and embedder. */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  info(name: string): Promise<CollectionInfo | undefined>;
  upsert(name: string, points: VectorPoint[]): Promise<void>;
  delete(name: string, ids: string[]): Promise<void>;
  /** Hits by descending cosine similarity (score in [-1, 1]). */
  search(name: string, request: SearchRequest): Promise<SearchHit[]>;
  dropCollection(name: string): Promise<void>;
  close?(): Promise<void>;
}

export function checkCollectionName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(name))
    throw new UserError(
      'invalid_collection',
      `Collection names are lowercase letters, digits and _; got "${name}"`,
    );
  return name;
}

export function mismatch(
  spec: CollectionSpec,
  existing: { dimension: number; embedder: string },
): UserError {
  return new UserError(
    'embedder_mismatch',
    `Collection "${spec.name}" holds vectors of embedder ${existing.embedder} (${existing.dimension} dimensions), not ${spec.embedder} (${spec.dimension}); vectors of different embedders cannot be compared. Run \`warden memory reindex\` to re-embed everything with the configured embedder`,
    {
      status: 409,
      details: {
        collection: spec.name,
        existing,
        wanted: { embedder: spec.embedder, dimension: spec.dimension },
      },
    },
  );
}

export function checkVector(spec: { name: string; dimension: number }, v: number[]): void {
  if (v.length !== spec.dimension)
    throw new UserError(
      'vector_dimension',
      `Collection "${spec.name}" takes ${spec.dimension}-dimensional vectors; got ${v.length}`,
    );
  for (const x of v)
    if (!Number.isFinite(x))
      throw new UserError('vector_not_finite', 'Vectors must be finite numbers');
}
