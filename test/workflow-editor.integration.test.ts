// The routes the workflow editor relies on: a draft checked with the rules a
// save applies, the version an execution ran on, and the save conflict check
// (a stale editor gets 409 and the newer version is kept).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

const doc = (value = '={{ x + 1 }}') => ({
  name: 'editor wf',
  nodes: [
    { id: '1', name: 'Start', type: 'manual', parameters: {} },
    { id: '2', name: 'Set', type: 'set', parameters: { values: { v: value } } },
  ],
  connections: { Start: { main: [[{ node: 'Set', index: 0 }]] } },
  settings: {},
});

describe('workflow editor API', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let operator: Record<string, string>;
  let viewer: Record<string, string>;

  beforeAll(async () => {
    s = await makeTestServices('pglite');
    app = await buildServer(s);
    operator = {
      authorization: `Bearer ${(await s.apiKeys.create({ name: 'op', role: 'operator' })).secret}`,
    };
    viewer = {
      authorization: `Bearer ${(await s.apiKeys.create({ name: 'v', role: 'viewer' })).secret}`,
    };
  });
  afterAll(async () => {
    await app?.close();
    await s?.dispose();
  });

  it('validates a draft with the save rules, naming node and field, for a viewer too', async () => {
    const url = '/api/v1/workflows/validate';
    expect((await app.inject({ method: 'POST', url, payload: doc() })).statusCode).toBe(401);
    const ok = await app.inject({ method: 'POST', url, headers: viewer, payload: doc() });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ valid: true, problems: [] });
    const bad = await app.inject({
      method: 'POST',
      url,
      headers: viewer,
      payload: doc('={{ x + }}'),
    });
    expect(bad.statusCode).toBe(200);
    const body = bad.json<{ valid: boolean; problems: { node: string; field: string }[] }>();
    expect(body.valid).toBe(false);
    expect(body.problems).toEqual([
      expect.objectContaining({ node: 'Set', field: 'parameters.values.v' }),
    ]);
    // The same draft is refused by a save with the same problem.
    const save = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: doc('={{ x + }}'),
    });
    expect(save.statusCode).toBe(400);
    expect(
      save.json<{ error: { details: { problems: unknown[] } } }>().error.details.problems,
    ).toEqual(body.problems);
  });

  it('refuses a save made on a stale version with 409 and keeps the newer one', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: doc(),
    });
    const { id, currentVersion } = created.json<{ id: number; currentVersion: number }>();
    expect(currentVersion).toBe(1);
    const put = (value: string, expectedVersion?: number) =>
      app.inject({
        method: 'PUT',
        url: `/api/v1/workflows/${id}`,
        headers: operator,
        payload: { ...doc(value), expectedVersion },
      });
    const first = await put('={{ 2 }}', 1);
    expect(first.statusCode).toBe(200);
    expect(first.json<{ currentVersion: number }>().currentVersion).toBe(2);
    const stale = await put('={{ 3 }}', 1);
    expect(stale.statusCode).toBe(409);
    expect(
      stale.json<{ error: { code: string; details: { currentVersion: number } } }>().error,
    ).toMatchObject({ code: 'version_conflict', details: { currentVersion: 2 } });
    const now = await app.inject({ url: `/api/v1/workflows/${id}`, headers: viewer });
    expect(
      now.json<{ currentVersion: number; definition: { nodes: { parameters: unknown }[] } }>(),
    ).toMatchObject({ currentVersion: 2 });
    expect(
      now.json<{ definition: { nodes: { parameters: unknown }[] } }>().definition.nodes[1]!
        .parameters,
    ).toEqual({ values: { v: '={{ 2 }}' } });
    // Without expectedVersion a save works as before (last write wins, for scripts).
    expect((await put('={{ 4 }}')).statusCode).toBe(200);
    // A missing workflow is still a 404, with or without the expected version.
    const missing = await app.inject({
      method: 'PUT',
      url: '/api/v1/workflows/99999',
      headers: operator,
      payload: { ...doc(), expectedVersion: 1 },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('lists the versions and reads the immutable one an execution ran on', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: doc('={{ 10 }}'),
    });
    const { id } = created.json<{ id: number }>();
    await app.inject({
      method: 'PUT',
      url: `/api/v1/workflows/${id}`,
      headers: operator,
      payload: doc('={{ 20 }}'),
    });
    const v1 = await app.inject({ url: `/api/v1/workflows/${id}/versions/1`, headers: viewer });
    expect(v1.statusCode).toBe(200);
    expect(
      v1.json<{ definition: { nodes: { parameters: unknown }[] } }>().definition.nodes[1]!
        .parameters,
    ).toEqual({ values: { v: '={{ 10 }}' } });
    expect(
      (await app.inject({ url: `/api/v1/workflows/${id}/versions/9`, headers: viewer })).statusCode,
    ).toBe(404);
    const list = await app.inject({ url: `/api/v1/workflows/${id}/versions`, headers: viewer });
    expect(list.json<{ versions: { version: number; nodes: number }[] }>().versions).toEqual([
      expect.objectContaining({ version: 2, name: 'editor wf', nodes: 2 }),
      expect.objectContaining({ version: 1, name: 'editor wf', nodes: 2 }),
    ]);
    expect(
      (await app.inject({ url: '/api/v1/workflows/99999/versions', headers: viewer })).statusCode,
    ).toBe(404);
  });
});
