// Vector search in PGlite with pgvector's HNSW index, through PgvectorStore:
// p50/p95 latency of a top-3 search and recall@3 against an exact scan, at
// 10k and 100k vectors of 768 dimensions. Targets: recall@3 >= 0.98 and
// p95 < 20 ms at 100k.
//
// Data: synthetic, shaped like embeddings rather than uniform noise: unit
// vectors around 2,000 random topic centres (uniform random 768-dim vectors
// have no neighbourhoods, which no embedding model produces). Queries come
// from the same distribution. The HNSW index is built after the bulk load,
// as pgvector recommends; searches run with ef_search 40 (pgvector's default) and
// 100 (the store's default).
//
// BENCH_SIZES=10000,100000 (default) chooses the sizes; BENCH_QUERIES=200.
import { PgliteDb } from '../src/db/pglite-db.ts';
import { migrate } from '../src/db/migrate.ts';
import { PgvectorStore } from '../src/memory/pgvector-store.ts';
import { rng } from '../test/helpers/random-vectors.ts';

const dim = 768;
const sizes = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const queries = Number(process.env.BENCH_QUERIES ?? 200);

function gaussian(r: () => number) {
  return r() + r() + r() + r() - 2; // close enough to normal for directions
}

function makeData(n: number, seed: number) {
  const r = rng(seed);
  const centres = Array.from({ length: 2000 }, () =>
    Float32Array.from({ length: dim }, () => gaussian(r)),
  );
  const point = () => {
    const c = centres[Math.floor(r() * centres.length)]!;
    const v = new Float32Array(dim);
    let len = 0;
    for (let d = 0; d < dim; d++) {
      v[d] = c[d]! + 0.9 * gaussian(r);
      len += v[d]! * v[d]!;
    }
    len = Math.sqrt(len);
    for (let d = 0; d < dim; d++) v[d]! /= len;
    return v;
  };
  return {
    vectors: Array.from({ length: n }, point),
    queries: Array.from({ length: queries }, point),
  };
}

function exactTop3(vectors: Float32Array[], q: Float32Array): number[] {
  const best: Array<[number, number]> = [];
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i]!;
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[d]! * q[d]!;
    if (best.length < 3 || s > best[2]![1]) {
      best.push([i, s]);
      best.sort((a, b) => b[1] - a[1]);
      if (best.length > 3) best.pop();
    }
  }
  return best.map(([i]) => i);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

for (const n of sizes) {
  const db = await PgliteDb.open();
  await migrate(db);
  const store = await PgvectorStore.open(db);
  const { vectors, queries: qs } = makeData(n, n);
  await store.ensureCollection({ name: 'bench', dimension: dim, embedder: 'bench' });
  await db.exec('DROP INDEX vec_bench_hnsw');
  let t = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await store.upsert(
      'bench',
      vectors
        .slice(i, i + 1000)
        .map((v, k) => ({ id: String(i + k), vector: Array.from(v), payload: {} })),
    );
  }
  const loadS = (performance.now() - t) / 1000;
  t = performance.now();
  await db.exec("SET maintenance_work_mem = '1GB'");
  await db.exec(
    'CREATE INDEX vec_bench_hnsw ON vec_bench USING hnsw (embedding vector_cosine_ops)',
  );
  const indexS = (performance.now() - t) / 1000;

  const exact = qs.map((q) => exactTop3(vectors, q).map(String));
  for (const efSearch of [40, 100]) {
    const s = await PgvectorStore.open(db, { efSearch });
    for (const q of qs.slice(0, 10)) await s.search('bench', { vector: Array.from(q), topK: 3 }); // warm-up
    const times: number[] = [];
    let found = 0;
    for (const [i, q] of qs.entries()) {
      const start = performance.now();
      const hits = await s.search('bench', { vector: Array.from(q), topK: 3 });
      times.push(performance.now() - start);
      found += hits.filter((h) => exact[i]!.includes(h.id)).length;
    }
    console.log(
      `pgvector HNSW in PGlite, ${n} x ${dim}, ef_search ${efSearch}: search top-3 p50 ${pct(times, 0.5).toFixed(2)} ms, p95 ${pct(times, 0.95).toFixed(2)} ms, ` +
        `recall@3 vs exact ${(found / (qs.length * 3)).toFixed(3)} (${qs.length} queries); load ${loadS.toFixed(1)} s, index build ${indexS.toFixed(1)} s`,
    );
  }
  await db.close();
}
