// Instant workflows (every node runs in memory at once, none changes the
// world) run before they are recorded and are written once, ended, with
// their steps. What must hold: nothing of the run (its webhook answer) leaves
// the process before that write is committed; a write that fails means the
// run did not happen, and the caller is told; a run that needs a durable
// write before its end gets its row first; a run given back at shutdown is
// queued, not lost; a run without a row is never taken for a lost lease.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { WebhookAnswer } from '../src/engine/webhooks.ts';
import type { NodeType } from '../src/engine/node-types.ts';
import type { TestServices } from './helpers/services.ts';
import { dbKinds, makeTestServices } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';
import { webhookSetRespond } from './helpers/workflows.ts';

/** An instant node the test holds until it lets go (to look at a run in flight). */
function gateNode(type: string) {
  const waiting: (() => void)[] = [];
  const node: NodeType = {
    type,
    displayName: 'Gate',
    description: 'test: holds items until released',
    group: 'flow',
    inputs: 1,
    outputs: 1,
    parameters: [],
    sideEffects: false,
    instant: true,
    run: (ctx) =>
      new Promise((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        waiting.push(() => resolve({ outputs: [ctx.items] }));
      }),
  };
  return {
    node,
    arrived: () => waitFor(() => waiting.length > 0, 'the run to reach the gate'),
    open: () => waiting.splice(0).forEach((go) => go()),
  };
}

function post(
  s: TestServices,
  path: string,
  body: Record<string, unknown>,
): Promise<WebhookAnswer> {
  return s.webhooks.handle({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    query: {},
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
  });
}

const executionId = (a: WebhookAnswer) =>
  a.headers['x-warden-execution-id'] ?? (a.body as { executionId: string }).executionId;

describe.each(dbKinds)('instant workflows, recorded once at their end (%s)', (kind) => {
  let s: TestServices;
  const gate = gateNode(`testGate-${randomUUID().slice(0, 8)}`);
  beforeAll(async () => {
    s = await makeTestServices(kind, { WARDEN_HEARTBEAT_MS: '600000' });
    s.engine.registry.register(gate.node);
    await s.engine.startWorker(4);
  });
  afterAll(() => s?.dispose());

  it('answers only after one statement wrote the ended execution and its steps', async () => {
    const path = `instant-${randomUUID()}`;
    const wf = await s.engine.createWorkflow(webhookSetRespond(path));
    await s.engine.setActive(wf.id, true);
    await post(s, path, { name: 'warm', n: 0 }); // fills the route and version caches
    const before = s.db.statementCount;
    const answer = await post(s, path, { name: 'ada', n: 4 });
    const statements = s.db.statementCount - before;
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ greeting: 'hello ada', n: 8 });
    expect(statements).toBe(1);
    // The answer went out after the write: the record is complete already.
    const id = executionId(answer);
    const ex = await s.engine.executions.get(id);
    expect(ex).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      leaseOwner: null,
      mode: 'webhook',
    });
    expect(ex.result).toEqual([{ greeting: 'hello ada', n: 8 }]);
    expect(ex.finishedAt!.getTime()).toBeGreaterThanOrEqual(ex.startedAt!.getTime());
    const steps = await s.engine.executions.steps(id);
    expect(steps.map((st) => [st.nodeName, st.status])).toEqual([
      ['Hook', 'succeeded'],
      ['Set', 'succeeded'],
      ['Respond', 'succeeded'],
    ]);
    expect(steps[1]!.output).toEqual([[{ greeting: 'hello ada', n: 8 }]]);
  });

  it('says in a 202 answer that the execution has ended, when it has', async () => {
    const path = `instant202-${randomUUID()}`;
    const wf = await s.engine.createWorkflow({
      name: path,
      nodes: [
        { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
        { id: 'b', name: 'Set', type: 'set', parameters: { values: { x: '={{ body.x }}' } } },
      ],
      connections: { Hook: { main: [[{ node: 'Set', index: 0 }]] } },
      settings: {},
    });
    await s.engine.setActive(wf.id, true);
    const answer = await post(s, path, { x: 1 });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'succeeded' });
    expect((await s.engine.executions.get(executionId(answer))).status).toBe('succeeded');
  });

  it('does not answer, and leaves no trace, when the write fails: the caller gets the error', async () => {
    const path = `instantfail-${randomUUID()}`;
    const wf = await s.engine.createWorkflow(webhookSetRespond(path));
    await s.engine.setActive(wf.id, true);
    // A real failure of the database: a check the row breaks.
    await s.db.query(
      `ALTER TABLE executions ADD CONSTRAINT test_refuse_doomed
         CHECK (trigger_data->0->'body'->>'name' IS DISTINCT FROM 'doomed') NOT VALID`,
    );
    try {
      await expect(post(s, path, { name: 'doomed', n: 1 })).rejects.toThrow(/test_refuse_doomed/);
      const rows = await s.db.query(
        `SELECT count(*)::int AS n FROM executions WHERE workflow_id = $1`,
        [wf.id],
      );
      expect(rows.rows[0]).toEqual({ n: 0 });
      // The next call, which the check lets through, is answered and recorded.
      const ok = await post(s, path, { name: 'fine', n: 1 });
      expect(ok.status).toBe(201);
      expect((await s.engine.executions.get(executionId(ok))).status).toBe('succeeded');
    } finally {
      await s.db.query('ALTER TABLE executions DROP CONSTRAINT test_refuse_doomed');
    }
  });

  it('is not taken for a lost lease while it runs without a row', async () => {
    const path = `instantgate-${randomUUID()}`;
    const wf = await s.engine.createWorkflow({
      name: path,
      nodes: [
        { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
        { id: 'b', name: 'Gate', type: gate.node.type, parameters: {} },
        { id: 'c', name: 'Respond', type: 'respondToWebhook', parameters: { statusCode: 200 } },
      ],
      connections: {
        Hook: { main: [[{ node: 'Gate', index: 0 }]] },
        Gate: { main: [[{ node: 'Respond', index: 0 }]] },
      },
      settings: {},
    });
    await s.engine.setActive(wf.id, true);
    const answer = post(s, path, { v: 1 });
    await gate.arrived();
    expect(s.engine.executor.unrecorded.size).toBe(1);
    await s.engine.executor.heartbeat();
    gate.open();
    const done = await answer;
    expect(done.status).toBe(200);
    expect((await s.engine.executions.get(executionId(done))).status).toBe('succeeded');
  });

  it('writes its row first when it must wait after all, and answers that it waits', async () => {
    const type = `testSleepy-${randomUUID().slice(0, 8)}`;
    // Declared instant, yet it asks for a durable wait: the run is recorded before it sleeps.
    s.engine.registry.register({
      ...gate.node,
      type,
      run: async (ctx) => ({ outputs: [ctx.items], waitUntil: new Date(Date.now() + 3_600_000) }),
    });
    const path = `instantwait-${randomUUID()}`;
    const wf = await s.engine.createWorkflow({
      name: path,
      nodes: [
        { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
        { id: 'b', name: 'Sleep', type, parameters: {} },
        { id: 'c', name: 'Respond', type: 'respondToWebhook', parameters: { statusCode: 200 } },
      ],
      connections: {
        Hook: { main: [[{ node: 'Sleep', index: 0 }]] },
        Sleep: { main: [[{ node: 'Respond', index: 0 }]] },
      },
      settings: {},
    });
    await s.engine.setActive(wf.id, true);
    const answer = await post(s, path, {});
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'waiting' });
    const ex = await s.engine.executions.get(executionId(answer));
    expect(ex.status).toBe('waiting');
    expect((await s.engine.executions.steps(ex.id)).map((st) => st.nodeName)).toEqual([
      'Hook',
      'Sleep',
    ]);
  });
});

describe('an instant run in flight at shutdown', () => {
  let s: TestServices;
  const gate = gateNode('testGateShutdown');
  beforeAll(async () => {
    s = await makeTestServices('pglite', { WARDEN_HEARTBEAT_MS: '600000' });
    s.engine.registry.register(gate.node);
    await s.engine.startWorker(4);
  });
  afterAll(() => s?.dispose());

  it('is written queued, to run again, and its answer is not sent', async () => {
    const path = `instantstop-${randomUUID()}`;
    const wf = await s.engine.createWorkflow({
      name: path,
      nodes: [
        { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
        { id: 'b', name: 'Gate', type: gate.node.type, parameters: {} },
      ],
      connections: { Hook: { main: [[{ node: 'Gate', index: 0 }]] } },
      settings: {},
    });
    await s.engine.setActive(wf.id, true);
    const answer = post(s, path, { v: 1 });
    await gate.arrived();
    s.engine.executor.abortAll('shutdown');
    const given = await answer;
    expect(given.body).toMatchObject({ status: 'queued' });
    const ex = await s.engine.executions.get(executionId(given));
    expect(['queued', 'running', 'succeeded']).toContain(ex.status);
    expect(ex.triggerData).toEqual([expect.objectContaining({ body: { v: 1 } })]);
  });
});
