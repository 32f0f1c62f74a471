// "Mark as done" for a needs_attention execution: a person says the
// interrupted side effect happened. The route refuses any other status
// (409) and viewers (403), records who and why on the execution and on the
// interrupted node's step, and never runs anything again.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Execution } from '../src/engine/execution-store.ts';
import type { HttpSink } from './helpers/effect-sink.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import { interruptedExecution } from './helpers/needs-attention.ts';

let t: TestApp;
let sink: HttpSink;
let operator: { authorization: string };
let viewer: { authorization: string };

const effectWorkflow = (key: string) => ({
  name: `mark-done-${key.slice(0, 8)}`,
  nodes: [
    { id: '0', name: 'Start', type: 'manual', parameters: {} },
    {
      id: '1',
      name: 'Effect',
      type: 'httpRequest',
      parameters: { method: 'POST', url: `${sink.url}/effect?key=${key}` },
    },
    { id: '2', name: 'After', type: 'set', parameters: { values: { after: 'yes' } } },
  ],
  connections: {
    Start: { main: [[{ node: 'Effect', index: 0 }]] },
    Effect: { main: [[{ node: 'After', index: 0 }]] },
  },
  settings: {},
});

beforeAll(async () => {
  sink = await startHttpSink();
  t = await makeTestApp('postgres', {
    WARDEN_LEASE_MS: '1000',
    WARDEN_HEARTBEAT_MS: '200',
    WARDEN_SWEEP_INTERVAL_MS: '200',
  });
  await t.services.engine.startWorker(2);
  t.services.engine.startSweeper();
  operator = await t.keyFor('operator');
  viewer = await t.keyFor('viewer');
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

const markDone = (id: string, headers: { authorization: string }, body: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/executions/${id}/mark-done`,
    headers,
    payload: body as object,
  });

describe('POST /api/v1/executions/:id/mark-done', () => {
  it('ends a needs_attention execution as succeeded with who and why, running nothing', async () => {
    const key = randomUUID();
    const stopped = await interruptedExecution(t.services, effectWorkflow(key), 'Effect');
    expect(stopped).toMatchObject({
      status: 'needs_attention',
      error: { code: 'side_effect_unknown', node: 'Effect' },
    });

    const res = await markDone(stopped.id, operator, { reason: 'checked: the POST arrived' });
    expect(res.statusCode, res.body).toBe(200);
    const ended = res.json() as Execution & { result: { markedDone: Record<string, unknown> } };
    expect(ended.status).toBe('succeeded');
    expect(ended.result.markedDone).toMatchObject({
      by: 'api_key:test-operator',
      reason: 'checked: the POST arrived',
      error: { code: 'side_effect_unknown', node: 'Effect' },
    });

    const page = (
      await t.app.inject({ url: `/api/v1/executions/${stopped.id}`, headers: viewer })
    ).json() as { status: string; steps: { nodeName: string; status: string; output: unknown }[] };
    expect(page.status).toBe('succeeded');
    expect(page.steps.find((s) => s.nodeName === 'Effect')).toMatchObject({
      status: 'succeeded',
      output: { markedDone: { by: 'api_key:test-operator', reason: 'checked: the POST arrived' } },
    });
    // Nothing ran again: not the side effect, not the node after it.
    expect(sink.effects.get(key)).toBeUndefined();
    expect(page.steps.map((s) => s.nodeName)).not.toContain('After');
    // And it cannot be retried or marked again.
    expect((await markDone(stopped.id, operator, { reason: 'again' })).statusCode).toBe(409);
    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/v1/executions/${stopped.id}/retry`,
      headers: operator,
    });
    expect(retry.statusCode).toBe(409);
  });

  it('refuses an execution that is not needs_attention with 409, naming its status', async () => {
    const wf = await t.services.engine.createWorkflow({
      ...effectWorkflow(randomUUID()),
      nodes: [{ id: '0', name: 'Start', type: 'manual', parameters: {} }],
      connections: {},
    });
    const id = await t.services.engine.runManual(wf.id);
    const ex = await t.services.engine.waitForStatus(id);
    expect(ex.status).toBe('succeeded');
    const res = await markDone(id, operator, { reason: 'it is fine' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      error: { message: expect.stringMatching(/is succeeded/) as unknown },
    });
    const after = await t.services.engine.executions.get(id);
    expect(after.result).not.toHaveProperty('markedDone');
  });

  it('refuses viewers, a missing or blank reason and unknown executions, changing nothing', async () => {
    const stopped = await interruptedExecution(t.services, effectWorkflow(randomUUID()), 'Effect');
    expect(stopped.status).toBe('needs_attention');
    expect((await markDone(stopped.id, viewer, { reason: 'I looked' })).statusCode).toBe(403);
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x', extra: 1 }]) {
      const res = await markDone(stopped.id, operator, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({
        error: { message: expect.stringMatching(/reason|body/) as unknown },
      });
    }
    expect((await markDone(randomUUID(), operator, { reason: 'x' })).statusCode).toBe(404);
    expect((await t.services.engine.executions.get(stopped.id)).status).toBe('needs_attention');
  });

  it('the database refuses any other change of a terminal status', async () => {
    const stopped = await interruptedExecution(t.services, effectWorkflow(randomUUID()), 'Effect');
    await expect(
      t.services.db.query(`UPDATE executions SET status = 'succeeded' WHERE id = $1`, [stopped.id]),
    ).rejects.toThrow(/cannot become succeeded/);
    await expect(
      t.services.db.query(`UPDATE executions SET status = 'failed' WHERE id = $1`, [stopped.id]),
    ).rejects.toThrow(/cannot become failed/);
  });
});
