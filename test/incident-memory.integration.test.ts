// Incident memory on real databases: retrieval quality on a labelled corpus
// with the lexical embedder (recall@1, recall@3, calibration), feedback,
// embedder mixing and reindex, the exact-scan fallback on PostgreSQL, and the
// Ollama embedder's prefixes and chunking against the Ollama test server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate } from '../src/db/migrate.ts';
import { PgliteDb } from '../src/db/pglite-db.ts';
import { PostgresDb } from '../src/db/postgres-db.ts';
import { UserError } from '../src/errors.ts';
import { OllamaProvider } from '../src/llm/ollama-provider.ts';
import { calibrate, calibrations, fitCalibration } from '../src/memory/calibration.ts';
import { ExactScanStore } from '../src/memory/exact-scan-store.ts';
import { IncidentMemory } from '../src/memory/incident-memory.ts';
import { LexicalEmbedder } from '../src/memory/lexical-embedder.ts';
import { OllamaEmbedder } from '../src/memory/ollama-embedder.ts';
import { PgvectorStore } from '../src/memory/pgvector-store.ts';
import { corpus, novelQueries } from './fixtures/incident-corpus.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

let lite: PgliteDb;
let server: OllamaTestServer;
beforeAll(async () => {
  lite = await PgliteDb.open();
  await migrate(lite);
  server = await OllamaTestServer.start();
});
afterAll(async () => {
  await lite?.close();
  await server?.close();
});

describe('incident memory with the lexical embedder (pgvector in PGlite)', () => {
  let memory: IncidentMemory;
  const idOf = new Map<string, string>();
  beforeAll(async () => {
    memory = new IncidentMemory({
      db: lite,
      store: await PgvectorStore.open(lite),
      embedder: new LexicalEmbedder(),
      collection: 'corpus',
    });
    for (const inc of corpus) idOf.set((await memory.remember(inc)).id, inc.key);
  });

  it('finds the right past incident for reworded alerts (recall@1 and recall@3)', async () => {
    let at1 = 0;
    let at3 = 0;
    let n = 0;
    const misses: string[] = [];
    for (const inc of corpus) {
      for (const q of inc.queries) {
        n++;
        const hits = await memory.similar(q, { topK: 3 });
        const keys = hits.map((h) => idOf.get(h.incident.id));
        if (keys[0] === inc.key) at1++;
        if (keys.includes(inc.key)) at3++;
        else misses.push(`${inc.key} <- "${q}" (got ${keys.join(', ')})`);
      }
    }
    const r1 = at1 / n;
    const r3 = at3 / n;
    console.log(
      `incident memory, lexical embedder, ${corpus.length} incidents, ${n} paraphrased alerts: recall@1 = ${r1.toFixed(3)}, recall@3 = ${r3.toFixed(3)}${misses.length ? `\n  misses@3:\n  ${misses.join('\n  ')}` : ''}`,
    );
    expect(r1).toBeGreaterThanOrEqual(0.8);
    expect(r3).toBeGreaterThanOrEqual(0.9);
  });

  it('does better hybrid than with either signal alone (ablation, printed)', async () => {
    const tally = { vector: [0, 0], text: [0, 0], hybrid: [0, 0] };
    let n = 0;
    for (const inc of corpus)
      for (const q of inc.queries) {
        n++;
        // Every candidate, with both component scores, ranked three ways.
        const all = await memory.similar(q, { topK: 100 });
        const rank = (key: (h: (typeof all)[number]) => number) =>
          [...all].sort((a, b) => key(b) - key(a)).map((h) => idOf.get(h.incident.id));
        for (const [name, order] of [
          ['vector', rank((h) => h.vectorScore)],
          ['text', rank((h) => h.textScore)],
          ['hybrid', rank((h) => h.rawScore)],
        ] as const) {
          if (order[0] === inc.key) tally[name][0]!++;
          if (order.slice(0, 3).includes(inc.key)) tally[name][1]!++;
        }
      }
    const fmt = (t: number[]) =>
      `recall@1 ${(t[0]! / n).toFixed(3)}, recall@3 ${(t[1]! / n).toFixed(3)}`;
    console.log(
      `ablation over ${n} alerts: vector only (lexical embedder): ${fmt(tally.vector)}; full text only: ${fmt(tally.text)}; hybrid: ${fmt(tally.hybrid)}`,
    );
    expect(tally.hybrid[0]).toBeGreaterThanOrEqual(Math.max(tally.vector[0]!, tally.text[0]!));
  });

  it('calibrates the score: matches above 0.85 are right, novel alerts stay under it', async () => {
    const samples: Array<{ raw: number; match: boolean }> = [];
    const top1: Array<{ score: number; right: boolean }> = [];
    for (const inc of corpus)
      for (const q of inc.queries) {
        const hits = await memory.similar(q, { topK: 5 });
        hits.forEach((h, i) => {
          const right = idOf.get(h.incident.id) === inc.key;
          samples.push({ raw: h.rawScore, match: right });
          if (i === 0) top1.push({ score: h.score, right });
        });
      }
    const novelTop: number[] = [];
    for (const q of novelQueries) {
      const hits = await memory.similar(q, { topK: 5 });
      for (const h of hits) samples.push({ raw: h.rawScore, match: false });
      novelTop.push(hits[0]?.score ?? 0);
    }
    const fitted = fitCalibration(samples);
    const confident = top1.filter((t) => t.score >= 0.85);
    const precision = confident.filter((t) => t.right).length / Math.max(1, confident.length);
    console.log(
      `calibration (lexical): fitted a=${fitted.a} b=${fitted.b}, shipped a=${calibrations.lexical!.a} b=${calibrations.lexical!.b}; ` +
        `top-1 matches scoring >= 0.85: ${confident.length}/${top1.length}, precision ${precision.toFixed(3)}; ` +
        `novel alerts' best score: max ${Math.max(...novelTop).toFixed(3)}`,
    );
    expect(confident.length).toBeGreaterThan(0);
    expect(precision).toBeGreaterThanOrEqual(0.85);
    expect(Math.max(...novelTop)).toBeLessThan(0.85);
    // The shipped curve must stay close to what the corpus gives today.
    for (const raw of [0.4, 0.5, 0.6, 0.7])
      expect(
        Math.abs(calibrate(raw, calibrations.lexical!) - calibrate(raw, { ...fitted, source: '' })),
      ).toBeLessThan(0.1);
  });

  it('returns top-3 with scores and says why a fix may not run automatically', async () => {
    const hits = await memory.similar('nginx upstream connection refused, 502 for users', {
      topK: 3,
    });
    expect(hits).toHaveLength(3);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
    for (const h of hits) {
      expect(h.score).toBeGreaterThanOrEqual(0);
      expect(h.score).toBeLessThanOrEqual(1);
      expect(h.autoApply).toBe(h.score >= 0.85);
      if (!h.autoApply) expect(h.reason).toContain('threshold');
    }
  });

  it('returns nothing, not NaN scores that slip past the threshold, for an alert of only stopwords or symbols', async () => {
    for (const q of ['the and of it', '!!! ??? ---', '']) {
      const hits = await memory.similar(q, { topK: 3 });
      expect(hits).toEqual([]);
    }
  });

  it('filters by service', async () => {
    const hits = await memory.similar('disk almost full', { topK: 3, service: 'postgresql' });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.incident.service === 'postgresql')).toBe(true);
  });
});

describe('feedback', () => {
  it('never auto-applies a fix again once it failed verification', async () => {
    const memory = new IncidentMemory({
      db: lite,
      store: await PgvectorStore.open(lite),
      embedder: new LexicalEmbedder(),
      collection: 'feedback',
      threshold: 0,
    });
    const inc = await memory.remember({
      title: 'Varnish cache hit rate dropped',
      symptoms: 'varnish misses, origin overloaded',
      service: 'varnish',
      fix: { action: 'restart_service', parameters: { service: 'varnish' } },
      outcome: 'resolved',
      verified: true,
    });
    const before = (
      await memory.similar('varnish cache hit rate dropped', { service: 'varnish' })
    )[0]!;
    expect(before.autoApply).toBe(true);
    const after = await memory.feedback(inc.id, {
      verified: false,
      note: 'hit rate still 10% after restart',
    });
    expect(after).toMatchObject({ fixBlocked: true, failureCount: 1 });
    await memory.feedback(inc.id, { verified: true });
    const hit = (
      await memory.similar('varnish cache hit rate dropped', { service: 'varnish' })
    )[0]!;
    expect(hit.incident.id).toBe(inc.id);
    expect(hit.autoApply).toBe(false);
    expect(hit.reason).toContain('failed verification');
    const { rows } = await lite.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM memory_feedback WHERE incident_id = $1::bigint',
      [inc.id],
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('refuses feedback for an incident that does not exist', async () => {
    const memory = new IncidentMemory({
      db: lite,
      store: await PgvectorStore.open(lite),
      embedder: new LexicalEmbedder(),
      collection: 'feedback',
    });
    await expect(memory.feedback('999999', { verified: true })).rejects.toThrow(/not found/);
  });
});

describe('full-text scores', () => {
  it('weights each word by its inverse document frequency over the whole memory', async () => {
    const db = await PgliteDb.open();
    try {
      await migrate(db);
      const memory = new IncidentMemory({
        db,
        store: await PgvectorStore.open(db),
        embedder: new LexicalEmbedder(),
      });
      // "kernel" is in all four incidents, "zookeeper" in one.
      const a = await memory.remember({ title: 'zookeeper kernel panic', outcome: 'resolved' });
      const b = await memory.remember({ title: 'kernel update pending', outcome: 'resolved' });
      for (const t of ['kernel oops on boot', 'kernel module missing'])
        await memory.remember({ title: t, outcome: 'resolved' });
      const w = (df: number, n: number) => Math.log(1 + n / (1 + df));
      // b has only the common word: its share of the query's total weight.
      const expected = (n: number) => w(4, n) / (w(1, n) + w(4, n));
      const scoreOf = async (id: string) =>
        (await memory.similar('zookeeper kernel', { topK: 10 })).find((h) => h.incident.id === id)!
          .textScore;
      expect(await scoreOf(b.id)).toBeCloseTo(expected(4), 10);
      expect(await scoreOf(a.id)).toBeCloseTo(1, 10);
      // The corpus size the weights use follows forget() and a truncate.
      const extra = await memory.remember({ title: 'disk full', outcome: 'resolved' });
      expect(await scoreOf(b.id)).toBeCloseTo(expected(5), 10);
      await memory.forget(extra.id);
      expect(await scoreOf(b.id)).toBeCloseTo(expected(4), 10);
      const count = async () =>
        (await db.query<{ n: string }>('SELECT incidents::text AS n FROM memory_corpus')).rows[0]!
          .n;
      expect(await count()).toBe('4');
      await db.exec('TRUNCATE memory_incidents CASCADE');
      expect(await count()).toBe('0');
    } finally {
      await db.close();
    }
  });

  it('keeps no GIN pending list, so searches do not slow down between vacuums', async () => {
    // PGlite has no autovacuum: a pending list would only grow, and every
    // full-text or payload search would read through it.
    await PgvectorStore.open(lite).then((s) =>
      s.ensureCollection({ name: 'gin_check', dimension: 4, embedder: 'test' }),
    );
    const { rows } = await lite.query<{ relname: string; reloptions: string[] | null }>(
      `SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_am am ON am.oid = c.relam
        WHERE am.amname = 'gin' AND c.relkind = 'i'`,
    );
    const names = rows.map((r) => r.relname);
    expect(names).toContain('memory_incidents_tsv_idx');
    expect(names).toContain('vec_gin_check_payload');
    for (const r of rows)
      expect({ [r.relname]: r.reloptions }).toEqual({ [r.relname]: ['fastupdate=off'] });
  });
});

describe('a vector that could not be stored', () => {
  it('leaves the incident counted as stale for reindex, not marked as embedded', async () => {
    const real = await PgvectorStore.open(lite);
    const broken = Object.assign(Object.create(real) as PgvectorStore, {
      upsert: async () => {
        throw new Error('vector store down');
      },
    });
    const memory = new IncidentMemory({
      db: lite,
      store: broken,
      embedder: new LexicalEmbedder(),
      collection: 'broken',
    });
    const before = (await memory.status()).stale;
    await expect(
      memory.remember({ title: 'ntp drift on db-9', outcome: 'resolved' }),
    ).rejects.toThrow('vector store down');
    expect((await memory.status()).stale).toBe(before + 1);
    // Leave the shared table as the next tests expect it: everything embedded.
    await new IncidentMemory({
      db: lite,
      store: real,
      embedder: new LexicalEmbedder(),
      collection: 'broken',
    }).reindex();
  });
});

describe('embedders are never mixed', () => {
  it('refuses to search with another embedder until reindex, which re-embeds everything with progress', async () => {
    const store = await PgvectorStore.open(lite);
    const lexical = new IncidentMemory({
      db: lite,
      store,
      embedder: new LexicalEmbedder(),
      collection: 'mixing',
    });
    // memory_incidents is shared by the collections of this file; count what is there.
    const total = (await lexical.status()).incidents;
    const llm = new OllamaProvider({ url: server.url });
    const neural = new IncidentMemory({
      db: lite,
      store,
      embedder: new OllamaEmbedder({ llm }),
      collection: 'mixing',
    });
    const err = await neural.similar('disk full').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('embedder_mismatch');
    expect((err as Error).message).toContain('warden memory reindex');

    const progress: Array<[number, number]> = [];
    const res = await neural.reindex({
      batchSize: 16,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(res.reindexed).toBe(total);
    expect(progress[0]).toEqual([0, total]);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(await neural.status()).toMatchObject({ embedder: 'ollama:nomic-embed-text', stale: 0 });
    expect((await store.info('mixing'))!).toMatchObject({
      embedder: 'ollama:nomic-embed-text',
      dimension: 768,
      count: total,
    });
    const hits = await neural.similar('redis used memory above maxmemory');
    expect(hits.length).toBe(3);
    // And now the lexical one is the stranger.
    await expect(lexical.similar('disk full')).rejects.toThrow(/reindex/);
    await lexical.reindex();
  });
});

describe('Ollama embedder', () => {
  it('prefixes documents and queries as nomic-embed-text expects', async () => {
    server.requests.length = 0;
    const e = new OllamaEmbedder({ llm: new OllamaProvider({ url: server.url }) });
    await e.embedDocuments(['nginx down']);
    await e.embedQuery('is nginx down?');
    const inputs = server.requestsTo('/api/embed').map((r) => r.body.input);
    expect(inputs).toEqual([['search_document: nginx down'], ['search_query: is nginx down?']]);
  });

  it('cuts long texts into chunks under the context and averages them into one unit vector', async () => {
    server.requests.length = 0;
    const e = new OllamaEmbedder({
      llm: new OllamaProvider({ url: server.url }),
      maxChunkTokens: 100,
    });
    const long = Array.from({ length: 200 }, (_, i) => `line ${i} kernel: nvme0n1 I/O error`).join(
      '\n',
    );
    const [v] = await e.embedDocuments([long]);
    const sent = server.requestsTo('/api/embed')[0]!.body.input as string[];
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(s.length).toBeLessThanOrEqual(300);
    expect(sent.every((s) => s.startsWith('search_document: '))).toBe(true);
    expect(v).toHaveLength(768);
    expect(Math.hypot(...v!)).toBeCloseTo(1, 6);
  });
});

describe('incident memory on PostgreSQL without pgvector (exact scan)', () => {
  let t: TestDatabase;
  let db: PostgresDb;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = new PostgresDb({ url: t.url, max: 4 });
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await t?.drop();
  });

  it('stores, finds and ranks incidents with exact cosine scores and full-text rank', async () => {
    const memory = new IncidentMemory({
      db,
      store: new ExactScanStore(db),
      embedder: new LexicalEmbedder(),
    });
    const ids = new Map<string, string>();
    for (const inc of corpus.slice(0, 12)) ids.set((await memory.remember(inc)).id, inc.key);
    let right = 0;
    for (const inc of corpus.slice(0, 12)) {
      const hits = await memory.similar(inc.queries[0]!, { topK: 3 });
      if (hits.some((h) => ids.get(h.incident.id) === inc.key)) right++;
    }
    expect(right).toBeGreaterThanOrEqual(11);
    expect(await memory.status()).toMatchObject({
      store: 'postgres-exact',
      incidents: 12,
      stale: 0,
    });
  });
});
