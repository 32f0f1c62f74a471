// The composition root wires the LLM gateway and incident memory from config:
// /readyz shows the model server and its circuit without requiring it, and
// the vector store follows the database (pgvector in PGlite, exact scan on a
// PostgreSQL without pgvector).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from '../src/server/server.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

let ollama: OllamaTestServer;
beforeAll(async () => {
  ollama = await OllamaTestServer.start();
});
afterAll(() => ollama.close());

describe('Warden on PGlite with no model server', () => {
  let s: TestServices;
  beforeAll(async () => {
    // Port 9 (discard) is closed on test machines: nothing answers there.
    s = await makeTestServices('pglite', { OLLAMA_URL: 'http://127.0.0.1:9', LLM_RETRIES: '0' });
  });
  afterAll(() => s?.dispose());

  it('is ready, and /readyz shows the LLM as down with its circuit state', async () => {
    const app = await buildServer(s);
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ checks: { llm: Record<string, unknown> } }>();
      expect(body.checks.llm).toMatchObject({
        ok: false,
        kind: 'ollama',
        circuit: { state: 'closed' },
      });
      expect(String(body.checks.llm.detail)).toContain('unreachable');
    } finally {
      await app.close();
    }
  });

  it('uses pgvector and the lexical embedder, and remembers incidents', async () => {
    expect(s.vectorStore.kind).toBe('pgvector');
    expect(s.embedder.id).toBe('lexical-v1-1024');
    await s.memory.remember({ title: 'disk full on web-1', outcome: 'resolved' });
    const hits = await s.memory.similar('web-1 out of disk space');
    expect(hits[0]?.incident.title).toBe('disk full on web-1');
  });
});

describe('Warden on PostgreSQL with a model server', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await makeTestServices('postgres', { OLLAMA_URL: ollama.url });
  });
  afterAll(() => s?.dispose());

  it('reports the model server as up in the llm check', async () => {
    const { ready, checks } = await s.health.run();
    expect(ready).toBe(true);
    expect(checks.llm).toMatchObject({ ok: true, version: '0.12.6', circuit: { state: 'closed' } });
  });

  it('falls back to the exact scan when PostgreSQL has no pgvector, and still finds incidents', async () => {
    const { rows } = await s.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'",
    );
    expect(s.vectorStore.kind).toBe(rows[0]!.n > 0 ? 'pgvector' : 'postgres-exact');
    await s.memory.remember({
      title: 'redis maxmemory reached',
      service: 'redis',
      outcome: 'resolved',
    });
    const hits = await s.memory.similar('redis used memory over maxmemory');
    expect(hits[0]?.incident.service).toBe('redis');
  });

  it('routes model roles to the configured models', async () => {
    ollama.script({ content: 'ok' });
    await s.llm.chat({
      model: s.llm.modelFor('validator'),
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(ollama.requests.at(-1)!.body.model).toBe('phi3:mini');
  });
});
