// Leases, enqueues and webhook answers when things go wrong: the heartbeat
// renews only what runs here, an embedded start resumes orphans at once, a
// failed enqueue is retried within seconds, and a respond node's answer that
// no subscriber heard is delivered from the database.
import { randomUUID } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { ExecutionStore } from '../src/engine/execution-store.ts';
import { RedisResponseBus } from '../src/engine/redis-response-bus.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';
import { freePort, killAll, startPrivateRedis } from './helpers/processes.ts';
import { testRedisUrl } from './helpers/servers.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import { startHttpSink as startRecordingSink } from './helpers/http-sink.ts';
import { waitFor } from './helpers/wait.ts';

const simple = () => ({
  name: `wf-${randomUUID().slice(0, 8)}`,
  nodes: [
    { id: '1', name: 'Start', type: 'manual', parameters: {} },
    { id: '2', name: 'Set', type: 'set', parameters: { values: { ran: true } } },
  ],
  connections: { Start: { main: [[{ node: 'Set', index: 0 }]] } },
});

const hasRedisServer = async () => {
  const { spawnSync } = await import('node:child_process');
  return spawnSync('redis-server', ['--version']).status === 0;
};

async function queuedRow(s: TestServices, workflowId: number): Promise<string> {
  return s.engine.executions.create({
    workflowId,
    workflowVersion: 1,
    mode: 'manual',
    triggerNode: 'Start',
    triggerItems: [{}],
    timeoutMs: 0,
  });
}

afterAll(async () => {
  await killAll();
});

describe('leases', () => {
  it('regression: the heartbeat renews only the ids it is given, so an abandoned row expires', async () => {
    const s = await makeTestServices('postgres');
    try {
      const wf = await s.engine.createWorkflow(simple());
      const live = await queuedRow(s, wf.id);
      const abandoned = await queuedRow(s, wf.id);
      await s.engine.executions.claim(live, 'w1', 1000);
      await s.engine.executions.claim(abandoned, 'w1', 1000);
      const held = await s.engine.executions.renewLeases('w1', [live], 3_600_000);
      expect(held.map((h) => h.id)).toEqual([live]);
      const { rows } = await s.db.query<{ id: string; long: boolean }>(
        `SELECT id::text, lease_expires_at > now() + interval '10 minutes' AS long
           FROM executions WHERE id = ANY($1::uuid[])`,
        [[live, abandoned]],
      );
      expect(Object.fromEntries(rows.map((r) => [r.id, r.long]))).toEqual({
        [live]: true,
        [abandoned]: false,
      });
    } finally {
      await s.dispose();
    }
  });

  it('regression: a missed renewal is not a lost lease while a fresh read says this worker holds it', async () => {
    const s = await makeTestServices('postgres', { WARDEN_LEASE_MS: '60000' });
    const sink = await startHttpSink();
    try {
      await s.engine.startWorker(1);
      const key = randomUUID();
      const wf = await s.engine.createWorkflow({
        ...simple(),
        nodes: [
          { id: '1', name: 'Start', type: 'manual', parameters: {} },
          {
            id: '2',
            name: 'Hold',
            type: 'httpRequest',
            parameters: { url: `${sink.url}/hold?key=${key}`, timeoutMs: 60_000 },
          },
        ],
        connections: { Start: { main: [[{ node: 'Hold', index: 0 }]] } },
      });
      const store = s.engine.executions;
      const renew = store.renewLeases.bind(store);
      // The renewal's snapshot did not see this worker's claim (it committed later).
      store.renewLeases = async () => [];
      const id = await s.engine.runManual(wf.id);
      await waitFor(() => sink.hits.has(`/hold?${key}`), 'the request is held');
      await s.engine.executor.heartbeat();
      store.renewLeases = renew;
      sink.release(key);
      const ex = await s.engine.waitForStatus(id);
      expect(ex).toMatchObject({ status: 'succeeded', error: null });
      expect(sink.hits.get(`/hold?${key}`)).toBe(1);
    } finally {
      await s.dispose();
      await sink.close();
    }
  });

  it('an embedded start resumes an execution a dead process left running, without waiting out its lease', async () => {
    const s = await makeTestServices('pglite');
    try {
      const wf = await s.engine.createWorkflow(simple());
      const id = await queuedRow(s, wf.id);
      // A process claimed it for an hour and died.
      await s.engine.executions.claim(id, 'dead-process', 3_600_000);
      await s.engine.startWorker(2);
      s.engine.startSweeper();
      const ex = await s.engine.waitForStatus(id, undefined, 15_000);
      expect(ex).toMatchObject({ status: 'succeeded', result: [{ ran: true }] });
    } finally {
      await s.dispose();
    }
  }, 60_000);
});

describe('the healing concurrency group', () => {
  it('claims a healing run only while the group has a free slot, across stores', async () => {
    const s = await makeTestServices('postgres');
    try {
      const group = { name: `g-${randomUUID()}`, modes: ['incident'], limit: 1 };
      const a = new ExecutionStore(s.db, group);
      const b = new ExecutionStore(s.db, group);
      const wf = await s.engine.createWorkflow(simple());
      const make = () =>
        a.create({
          workflowId: wf.id,
          workflowVersion: 1,
          mode: 'incident',
          triggerNode: 'Start',
          triggerItems: [{}],
          timeoutMs: 0,
        });
      const [first, second] = [await make(), await make()];
      // The ordinary claim never takes a group's execution.
      expect(await a.claim(first, 'w1', 60_000)).toBeUndefined();
      expect(await a.claimInGroup(first, 'w1', 60_000)).toMatchObject({ id: first });
      expect(await b.claimInGroup(second, 'w2', 60_000)).toBe('full');
      expect(await b.nextInGroup(5)).toEqual([second]);
      expect(await a.finish(first, 'w1', 'succeeded', {}, [])).toBe(true);
      expect(await b.claimInGroup(second, 'w2', 60_000)).toMatchObject({ id: second });
      // Not the group's, or already taken: nothing to claim.
      expect(await b.claimInGroup(second, 'w3', 60_000)).toBeUndefined();
    } finally {
      await s.dispose();
    }
  });
});

describe('Redis blips', () => {
  it('a failed enqueue is retried within seconds, not by the requeue sweep', async (ctx) => {
    if (!(await hasRedisServer())) return ctx.skip();
    const redis = await startPrivateRedis();
    const s = await makeTestServices('postgres', {
      REDIS_URL: redis.url,
      WARDEN_QUEUE_NAME: `q-${randomUUID()}`,
      WARDEN_REQUEUE_AFTER_MS: '600000',
      WARDEN_ENQUEUE_TIMEOUT_MS: '300',
    });
    try {
      await s.engine.startWorker(2);
      // A node retried after a pause is not instant: the run takes the queue.
      const base = simple();
      const wf = await s.engine.createWorkflow({
        ...base,
        nodes: [base.nodes[0], { ...base.nodes[1], retry: { maxTries: 2, waitMs: 10 } }],
      });
      await redis.stop();
      const id = await s.engine.runManual(wf.id);
      expect(s.engine.enqueuePending).toBe(1);
      await redis.start();
      // The sweep would wait ten minutes; only the retry can run it within the wait.
      const ex = await s.engine.waitForStatus(id, undefined, 20_000);
      expect(ex.status).toBe('succeeded');
    } finally {
      await s.dispose();
      await redis.stop();
    }
  }, 30_000);

  it('regression: a respond answer no subscriber heard is delivered from the database', async () => {
    const s = await makeTestServices('postgres');
    const channel = `responses-${randomUUID()}`;
    const main = new RedisResponseBus({ url: testRedisUrl, channel, db: s.db, pollMs: 50 });
    // The worker's Redis is gone: its publish fails.
    const worker = new RedisResponseBus({
      url: `redis://127.0.0.1:${await freePort()}`,
      channel,
      db: s.db,
    });
    try {
      const id = randomUUID();
      const waiter = main.waitFor(id, 15_000);
      await worker.send(id, { status: 201, headers: {}, body: { ok: true } });
      expect(await waiter.promise).toEqual({ status: 201, headers: {}, body: { ok: true } });
      const { rows } = await s.db.query('SELECT 1 FROM execution_responses');
      expect(rows).toEqual([]);
    } finally {
      await worker.close();
      await main.close();
      await s.dispose();
    }
  });
});

describe('needs_attention', () => {
  it('regression: an interrupted side effect that stops as needs_attention is notified, counted and starts the error workflow', async () => {
    const notify = await startRecordingSink();
    const s = await makeTestServices('postgres', {
      WARDEN_NOTIFY_WEBHOOK_URL: `${notify.url}/notify`,
    });
    try {
      await s.engine.startWorker(2);
      const onError = await s.engine.createWorkflow({ ...simple(), name: 'on error' });
      const wf = await s.engine.createWorkflow({
        ...simple(),
        nodes: [
          { id: '1', name: 'Start', type: 'manual', parameters: {} },
          {
            id: '2',
            name: 'Effect',
            type: 'httpRequest',
            parameters: { url: `${notify.url}/effect`, method: 'POST' },
          },
        ],
        connections: { Start: { main: [[{ node: 'Effect', index: 0 }]] } },
        settings: { errorWorkflowId: onError.id },
      });
      // A worker recorded the side effect as started, then died.
      const id = await queuedRow(s, wf.id);
      await s.engine.executions.claim(id, 'dead-worker', 60_000);
      const now = new Date().toISOString();
      await s.engine.executions.writeSteps(id, 'dead-worker', [
        {
          node_name: 'Effect',
          seq: 1,
          status: 'started',
          attempts: 1,
          input: null,
          output: null,
          truncated: false,
          error: null,
          worker: 'dead-worker',
          started_at: now,
          finished_at: null,
          duration_ms: null,
        },
      ]);
      await s.db.query(
        `UPDATE executions SET lease_expires_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      await s.engine.executor.run(id);
      const ex = await s.engine.waitForStatus(id);
      expect(ex.status).toBe('needs_attention');
      const [sent] = await notify.waitFor(1);
      expect(sent!.url).toBe('/notify');
      expect(sent!.body).toContain(id);
      await waitFor(async () => {
        const errs = await s.engine.executions.list({ mode: 'error' });
        return errs.some((e) => JSON.stringify(e.triggerData).includes(id));
      }, 'the error workflow to start');
      expect(await s.metrics.render()).toMatch(
        /warden_executions_needs_attention\{window="all"\} 1/,
      );
    } finally {
      await s.dispose();
      await notify.close();
    }
  });
});
