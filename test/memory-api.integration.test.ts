// Incident memory through the API: list, show, search, forget; a forgotten
// fix is never found again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await makeTestApp('pglite', { MEMORY_EMBEDDER: 'lexical' });
});
afterAll(() => t.close());

describe('/api/v1/memory', () => {
  it('lists and shows remembered incidents to viewers, and lets operators forget one', async () => {
    const stored = await t.services.memory.remember({
      title: 'nginx returns 502 after a deploy',
      service: 'nginx',
      rootCause: 'the upstream socket path changed',
      fix: { action: 'unit.restart', parameters: { unit: 'nginx.service' } },
      outcome: 'resolved',
      verified: true,
    });
    const viewer = await t.keyFor('viewer');
    const operator = await t.keyFor('operator');
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/memory?service=nginx',
      headers: viewer,
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().incidents.map((i: { id: string }) => i.id)).toEqual([stored.id]);
    const one = await t.app.inject({
      method: 'GET',
      url: `/api/v1/memory/${stored.id}`,
      headers: viewer,
    });
    expect(one.json()).toMatchObject({
      title: 'nginx returns 502 after a deploy',
      fix: { action: 'unit.restart' },
    });
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/memory/${stored.id}`,
          headers: viewer,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/memory/${stored.id}`,
          headers: operator,
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/v1/memory/${stored.id}`, headers: viewer }))
        .statusCode,
    ).toBe(404);
    expect(await t.services.memory.similar('nginx 502 after deploy')).toEqual([]);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/memory/not-a-number', headers: viewer }))
        .statusCode,
    ).toBe(400);
  });

  it('searches for viewers, scoped to a service when asked, and says why a fix would not run', async () => {
    for (const [service, title] of [
      ['redis', 'redis evicting keys: maxmemory reached'],
      ['nginx', 'redis evicting keys: maxmemory reached'],
    ] as const)
      await t.services.memory.remember({
        title,
        service,
        fix: { action: 'unit.restart', parameters: { unit: `${service}.service` } },
        outcome: 'resolved',
        verified: true,
      });
    const viewer = await t.keyFor('viewer');
    const search = (body: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/memory/search',
        headers: viewer,
        payload: body,
      });
    const all = await search({ text: 'redis evicting keys: maxmemory reached', topK: 5 });
    expect(all.statusCode).toBe(200);
    expect(all.json().threshold).toBe(0.85);
    expect(
      all
        .json()
        .matches.map((m: { incident: { service: string } }) => m.incident.service)
        .sort(),
    ).toEqual(['nginx', 'redis']);
    const scoped = await search({
      text: 'redis evicting keys: maxmemory reached',
      service: 'nginx',
    });
    const matches = scoped.json().matches as {
      incident: { service: string };
      autoApply: boolean;
    }[];
    expect(matches.map((m) => m.incident.service)).toEqual(['nginx']);
    expect(matches[0]!.autoApply).toBe(true);
    const bad = await search({ text: '', topK: 50 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/text|topK/);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/memory/search', payload: { text: 'x' } }))
        .statusCode,
    ).toBe(401);
  });
});
