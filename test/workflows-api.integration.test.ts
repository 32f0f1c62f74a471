// The workflows and executions HTTP API, and the workflows CLI.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../src/log.ts';
import { buildServer } from '../src/server/server.ts';
import { testEncryptionKey } from './helpers/processes.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

const doc = (name = 'api wf') => ({
  name,
  nodes: [
    { id: '1', name: 'Start', type: 'manual', parameters: {} },
    { id: '2', name: 'Set', type: 'set', parameters: { values: { v: '={{ x + 1 }}' } } },
  ],
  connections: { Start: { main: [[{ node: 'Set', index: 0 }]] } },
  settings: {},
});

describe('workflows and executions API', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let operator: Record<string, string>;
  let viewer: Record<string, string>;

  beforeAll(async () => {
    s = await makeTestServices('pglite');
    await s.engine.startWorker(4);
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

  it('creates, versions, reads, runs and deletes a workflow', async () => {
    expect(
      (await app.inject({ method: 'POST', url: '/api/v1/workflows', payload: doc() })).statusCode,
    ).toBe(401);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/workflows',
          headers: viewer,
          payload: doc(),
        })
      ).statusCode,
    ).toBe(403);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: doc(),
    });
    expect(created.statusCode).toBe(201);
    const wf = created.json() as { id: number; currentVersion: number };
    expect(wf.currentVersion).toBe(1);
    const updated = await app.inject({
      method: 'PUT',
      url: `/api/v1/workflows/${wf.id}`,
      headers: operator,
      payload: doc('renamed'),
    });
    expect(updated.json()).toMatchObject({ name: 'renamed', currentVersion: 2 });
    const got = await app.inject({ url: `/api/v1/workflows/${wf.id}`, headers: viewer });
    expect(got.json()).toMatchObject({
      name: 'renamed',
      definition: { nodes: [{ name: 'Start' }, { name: 'Set' }] },
    });

    const run = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${wf.id}/run`,
      headers: operator,
      payload: { items: [{ x: 1 }] },
    });
    expect(run.statusCode).toBe(202);
    const { executionId } = run.json() as { executionId: string };
    await s.engine.waitForStatus(executionId);
    const ex = await app.inject({ url: `/api/v1/executions/${executionId}`, headers: viewer });
    expect(ex.json()).toMatchObject({
      status: 'succeeded',
      workflowVersion: 2,
      result: [{ x: 1, v: 2 }],
      steps: [
        { nodeName: 'Start', status: 'succeeded' },
        { nodeName: 'Set', status: 'succeeded', output: [[{ x: 1, v: 2 }]] },
      ],
    });
    const listed = await app.inject({
      url: `/api/v1/executions?workflowId=${wf.id}&status=succeeded`,
      headers: viewer,
    });
    expect((listed.json() as { executions: { id: string }[] }).executions.map((e) => e.id)).toEqual(
      [executionId],
    );
    const none = await app.inject({
      url: `/api/v1/executions?workflowId=${wf.id}&status=failed`,
      headers: viewer,
    });
    expect((none.json() as { executions: unknown[] }).executions).toEqual([]);

    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/workflows/${wf.id}`, headers: operator }))
        .statusCode,
    ).toBe(204);
    expect(
      (await app.inject({ url: `/api/v1/workflows/${wf.id}`, headers: viewer })).statusCode,
    ).toBe(404);
  });

  it('answers 400 with every problem, each naming node and field', async () => {
    const bad = doc();
    bad.nodes[1]!.type = 'nope';
    (bad.connections as Record<string, unknown>).Start = { main: [[{ node: 'Ghost', index: 0 }]] };
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: bad,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: {
        code: 'invalid_workflow',
        details: {
          problems: [
            { node: 'Set', field: 'type', message: 'unknown node type "nope"' },
            {
              node: 'Start',
              field: 'connections.Start.main[0][0]',
              message: 'dangling connection to unknown node "Ghost"',
            },
          ],
        },
      },
    });
  });

  it('activates webhook workflows and refuses a path taken by another', async () => {
    const hook = (name: string) => ({
      name,
      nodes: [{ id: '1', name: 'Hook', type: 'webhook', parameters: { path: 'shared/path' } }],
      connections: {},
    });
    const a = (await s.engine.createWorkflow(hook('a'))).id;
    const b = (await s.engine.createWorkflow(hook('b'))).id;
    const ok = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${a}/activate`,
      headers: operator,
    });
    expect(ok.json()).toMatchObject({ active: true, activeVersion: 1 });
    const taken = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${b}/activate`,
      headers: operator,
    });
    expect(taken.statusCode).toBe(409);
    expect((await app.inject({ method: 'GET', url: '/webhook/shared/path' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/webhook/shared/path' })).statusCode).toBe(
      202,
    );
    await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${a}/deactivate`,
      headers: operator,
    });
    expect((await app.inject({ method: 'POST', url: '/webhook/shared/path' })).statusCode).toBe(
      404,
    );
  });

  it('says at activation and in its views that a webhook without auth lets anyone start the workflow', async () => {
    const hook = (name: string, parameters: Record<string, unknown>) => ({
      name,
      nodes: [{ id: '1', name: 'Hook', type: 'webhook', parameters }],
      connections: {},
    });
    const open = (await s.engine.createWorkflow(hook('open hook', { path: 'open/hook' }))).id;
    // The same services behind a server whose log is read back.
    let logged = '';
    const destination = new Writable({
      write(chunk, _enc, done) {
        logged += String(chunk);
        done();
      },
    });
    const watched = await buildServer({
      ...s,
      logger: createLogger({ level: 'warn', destination }),
    });
    const activated = await watched
      .inject({ method: 'POST', url: `/api/v1/workflows/${open}/activate`, headers: operator })
      .finally(() => watched.close());
    expect(activated.statusCode).toBe(200);
    expect(logged).toMatch(/"event":"workflow\.webhook_unauthenticated"/);
    expect(logged).toContain(`workflow ${open} activated with a webhook anyone may call`);
    expect(activated.json()).toMatchObject({
      active: true,
      webhooks: [{ node: 'Hook', method: 'POST', path: 'open/hook', auth: 'none' }],
      warnings: [
        expect.stringMatching(/"Hook" \(POST \/webhook\/open\/hook\) has no authentication/),
      ],
    });
    const viewed = await app.inject({ url: `/api/v1/workflows/${open}`, headers: viewer });
    expect(viewed.json()).toMatchObject({
      webhooks: [{ auth: 'none' }],
      warnings: [expect.any(String)],
    });

    await s.credentials.set('api-hook-token', 'token', 'a-token-value');
    const guarded = (
      await s.engine.createWorkflow(
        hook('guarded hook', {
          path: 'guarded/hook',
          auth: 'headerToken',
          credential: 'api-hook-token',
        }),
      )
    ).id;
    const quiet = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${guarded}/activate`,
      headers: operator,
    });
    expect(quiet.json()).toMatchObject({ webhooks: [{ auth: 'headerToken' }], warnings: [] });
    for (const id of [open, guarded])
      await app.inject({
        method: 'POST',
        url: `/api/v1/workflows/${id}/deactivate`,
        headers: operator,
      });
  });

  it('lists node types with their parameter schemas and side effects', async () => {
    const res = await app.inject({ url: '/api/v1/node-types', headers: viewer });
    const types = (
      res.json() as {
        nodeTypes: { type: string; sideEffects: unknown; parameters: { name: string }[] }[];
      }
    ).nodeTypes;
    expect(types.map((t) => t.type)).toEqual(
      expect.arrayContaining([
        'webhook',
        'schedule',
        'manual',
        'httpRequest',
        'if',
        'switch',
        'set',
        'merge',
        'wait',
        'respondToWebhook',
        'executeWorkflow',
        'noOp',
      ]),
    );
    const http = types.find((t) => t.type === 'httpRequest')!;
    expect(http.sideEffects).toBe('depends on parameters');
    expect(http.parameters.map((p) => p.name)).toContain('timeoutMs');
    expect(types.find((t) => t.type === 'set')!.sideEffects).toBe(false);
  });
});

describe('warden workflows import/export/list', () => {
  it('round-trips a workflow file through the CLI', async () => {
    const s = await makeTestServices('postgres');
    const dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['bin/warden.js', ...args], {
        env: {
          ...process.env,
          DATABASE_URL: s.config.database.url,
          WARDEN_DATA_DIR: dir,
          WARDEN_ENCRYPTION_KEY: testEncryptionKey,
          LOG_LEVEL: 'warn',
        },
      });
    try {
      writeFileSync(join(dir, 'wf.json'), JSON.stringify(doc('from file')));
      const imported = await run('workflows', 'import', join(dir, 'wf.json'), '--json');
      const [wf] = JSON.parse(imported.stdout) as { id: number }[];
      await run('workflows', 'export', String(wf!.id), '-o', join(dir, 'out.json'));
      expect(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'))).toMatchObject({
        name: 'from file',
        nodes: [{ name: 'Start' }, { name: 'Set' }],
      });
      const listed = JSON.parse((await run('workflows', 'list', '--json')).stdout) as {
        name: string;
      }[];
      expect(listed.map((w) => w.name)).toEqual(['from file']);
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'bad', nodes: [] }));
      const failed = await run('workflows', 'import', join(dir, 'bad.json')).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(failed).toMatchObject({ code: 2 });
      expect((failed as { stderr: string }).stderr).toMatch(/nodes: must be a non-empty array/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await s.dispose();
    }
  });

  it('`warden workflows activate` warns on stderr about a webhook anyone may call', async () => {
    const s = await makeTestServices('postgres');
    const dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
    try {
      const hook = await s.engine.createWorkflow({
        name: 'cli hook',
        nodes: [{ id: '1', name: 'Hook', type: 'webhook', parameters: { path: 'cli/hook' } }],
        connections: {},
      });
      const activated = await promisify(execFile)(
        process.execPath,
        ['bin/warden.js', 'workflows', 'activate', String(hook.id)],
        {
          env: {
            ...process.env,
            DATABASE_URL: s.config.database.url,
            WARDEN_DATA_DIR: dir,
            WARDEN_ENCRYPTION_KEY: testEncryptionKey,
            LOG_LEVEL: 'warn',
          },
        },
      );
      expect(activated.stdout).toMatch(/is active/);
      expect(activated.stderr).toMatch(
        /warning: webhook "Hook" \(POST \/webhook\/cli\/hook\) has no authentication/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await s.dispose();
    }
  });
});
