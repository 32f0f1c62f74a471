// Qdrant adapter (@qdrant/js-client-rest): one Qdrant collection per
// collection name (prefixed), cosine distance, keyword payload indexes for
// the keys filters use, score_threshold and filters done by Qdrant. The
// embedder and dimension are kept in the collection's metadata. Qdrant point
// ids must be integers or UUIDs, so string ids map to a name-based UUID and
// travel in the payload.
import { createHash } from 'node:crypto';

import { QdrantClient } from '@qdrant/js-client-rest';

import { maskUrl } from '../config/mask.ts';
import { OperationalError } from '../errors.ts';
import type {
  CollectionInfo,
  CollectionSpec,
  Payload,
  SearchHit,
  SearchRequest,
  VectorPoint,
  VectorStore,
} from './vector-store.ts';
import { checkCollectionName, checkVector, mismatch } from './vector-store.ts';

export type QdrantStoreOptions = {
  url: string;
  apiKey?: string;
  /** Prefix of every collection name. @default "warden" */
  prefix?: string;
};

const idKey = '_warden_id';

/** A stable UUID for a string id (SHA-1 name-based, version 5 layout). */
export function pointId(id: string): string {
  const h = createHash('sha1').update(`warden:${id}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

type QdrantMeta = { warden_embedder?: string; warden_dimension?: number };

export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant' as const;
  readonly client: QdrantClient;
  private readonly prefix: string;
  private readonly url: string;

  constructor(options: QdrantStoreOptions) {
    this.url = options.url;
    this.client = new QdrantClient({
      url: options.url,
      apiKey: options.apiKey,
      checkCompatibility: false,
    });
    this.prefix = options.prefix ?? 'warden';
  }

  private name(name: string) {
    return `${this.prefix}_${checkCollectionName(name)}`;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { status?: number; message?: string; cause?: { code?: string } };
      if (e.status === undefined || e.status >= 500)
        throw new OperationalError(
          'qdrant_unavailable',
          `Qdrant at ${maskUrl(this.url)} failed to ${what}: ${e.cause?.code ?? e.message ?? String(err)} (QDRANT_URL)`,
          { cause: err },
        );
      throw err;
    }
  }

  private async describe(
    name: string,
  ): Promise<(CollectionInfo & { hasMeta: boolean }) | undefined> {
    const full = this.name(name);
    const exists = await this.call('check a collection', () => this.client.collectionExists(full));
    if (!exists.exists) return undefined;
    const c = await this.call('read a collection', () => this.client.getCollection(full));
    const vectors = c.config.params.vectors as { size?: number } | undefined;
    const meta = (c.config.metadata ?? {}) as QdrantMeta;
    return {
      name,
      dimension: meta.warden_dimension ?? vectors?.size ?? 0,
      embedder: meta.warden_embedder ?? 'unknown',
      count: c.points_count ?? 0,
      hasMeta: meta.warden_embedder !== undefined,
    };
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    const existing = await this.describe(spec.name);
    if (existing) {
      if (
        existing.dimension !== spec.dimension ||
        (existing.hasMeta && existing.embedder !== spec.embedder)
      )
        throw mismatch(spec, existing);
      return;
    }
    const full = this.name(spec.name);
    await this.call('create a collection', async () => {
      await this.client.createCollection(full, {
        vectors: { size: spec.dimension, distance: 'Cosine' },
      });
      await this.client.updateCollection(full, {
        metadata: { warden_embedder: spec.embedder, warden_dimension: spec.dimension },
      });
      for (const key of spec.indexedKeys ?? [])
        await this.client.createPayloadIndex(full, {
          field_name: key,
          field_schema: 'keyword',
          wait: true,
        });
    });
  }

  async info(name: string): Promise<CollectionInfo | undefined> {
    const d = await this.describe(name);
    if (!d) return undefined;
    const { hasMeta: _hasMeta, ...info } = d;
    // points_count can lag behind a write; count exactly.
    const n = await this.call('count points', () =>
      this.client.count(this.name(name), { exact: true }),
    );
    return { ...info, count: n.count };
  }

  private async spec(name: string) {
    const d = await this.describe(name);
    if (!d)
      throw new OperationalError(
        'no_collection',
        `Qdrant collection ${this.name(name)} does not exist`,
      );
    return d;
  }

  async upsert(name: string, points: VectorPoint[]): Promise<void> {
    const spec = await this.spec(name);
    for (const p of points) checkVector(spec, p.vector);
    for (let i = 0; i < points.length; i += 256) {
      const batch = points.slice(i, i + 256);
      await this.call('store points', () =>
        this.client.upsert(this.name(name), {
          wait: true,
          points: batch.map((p) => ({
            id: pointId(p.id),
            vector: p.vector,
            payload: { ...p.payload, [idKey]: p.id },
          })),
        }),
      );
    }
  }

  async delete(name: string, ids: string[]): Promise<void> {
    await this.call('delete points', () =>
      this.client.delete(this.name(name), { wait: true, points: ids.map(pointId) }),
    );
  }

  async search(name: string, r: SearchRequest): Promise<SearchHit[]> {
    const spec = await this.spec(name);
    checkVector(spec, r.vector);
    const must: Array<Record<string, unknown>> = Object.entries(r.filter ?? {}).map(
      ([key, value]) => ({
        key,
        match: { value },
      }),
    );
    if (r.ids) must.push({ has_id: r.ids.map(pointId) });
    const filter = must.length > 0 ? { must } : undefined;
    const res = await this.call('search', () =>
      this.client.query(this.name(name), {
        query: r.vector,
        limit: r.topK ?? 10,
        ...(r.threshold !== undefined ? { score_threshold: r.threshold } : {}),
        ...(filter ? { filter } : {}),
        with_payload: true,
      }),
    );
    return res.points.map((p) => {
      const { [idKey]: id, ...payload } = (p.payload ?? {}) as Payload;
      return { id: String(id ?? p.id), score: p.score, payload };
    });
  }

  async dropCollection(name: string): Promise<void> {
    const full = this.name(name);
    const exists = await this.call('check a collection', () => this.client.collectionExists(full));
    if (exists.exists)
      await this.call('delete a collection', () => this.client.deleteCollection(full));
  }
}
