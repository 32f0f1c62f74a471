// Test runs from the editor: pinned data saved with the workflow stands in
// for its node only in a test run (never in a webhook or manual execution),
// "run up to this node" runs only that node's ancestors, a node with side
// effects never acts on pinned data, and the gallery lists every example.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from '../src/server/server.ts';
import type { HttpSink } from './helpers/effect-sink.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

type Step = { nodeName: string; status: string; attempts: number; output: unknown };
type Ex = { id: string; status: string; mode: string; error: { code: string } | null };

describe('editor test runs and the examples gallery', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let sink: HttpSink;
  let operator: Record<string, string>;
  let viewer: Record<string, string>;

  /** webhook -> Lookup (set) -> Notify (POST to the sink) -> Answer. */
  const doc = (key: string, pinData?: Record<string, unknown>) => ({
    name: `pins ${key}`,
    nodes: [
      { id: 'h', name: 'Hook', type: 'webhook', parameters: { path: `pins-${key}` } },
      {
        id: 'l',
        name: 'Lookup',
        type: 'set',
        parameters: { values: { host: '={{ body.host }}', source: 'real' } },
      },
      {
        id: 'n',
        name: 'Notify',
        type: 'httpRequest',
        parameters: { method: 'POST', url: `${sink.url}/effect?key=${key}`, body: '={{ $json }}' },
      },
      { id: 'a', name: 'Answer', type: 'respondToWebhook', parameters: {} },
    ],
    connections: {
      Hook: { main: [[{ node: 'Lookup', index: 0 }]] },
      Lookup: { main: [[{ node: 'Notify', index: 0 }]] },
      Notify: { main: [[{ node: 'Answer', index: 0 }]] },
    },
    settings: {},
    ...(pinData ? { pinData } : {}),
  });

  const create = async (body: object) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: number; definition: { pinData?: unknown } }>();
  };
  const testRun = async (id: number, body: object) => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${id}/test-run`,
      headers: operator,
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ executionId: string }>().executionId;
  };
  const finished = async (executionId: string) => {
    const ex = await s.engine.waitForStatus(executionId);
    const res = await app.inject({ url: `/api/v1/executions/${executionId}`, headers: operator });
    return { ...res.json<Ex & { steps: Step[] }>(), status: ex.status };
  };
  const stepOf = (steps: Step[], name: string) => steps.find((x) => x.nodeName === name);

  beforeAll(async () => {
    sink = await startHttpSink();
    s = await makeTestServices('pglite');
    await s.engine.startWorker(2);
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
    await sink?.close();
  });

  it('saves pinned data with the workflow, and refuses pins that name no node or are not items', async () => {
    const pins = { Lookup: [{ host: 'pinned-host', source: 'pinned' }] };
    const wf = await create(doc('save', pins));
    expect(wf.definition.pinData).toEqual(pins);
    const bare = await create(doc('bare'));
    expect('pinData' in bare.definition).toBe(false);
    for (const [pinData, field] of [
      [{ Nobody: [{}] }, 'pinData.Nobody'],
      [{ Lookup: [1, 2] }, 'pinData.Lookup'],
      [{ Lookup: { host: 'x' } }, 'pinData.Lookup'],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: operator,
        payload: doc('bad', pinData),
      });
      expect(res.statusCode).toBe(400);
      expect(
        res.json<{ error: { details: { problems: { field: string }[] } } }>().error.details
          .problems,
      ).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('runs up to a node with the pinned output in place of the node, and nothing after it', async () => {
    const { id } = await create(doc('upto', { Lookup: [{ host: 'pinned-host' }] }));
    const ex = await finished(
      await testRun(id, { items: [{ body: { host: 'real-host' } }], destinationNode: 'Lookup' }),
    );
    expect(ex).toMatchObject({ status: 'succeeded', mode: 'test' });
    expect(ex.steps.map((x) => x.nodeName).sort()).toEqual(['Hook', 'Lookup']);
    // The pinned node did not run (attempts 0); its output is the pinned items.
    expect(stepOf(ex.steps, 'Lookup')).toMatchObject({
      attempts: 0,
      output: [[{ host: 'pinned-host' }]],
    });
    expect(sink.effects.get('upto') ?? 0).toBe(0);

    // Without a pin, the same run computes the node.
    const plain = await create(doc('upto-plain'));
    const real = await finished(
      await testRun(plain.id, {
        items: [{ body: { host: 'real-host' } }],
        destinationNode: 'Lookup',
      }),
    );
    expect(stepOf(real.steps, 'Lookup')).toMatchObject({
      attempts: 1,
      output: [[expect.objectContaining({ host: 'real-host', source: 'real' })]],
    });
  });

  it('never lets a node with side effects act on pinned data in a test run', async () => {
    const { id } = await create(doc('guard', { Lookup: [{ host: 'made-up' }] }));
    const ex = await finished(await testRun(id, { items: [{ body: { host: 'real' } }] }));
    expect(ex.status).toBe('failed');
    expect(ex.error).toMatchObject({ code: 'pinned_input_side_effect', node: 'Notify' });
    expect(stepOf(ex.steps, 'Notify')).toMatchObject({ status: 'failed' });
    expect(stepOf(ex.steps, 'Answer')).toBeUndefined();
    expect(sink.effects.get('guard') ?? 0).toBe(0);
    // Retried, a test run stays a test run: the pins, and the refusal, hold again.
    const retried = await app.inject({
      method: 'POST',
      url: `/api/v1/executions/${ex.id}/retry`,
      headers: operator,
    });
    expect(retried.statusCode, retried.body).toBe(202);
    const again = await finished(retried.json<{ executionId: string }>().executionId);
    expect(again).toMatchObject({ status: 'failed', mode: 'test' });
    expect(again.error).toMatchObject({ code: 'pinned_input_side_effect' });
    expect(sink.effects.get('guard') ?? 0).toBe(0);

    // Nor does a child workflow start on it (it would run in production mode).
    const child = await create({
      ...doc('child'),
      nodes: [{ id: 'm', name: 'Start', type: 'manual', parameters: {} }, doc('child').nodes[2]!],
      connections: { Start: { main: [[{ node: 'Notify', index: 0 }]] } },
    });
    const parent = await create({
      name: 'parent',
      nodes: [
        { id: 'm', name: 'Start', type: 'manual', parameters: {} },
        { id: 'l', name: 'Lookup', type: 'set', parameters: { values: { a: 1 } } },
        {
          id: 'x',
          name: 'Call child',
          type: 'executeWorkflow',
          parameters: { workflowId: child.id },
        },
      ],
      connections: {
        Start: { main: [[{ node: 'Lookup', index: 0 }]] },
        Lookup: { main: [[{ node: 'Call child', index: 0 }]] },
      },
      settings: {},
      pinData: { Lookup: [{ host: 'made-up' }] },
    });
    const handed = await finished(await testRun(parent.id, {}));
    expect(handed.status).toBe('failed');
    expect(handed.error).toMatchObject({ code: 'pinned_input_side_effect', node: 'Call child' });
    expect(sink.effects.get('child') ?? 0).toBe(0);

    // A pinned trigger is test input, as a manual run's items are: the POST runs once.
    const trig = await create(doc('trigger-pin', { Hook: [{ body: { host: 'pinned-trigger' } }] }));
    const ran = await finished(await testRun(trig.id, {}));
    expect(ran.status).toBe('succeeded');
    expect(stepOf(ran.steps, 'Lookup')?.output).toEqual([
      [expect.objectContaining({ host: 'pinned-trigger' })],
    ]);
    expect(sink.effects.get('trigger-pin')).toBe(1);
  });

  it('ignores pinned data in production: the webhook and a manual run compute every node', async () => {
    const { id } = await create(doc('prod', { Lookup: [{ host: 'pinned-host' }] }));
    const on = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${id}/activate`,
      headers: operator,
    });
    expect(on.statusCode).toBe(200);
    const hook = await app.inject({
      method: 'POST',
      url: '/webhook/pins-prod',
      payload: { host: 'from-webhook' },
    });
    expect(hook.statusCode, hook.body).toBe(200);
    const byHook = await finished(String(hook.headers['x-warden-execution-id']));
    expect(byHook).toMatchObject({ status: 'succeeded', mode: 'webhook' });
    expect(stepOf(byHook.steps, 'Lookup')).toMatchObject({
      attempts: 1,
      output: [[expect.objectContaining({ host: 'from-webhook', source: 'real' })]],
    });
    const manual = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${id}/run`,
      headers: operator,
      payload: { items: [{ body: { host: 'from-manual' } }] },
    });
    const ex = await finished(manual.json<{ executionId: string }>().executionId);
    expect(ex).toMatchObject({ status: 'succeeded', mode: 'manual' });
    expect(stepOf(ex.steps, 'Lookup')).toMatchObject({
      attempts: 1,
      output: [[expect.objectContaining({ host: 'from-manual', source: 'real' })]],
    });
    expect(sink.effects.get('prod')).toBe(2);
  });

  it('checks who may test-run and what they ask for', async () => {
    const { id } = await create(doc('auth'));
    const url = `/api/v1/workflows/${id}/test-run`;
    expect((await app.inject({ method: 'POST', url, payload: {} })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'POST', url, headers: viewer, payload: {} })).statusCode,
    ).toBe(403);
    const extra = await app.inject({
      method: 'POST',
      url,
      headers: operator,
      payload: { destination: 'Lookup' },
    });
    expect(extra.statusCode).toBe(400);
    const unknown = await app.inject({
      method: 'POST',
      url,
      headers: operator,
      payload: { destinationNode: 'Nowhere' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ error: { message: string } }>().error.message).toMatch(
      'no node named "Nowhere"',
    );
    const unreached = await app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: operator,
      payload: {
        ...doc('island'),
        nodes: [...doc('island').nodes, { id: 'i', name: 'Island', type: 'noOp', parameters: {} }],
      },
    });
    const island = await app.inject({
      method: 'POST',
      url: `/api/v1/workflows/${unreached.json<{ id: number }>().id}/test-run`,
      headers: operator,
      payload: { destinationNode: 'Island' },
    });
    expect(island.statusCode).toBe(400);
    expect(island.json<{ error: { message: string } }>().error.message).toMatch(
      'no trigger of workflow',
    );
  });

  it('lists every example workflow, exactly as its file, for any signed-in role', async () => {
    const dir = fileURLToPath(new URL('../examples/workflows/', import.meta.url));
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect((await app.inject({ url: '/api/v1/workflow-examples' })).statusCode).toBe(401);
    const res = await app.inject({ url: '/api/v1/workflow-examples', headers: viewer });
    expect(res.statusCode).toBe(200);
    const { examples } = res.json<{
      examples: { file: string; name: string; description: string; definition: unknown }[];
    }>();
    expect(examples.map((e) => e.file)).toEqual(files);
    for (const e of examples) {
      expect(e.definition).toEqual(JSON.parse(readFileSync(`${dir}${e.file}`, 'utf8')));
      expect(e.description, e.file).not.toBe('');
    }
  });
});
