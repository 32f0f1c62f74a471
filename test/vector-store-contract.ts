// One contract for every VectorStore adapter. Each test uses a fresh
// collection name, so adapters on shared servers can run side by side.
import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { UserError } from '../src/errors.ts';
import type { VectorStore } from '../src/memory/vector-store.ts';
import { exactTopK, randomUnitVectors } from './helpers/random-vectors.ts';

export type StoreFactory = () => Promise<VectorStore> | VectorStore;

const fresh = () => `c${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const spec = (name: string, dimension = 4, embedder = 'test-embedder') => ({
  name,
  dimension,
  embedder,
  indexedKeys: ['service', 'kind'],
});

export function defineVectorStoreContract(name: string, getStore: StoreFactory) {
  describe(`VectorStore contract: ${name}`, () => {
    const withCollection = async (
      fn: (store: VectorStore, c: string) => Promise<void>,
      dim = 4,
    ) => {
      const store = await getStore();
      const c = fresh();
      await store.ensureCollection(spec(c, dim));
      try {
        await fn(store, c);
      } finally {
        await store.dropCollection(c);
      }
    };

    it('creates a collection once and describes it', () =>
      withCollection(async (store, c) => {
        await store.ensureCollection(spec(c));
        expect(await store.info(c)).toEqual({
          name: c,
          dimension: 4,
          embedder: 'test-embedder',
          count: 0,
        });
      }));

    it('refuses to mix embedders or dimensions in one collection', () =>
      withCollection(async (store, c) => {
        for (const other of [spec(c, 4, 'other-embedder'), spec(c, 8)]) {
          const err = await store.ensureCollection(other).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(UserError);
          expect((err as UserError).code).toBe('embedder_mismatch');
          expect((err as UserError).message).toContain('warden memory reindex');
        }
      }));

    it('searches by cosine similarity, nearest first, with top-k', () =>
      withCollection(async (store, c) => {
        await store.upsert(c, [
          { id: 'a', vector: [1, 0, 0, 0], payload: { service: 'nginx' } },
          { id: 'b', vector: [0.6, 0.8, 0, 0], payload: { service: 'nginx' } },
          { id: 'c', vector: [0, 0, 1, 0], payload: { service: 'redis' } },
        ]);
        const hits = await store.search(c, { vector: [1, 0, 0, 0], topK: 2 });
        expect(hits.map((h) => h.id)).toEqual(['a', 'b']);
        expect(hits[0]!.score).toBeCloseTo(1, 5);
        expect(hits[1]!.score).toBeCloseTo(0.6, 5);
        expect(hits[0]!.payload).toEqual({ service: 'nginx' });
      }));

    it('drops results under the score threshold', () =>
      withCollection(async (store, c) => {
        await store.upsert(c, [
          { id: 'a', vector: [1, 0, 0, 0], payload: {} },
          { id: 'b', vector: [0.6, 0.8, 0, 0], payload: {} },
          { id: 'c', vector: [0, 0, 1, 0], payload: {} },
        ]);
        const hits = await store.search(c, { vector: [1, 0, 0, 0], topK: 10, threshold: 0.5 });
        expect(hits.map((h) => h.id)).toEqual(['a', 'b']);
      }));

    it('filters on payload keys, all of them', () =>
      withCollection(async (store, c) => {
        await store.upsert(c, [
          { id: 'a', vector: [1, 0, 0, 0], payload: { service: 'nginx', kind: 'disk' } },
          { id: 'b', vector: [0.6, 0.8, 0, 0], payload: { service: 'redis', kind: 'disk' } },
          { id: 'c', vector: [0.8, 0, 0.6, 0], payload: { service: 'redis', kind: 'memory' } },
        ]);
        const redis = await store.search(c, { vector: [1, 0, 0, 0], filter: { service: 'redis' } });
        expect(redis.map((h) => h.id)).toEqual(['c', 'b']);
        const both = await store.search(c, {
          vector: [1, 0, 0, 0],
          filter: { service: 'redis', kind: 'disk' },
        });
        expect(both.map((h) => h.id)).toEqual(['b']);
      }));

    it('replaces a point on upsert with the same id', () =>
      withCollection(async (store, c) => {
        await store.upsert(c, [{ id: 'a', vector: [1, 0, 0, 0], payload: { service: 'old' } }]);
        await store.upsert(c, [{ id: 'a', vector: [0, 1, 0, 0], payload: { service: 'new' } }]);
        const hits = await store.search(c, { vector: [0, 1, 0, 0] });
        expect(hits).toEqual([
          { id: 'a', score: expect.closeTo(1, 5), payload: { service: 'new' } },
        ]);
        expect((await store.info(c))!.count).toBe(1);
      }));

    it('scores only the given ids when asked', () =>
      withCollection(async (store, c) => {
        await store.upsert(c, [
          { id: 'a', vector: [1, 0, 0, 0], payload: {} },
          { id: 'b', vector: [0.6, 0.8, 0, 0], payload: {} },
          { id: 'c', vector: [0, 0, 1, 0], payload: {} },
        ]);
        const hits = await store.search(c, { vector: [1, 0, 0, 0], ids: ['c', 'b'], topK: 5 });
        expect(hits.map((h) => [h.id, Math.round(h.score * 100) / 100])).toEqual([
          ['b', 0.6],
          ['c', 0],
        ]);
      }));

    it('deletes points', () =>
      withCollection(async (store, c) => {
        await store.upsert(c, [
          { id: 'a', vector: [1, 0, 0, 0], payload: {} },
          { id: 'b', vector: [0, 1, 0, 0], payload: {} },
        ]);
        await store.delete(c, ['a']);
        expect((await store.search(c, { vector: [1, 0, 0, 0] })).map((h) => h.id)).toEqual(['b']);
      }));

    it('refuses a vector of the wrong dimension', () =>
      withCollection(async (store, c) => {
        const err = await store
          .upsert(c, [{ id: 'a', vector: [1, 0, 0], payload: {} }])
          .catch((e: unknown) => e);
        expect((err as UserError).code).toBe('vector_dimension');
      }));

    it('drops a collection', async () => {
      const store = await getStore();
      const c = fresh();
      await store.ensureCollection(spec(c));
      await store.dropCollection(c);
      expect(await store.info(c)).toBeUndefined();
    });

    it('finds the exact top-3 for random 64-dim vectors', () =>
      withCollection(async (store, c) => {
        const vectors = randomUnitVectors(400, 64, 7);
        await store.upsert(
          c,
          vectors.map((vector, i) => ({ id: String(i), vector, payload: {} })),
        );
        const queries = randomUnitVectors(20, 64, 99);
        let found = 0;
        for (const q of queries) {
          const want = exactTopK(vectors, q, 3).map(String);
          const got = (await store.search(c, { vector: q, topK: 3 })).map((h) => h.id);
          found += got.filter((id) => want.includes(id)).length;
        }
        expect(found / (queries.length * 3)).toBeGreaterThanOrEqual(0.95);
      }, 64));
  });
}
