// The same workflows, run by the same engine, must behave the same in
// embedded mode (PGlite or PostgreSQL) and in queue mode (BullMQ on Redis).
import { createHmac, randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Execution } from '../src/engine/execution-store.ts';
import { Scheduler } from '../src/engine/scheduler.ts';
import type { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { buildServer } from '../src/server/server.ts';
import type { HttpSink } from './helpers/effect-sink.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import { testRedisUrl } from './helpers/servers.ts';
import type { DbKind, TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';
import { webhookSetRespond } from './helpers/workflows.ts';

const modes: { name: string; kind: DbKind; redis: boolean }[] = [
  { name: 'embedded queue, PGlite', kind: 'pglite', redis: false },
  { name: 'embedded queue, PostgreSQL', kind: 'postgres', redis: false },
  { name: 'BullMQ on Redis, PostgreSQL', kind: 'postgres', redis: true },
];

type Node = {
  name: string;
  type: string;
  parameters?: Record<string, unknown>;
  [k: string]: unknown;
};

/** A linear workflow (plus extra connections) from a list of nodes. */
function chain(nodes: Node[], extra: Record<string, unknown> = {}, settings = {}) {
  const connections: Record<string, unknown> = {};
  for (let i = 0; i < nodes.length - 1; i++)
    connections[nodes[i]!.name] = { main: [[{ node: nodes[i + 1]!.name, index: 0 }]] };
  return {
    name: `wf-${randomUUID().slice(0, 8)}`,
    nodes: nodes.map((n, i) => ({ id: String(i), parameters: {}, ...n })),
    connections: { ...connections, ...extra },
    settings,
  };
}

describe.each(modes)('engine: $name', ({ kind, redis }) => {
  let s: TestServices;
  let app: FastifyInstance;
  let sink: HttpSink;
  let auth: { authorization: string };

  beforeAll(async () => {
    // $env reads the process environment, through the allowlist.
    process.env.WARDEN_TEST_REGION = 'eu-test';
    sink = await startHttpSink();
    s = await makeTestServices(kind, {
      REDIS_URL: redis ? testRedisUrl : undefined,
      WARDEN_QUEUE_NAME: `q-${randomUUID()}`,
      WARDEN_QUEUE_PREFIX: 'warden-test',
      WARDEN_LEASE_MS: '1000',
      WARDEN_HEARTBEAT_MS: '200',
      WARDEN_SWEEP_INTERVAL_MS: '200',
      WARDEN_EXPRESSION_ENV: 'WARDEN_TEST_REGION',
    });
    await s.engine.startWorker(8);
    s.engine.startSweeper();
    app = await buildServer(s);
    const { secret } = await s.apiKeys.create({ name: 'test', role: 'operator' });
    auth = { authorization: `Bearer ${secret}` };
  });

  afterAll(async () => {
    await app?.close();
    if (redis) await (s.queue as BullmqQueue).obliterate().catch(() => {});
    await s?.dispose();
    await sink?.close();
  });

  const create = async (doc: unknown, active = false) => {
    const wf = await s.engine.createWorkflow(doc);
    return active ? s.engine.setActive(wf.id, true) : wf;
  };
  const run = async (doc: unknown, items?: Record<string, unknown>[]) => {
    const wf = await create(doc);
    const id = await s.engine.runManual(wf.id, items);
    return { wf, id, ex: await s.engine.waitForStatus(id) };
  };

  it('answers a webhook with the respond node output (webhook -> set -> respond)', async () => {
    const path = `hello-${randomUUID()}`;
    const wf = await create(webhookSetRespond(path), true);
    const res = await app.inject({
      method: 'POST',
      url: `/webhook/${path}`,
      payload: { name: 'web-1', n: 21 },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ greeting: 'hello web-1', n: 42 });
    const id = res.headers['x-warden-execution-id'] as string;
    const ex = await s.engine.waitForStatus(id);
    expect(ex).toMatchObject({ status: 'succeeded', workflowId: wf.id, workflowVersion: 1 });
    const steps = await s.engine.executions.steps(id);
    expect(steps.map((x) => [x.nodeName, x.status])).toEqual([
      ['Hook', 'succeeded'],
      ['Set', 'succeeded'],
      ['Respond', 'succeeded'],
    ]);
  });

  it('answers 202 with the execution id only once the execution row exists', async () => {
    const path = `ack-${randomUUID()}`;
    await create(
      chain([
        { name: 'Hook', type: 'webhook', parameters: { path } },
        {
          name: 'Tag',
          type: 'set',
          parameters: { values: { region: '={{ $env.WARDEN_TEST_REGION }}' } },
        },
      ]),
      true,
    );
    const res = await app.inject({ method: 'POST', url: `/webhook/${path}`, payload: { a: 1 } });
    expect(res.statusCode).toBe(202);
    const { executionId } = res.json() as { executionId: string };
    const row = await s.db.query('SELECT status FROM executions WHERE id = $1', [executionId]);
    expect(row.rowCount).toBe(1);
    const ex = await s.engine.waitForStatus(executionId);
    expect(ex.status).toBe('succeeded');
    expect(ex.result).toEqual([expect.objectContaining({ region: 'eu-test', body: { a: 1 } })]);
  });

  it('checks webhook auth: header token and HMAC signature', async () => {
    await s.credentials.set(`hook-${kind}-${redis}`, 'token', 's3cret');
    const tokenPath = `tok-${randomUUID()}`;
    const hmacPath = `mac-${randomUUID()}`;
    for (const [path, mode] of [
      [tokenPath, 'headerToken'],
      [hmacPath, 'hmac'],
    ] as const)
      await create(
        chain([
          {
            name: 'Hook',
            type: 'webhook',
            parameters: { path, auth: mode, credential: `hook-${kind}-${redis}` },
          },
        ]),
        true,
      );
    const post = (path: string, headers: Record<string, string>, payload = '{"x":1}') =>
      app.inject({
        method: 'POST',
        url: `/webhook/${path}`,
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    expect((await post(tokenPath, {})).statusCode).toBe(401);
    expect((await post(tokenPath, { 'x-warden-token': 'wrong' })).statusCode).toBe(403);
    expect((await post(tokenPath, { 'x-warden-token': 's3cret' })).statusCode).toBe(202);
    const sig = createHmac('sha256', 's3cret').update('{"x":1}').digest('hex');
    expect((await post(hmacPath, { 'x-warden-signature': `sha256=${sig}` })).statusCode).toBe(202);
    expect(
      (await post(hmacPath, { 'x-warden-signature': `sha256=${sig}` }, '{"x":2}')).statusCode,
    ).toBe(403);
    expect((await post(`nothing-${randomUUID()}`, {})).statusCode).toBe(404);
  });

  it('retries with backoff, branches on if, routes errors and merges', async () => {
    const key = randomUUID();
    const doc = chain(
      [
        { name: 'Start', type: 'manual' },
        {
          name: 'Flaky',
          type: 'httpRequest',
          parameters: { url: `${sink.url}/flaky?failures=2&key=${key}` },
          retry: { maxTries: 3, waitMs: 10 },
        },
        { name: 'Ok?', type: 'if', parameters: { condition: '={{ $json.statusCode = 200 }}' } },
        {
          name: 'Fail',
          type: 'httpRequest',
          parameters: { url: `${sink.url}/status?code=500` },
          onError: 'errorBranch',
        },
        { name: 'Unreached', type: 'noOp' },
        {
          name: 'Handled',
          type: 'set',
          parameters: { values: { handled: '={{ $json.error.code }}' }, keepOnlySet: true },
        },
        { name: 'Join', type: 'merge', parameters: { mode: 'append' } },
        {
          name: 'Kind',
          type: 'switch',
          parameters: { value: '={{ $exists(handled) }}', cases: [true] },
        },
        { name: 'Done', type: 'noOp' },
      ],
      {},
    );
    doc.connections = {
      Start: { main: [[{ node: 'Flaky', index: 0 }]] },
      Flaky: { main: [[{ node: 'Ok?', index: 0 }]] },
      'Ok?': {
        main: [
          [
            { node: 'Fail', index: 0 },
            { node: 'Join', index: 1 },
          ],
          [{ node: 'Unreached', index: 0 }],
        ],
      },
      Fail: { main: [[{ node: 'Unreached', index: 0 }]], error: [[{ node: 'Handled', index: 0 }]] },
      Handled: { main: [[{ node: 'Join', index: 0 }]] },
      Join: { main: [[{ node: 'Kind', index: 0 }]] },
      Kind: { main: [[{ node: 'Done', index: 0 }], []] },
    };
    const { id, ex } = await run(doc);
    expect(ex.status).toBe('succeeded');
    expect(ex.result).toEqual([{ handled: 'http_status' }]);
    const steps = new Map((await s.engine.executions.steps(id)).map((x) => [x.nodeName, x]));
    expect(steps.get('Flaky')).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(steps.get('Fail')).toMatchObject({
      status: 'failed',
      error: { code: 'http_status', node: 'Fail' },
    });
    expect(steps.has('Unreached')).toBe(false);
    expect([...steps.keys()].sort()).toEqual([
      'Done',
      'Fail',
      'Flaky',
      'Handled',
      'Join',
      'Kind',
      'Ok?',
      'Start',
    ]);
  });

  it('stops on a failing node by default, and onError continue passes the error on', async () => {
    const failing = await run(
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Big',
          type: 'httpRequest',
          parameters: { url: `${sink.url}/big?bytes=5000`, maxResponseBytes: 100 },
        },
        { name: 'After', type: 'noOp' },
      ]),
    );
    expect(failing.ex.status).toBe('failed');
    expect(failing.ex.error).toMatchObject({ code: 'response_too_large', node: 'Big' });
    const going = await run(
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Big',
          type: 'httpRequest',
          parameters: { url: `${sink.url}/big?bytes=5000`, maxResponseBytes: 100 },
          onError: 'continue',
        },
        {
          name: 'After',
          type: 'set',
          parameters: { values: { saw: '={{ error.code }}' }, keepOnlySet: true },
        },
      ]),
    );
    expect(going.ex).toMatchObject({
      status: 'succeeded',
      result: [{ saw: 'response_too_large' }],
    });
  });

  it("starts the error workflow with the failed execution's id and error, and an error workflow that fails starts none", async () => {
    // The handler fails too, naming the same handler as its own error workflow.
    const handler = await create(
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Note',
          type: 'set',
          parameters: {
            values: {
              failed: '={{ execution.id }}',
              code: '={{ execution.error.code }}',
              node: '={{ execution.error.node }}',
            },
            keepOnlySet: true,
          },
        },
        {
          name: 'Alarm',
          type: 'httpRequest',
          parameters: { url: `${sink.url}/big?bytes=5000`, maxResponseBytes: 100 },
        },
      ]),
    );
    await s.engine.updateWorkflow(handler.id, {
      ...handler.definition,
      settings: { errorWorkflowId: handler.id },
    });
    const failing = await run(
      chain(
        [
          { name: 'Start', type: 'manual' },
          {
            name: 'Big',
            type: 'httpRequest',
            parameters: { url: `${sink.url}/big?bytes=5000`, maxResponseBytes: 100 },
          },
        ],
        {},
        { errorWorkflowId: handler.id },
      ),
    );
    expect(failing.ex.status).toBe('failed');
    let handled: Execution | undefined;
    await waitFor(async () => {
      const [e] = await s.engine.executions.list({ workflowId: handler.id, mode: 'error' });
      handled = e && ['succeeded', 'failed'].includes(e.status) ? e : undefined;
      return handled !== undefined;
    }, 'the error workflow to end');
    expect(handled!.status).toBe('failed');
    const steps = await s.engine.executions.steps(handled!.id);
    // A step's output is one list of items per output.
    expect(steps.find((x) => x.nodeName === 'Note')?.output).toEqual([
      [{ failed: failing.id, code: 'response_too_large', node: 'Big' }],
    ]);
    // The failed error execution started no further error execution.
    await new Promise((r) => setTimeout(r, 500));
    expect(await s.engine.executions.list({ workflowId: handler.id })).toHaveLength(1);
  });

  it('waits durably: the execution sleeps in the database and resumes', async () => {
    const wf = await create(
      chain([
        { name: 'Start', type: 'manual' },
        { name: 'Nap', type: 'wait', parameters: { seconds: 2 } },
        { name: 'After', type: 'set', parameters: { values: { woke: true } } },
      ]),
    );
    const id = await s.engine.runManual(wf.id);
    const waiting = await s.engine.waitForStatus(id, ['waiting', 'succeeded']);
    expect(waiting.status).toBe('waiting');
    expect(waiting.resumeAt).toBeInstanceOf(Date);
    expect(waiting.leaseOwner).toBeNull();
    const done = await s.engine.waitForStatus(id);
    expect(done).toMatchObject({ status: 'succeeded', result: [{ woke: true }] });
    expect(done.attempts).toBe(2);
  });

  it('answers a webhook waiting for a respond node 202 when the execution goes to sleep first', async () => {
    const path = `sleepy-${randomUUID()}`;
    await create(
      chain([
        { name: 'Hook', type: 'webhook', parameters: { path } },
        { name: 'Nap', type: 'wait', parameters: { seconds: 3600 } },
        { name: 'Respond', type: 'respondToWebhook' },
      ]),
      true,
    );
    const res = await app.inject({ method: 'POST', url: `/webhook/${path}`, payload: {} });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'waiting' });
    await s.engine.cancel(res.headers['x-warden-execution-id'] as string);
  });

  it('cancels, and never overwrites a terminal status', async () => {
    const { id: wfId } = await create(
      chain([
        { name: 'Start', type: 'manual' },
        { name: 'Long', type: 'wait', parameters: { seconds: 3600 } },
      ]),
    );
    const id = await s.engine.runManual(wfId);
    await s.engine.waitForStatus(id, ['waiting']);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/executions/${id}/cancel`,
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'canceled' });
    const again = await app.inject({
      method: 'POST',
      url: `/api/v1/executions/${id}/cancel`,
      headers: auth,
    });
    expect(again.statusCode).toBe(409);
    await expect(
      s.db.query(`UPDATE executions SET status = 'running' WHERE id = $1`, [id]),
    ).rejects.toThrow(/cannot become running/);
    expect((await s.engine.executions.get(id)).status).toBe('canceled');
  });

  it('cancels a running execution through its heartbeat', async () => {
    const key = randomUUID();
    const { id: wfId } = await create(
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Hold',
          type: 'httpRequest',
          parameters: { url: `${sink.url}/hold?key=${key}`, timeoutMs: 60_000 },
        },
      ]),
    );
    const id = await s.engine.runManual(wfId);
    await waitFor(() => sink.hits.has(`/hold?${key}`), 'the request is held');
    await s.engine.cancel(id);
    const ex = await s.engine.waitForStatus(id);
    sink.release(key);
    expect(ex).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
  });

  it('fails an execution that runs past its timeout', async () => {
    const { ex } = await run(
      chain(
        [
          { name: 'Start', type: 'manual' },
          {
            name: 'Slow',
            type: 'httpRequest',
            parameters: { url: `${sink.url}/slow?ms=20000`, timeoutMs: 60_000 },
          },
        ],
        {},
        { timeoutMs: 300 },
      ),
    );
    expect(ex).toMatchObject({ status: 'failed', error: { code: 'execution_timeout' } });
  });

  it('runs a sub-workflow as a child execution and uses its result', async () => {
    const child = await create(
      chain([
        { name: 'In', type: 'manual' },
        {
          name: 'Double',
          type: 'set',
          parameters: { values: { doubled: '={{ n * 2 }}' }, keepOnlySet: true },
        },
      ]),
    );
    const { id, ex } = await run(
      chain([
        { name: 'Start', type: 'manual' },
        { name: 'Call', type: 'executeWorkflow', parameters: { workflowId: child.id } },
      ]),
      [{ n: 4 }, { n: 5 }],
    );
    expect(ex).toMatchObject({ status: 'succeeded', result: [{ doubled: 8 }, { doubled: 10 }] });
    const kids = await s.db.query<{ status: string; parent_node: string }>(
      'SELECT status, parent_node FROM executions WHERE parent_execution_id = $1',
      [id],
    );
    expect(kids.rows).toEqual([{ status: 'succeeded', parent_node: 'Call' }]);
  });

  it('retries an ended execution as a new one on the same version', async () => {
    const { wf, id, ex } = await run(
      chain([
        { name: 'Start', type: 'manual' },
        { name: 'Boom', type: 'httpRequest', parameters: { url: `${sink.url}/status?code=500` } },
      ]),
    );
    expect(ex.status).toBe('failed');
    await s.engine.updateWorkflow(wf.id, { ...wf.definition, name: 'changed' });
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/executions/${id}/retry`,
      headers: auth,
    });
    expect(res.statusCode).toBe(202);
    const retried = await s.engine.waitForStatus(
      (res.json() as { executionId: string }).executionId,
    );
    expect(retried).toMatchObject({ retryOf: id, workflowVersion: 1, status: 'failed' });
  });

  // Durability, with a crash simulated in the database: a "dead" worker
  // claimed the execution and its lease ran out.
  const crashed = async (
    doc: unknown,
    steps: { node: string; status: 'started' | 'succeeded'; output?: unknown }[],
  ) => {
    const wf = await create(doc);
    const def = await s.engine.workflows.version(wf.id, 1);
    const id = await s.engine.executions.create({
      workflowId: wf.id,
      workflowVersion: 1,
      mode: 'manual',
      triggerNode: def.nodes[0]!.name,
      triggerItems: [{}],
      timeoutMs: 0,
    });
    await s.engine.executions.claim(id, 'dead-worker', 1);
    const now = new Date().toISOString();
    await s.db.query(
      `UPDATE executions SET lease_expires_at = now() + interval '1 hour' WHERE id = $1`,
      [id],
    );
    await s.engine.executions.writeSteps(
      id,
      'dead-worker',
      steps.map((x) => ({
        node_name: x.node,
        seq: 0,
        status: x.status,
        attempts: 1,
        input: null,
        output: x.output ?? null,
        truncated: false,
        error: null,
        worker: 'dead-worker',
        started_at: now,
        finished_at: x.status === 'started' ? null : now,
        duration_ms: null,
      })),
    );
    await s.db.query(
      `UPDATE executions SET lease_expires_at = now() - interval '1 second',
         enqueued_at = now() - interval '1 hour' WHERE id = $1`,
      [id],
    );
    return s.engine.waitForStatus(id);
  };

  it('resumes after a crash from the last finished node without re-running it', async () => {
    const key = randomUUID();
    const ex = await crashed(
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Effect',
          type: 'httpRequest',
          parameters: { method: 'POST', url: `${sink.url}/effect?key=${key}` },
        },
        {
          name: 'After',
          type: 'set',
          parameters: { values: { n: '={{ body.n }}' }, keepOnlySet: true },
        },
      ]),
      [
        { node: 'Start', status: 'succeeded', output: [[{}]] },
        { node: 'Effect', status: 'succeeded', output: [[{ statusCode: 200, body: { n: 41 } }]] },
      ],
    );
    expect(ex).toMatchObject({ status: 'succeeded', result: [{ n: 41 }], attempts: 2 });
    expect(sink.effects.get(key)).toBeUndefined();
  });

  it('stops as needs_attention when a side-effecting node was interrupted and cannot be verified', async () => {
    const key = randomUUID();
    const ex = await crashed(
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Effect',
          type: 'httpRequest',
          parameters: { method: 'POST', url: `${sink.url}/effect?key=${key}` },
        },
      ]),
      [{ node: 'Effect', status: 'started' }],
    );
    expect(ex).toMatchObject({
      status: 'needs_attention',
      error: { code: 'side_effect_unknown', node: 'Effect' },
    });
    expect(sink.effects.get(key)).toBeUndefined();
  });

  it('asks the verify probe of an interrupted side-effecting node', async () => {
    const done = randomUUID();
    sink.effects.set(done, 1);
    const notDone = randomUUID();
    const doc = (key: string) =>
      chain([
        { name: 'Start', type: 'manual' },
        {
          name: 'Effect',
          type: 'httpRequest',
          parameters: {
            method: 'POST',
            url: `${sink.url}/effect?key=${key}`,
            verifyUrl: `${sink.url}/verify?key=${key}`,
          },
        },
      ]);
    const verified = await crashed(doc(done), [{ node: 'Effect', status: 'started' }]);
    expect(verified.status).toBe('succeeded');
    expect(sink.effects.get(done)).toBe(1);
    const rerun = await crashed(doc(notDone), [{ node: 'Effect', status: 'started' }]);
    expect(rerun.status).toBe('succeeded');
    expect(sink.effects.get(notDone)).toBe(1);
  });

  it('fires each schedule tick once across schedulers', async () => {
    const wf = await create(
      chain([{ name: 'Every second', type: 'schedule', parameters: { cron: '* * * * * *' } }]),
      true,
    );
    const schedulers = [0, 1].map(
      () =>
        new Scheduler({
          db: s.db,
          workflows: s.engine.workflows,
          executions: s.engine.executions,
          logger: s.logger,
          defaultTimeoutMs: 0,
          enqueue: (id) => s.engine.enqueue(id),
        }),
    );
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 + 100);
    for (const sch of schedulers) await sch.tick(t0);
    const fired: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const at = new Date(t0.getTime() + i * 1000);
      const results = await Promise.all(schedulers.map((sch) => sch.tick(at)));
      expect(results.flat()).toHaveLength(1);
      fired.push(...results.flat());
    }
    const { rows } = await s.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM executions WHERE workflow_id = $1',
      [wf.id],
    );
    expect(rows[0]!.n).toBe(3);
    for (const id of fired) expect((await s.engine.waitForStatus(id)).status).toBe('succeeded');
  });
});
