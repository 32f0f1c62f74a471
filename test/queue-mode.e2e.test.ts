// Queue mode with real processes: workers and main processes started with
// `warden worker` / `warden start --role main`, real PostgreSQL and Redis.
import { randomUUID } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { terminalStatuses } from '../src/engine/execution-store.ts';
import { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import type { WardenProcess } from './helpers/processes.ts';
import { freePort, killAll, startPrivateRedis, startWarden } from './helpers/processes.ts';
import { testRedisUrl } from './helpers/servers.ts';
import { makeTestServices } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';

const fast = {
  WARDEN_LEASE_MS: '1500',
  WARDEN_HEARTBEAT_MS: '300',
  WARDEN_SWEEP_INTERVAL_MS: '300',
  DATABASE_POOL_SIZE: '4',
};

async function stopAll(procs: WardenProcess[]) {
  await Promise.all(procs.map((p) => p.stop()));
}

describe('queue mode, separate processes', () => {
  afterAll(killAll);

  it('finishes an execution elsewhere when its worker is SIGKILLed, its side effect done once', async () => {
    const queue = { WARDEN_QUEUE_NAME: `q-${randomUUID()}`, WARDEN_QUEUE_PREFIX: 'warden-test' };
    const s = await makeTestServices('postgres', { REDIS_URL: testRedisUrl, ...queue });
    const sink = await startHttpSink();
    const workers: WardenProcess[] = [];
    try {
      const env = {
        DATABASE_URL: s.config.database.url!,
        REDIS_URL: testRedisUrl,
        // The sink listens on loopback, which workflows may not reach by default.
        WARDEN_HTTP_ALLOW_HOSTS: '127.0.0.1',
        ...queue,
        ...fast,
      };
      workers.push(
        ...(await Promise.all(
          [0, 1, 2].map(() =>
            startWarden(['worker', '--concurrency', '2'], env, /worker is consuming/),
          ),
        )),
      );
      const key = randomUUID();
      const wf = await s.engine.createWorkflow({
        name: 'kill a worker',
        nodes: [
          { id: '1', name: 'Start', type: 'manual', parameters: {} },
          {
            id: '2',
            name: 'Effect',
            type: 'httpRequest',
            parameters: { method: 'POST', url: `${sink.url}/effect?key=${key}` },
          },
          {
            id: '3',
            name: 'Hold',
            type: 'httpRequest',
            parameters: { url: `${sink.url}/hold?key=${key}`, timeoutMs: 60_000 },
          },
          {
            id: '4',
            name: 'After',
            type: 'set',
            parameters: { values: { done: true }, keepOnlySet: true },
          },
        ],
        connections: {
          Start: { main: [[{ node: 'Effect', index: 0 }]] },
          Effect: { main: [[{ node: 'Hold', index: 0 }]] },
          Hold: { main: [[{ node: 'After', index: 0 }]] },
        },
      });
      const id = await s.engine.runManual(wf.id);
      await waitFor(() => sink.hits.has(`/hold?${key}`), 'the execution reached the held request');
      const owner = (await s.engine.executions.get(id)).leaseOwner!;
      const victim = workers.find((w) => w.pid === Number(owner.split(':')[1]));
      expect(victim, `lease owner ${owner} is one of the workers`).toBeDefined();
      await victim!.kill();
      sink.release(key);

      const done = await s.engine.waitForStatus(id, terminalStatuses, 60_000);
      expect(done).toMatchObject({ status: 'succeeded', result: [{ done: true }] });
      expect(done.attempts).toBe(2);
      expect(sink.effects.get(key)).toBe(1);
      const steps = new Map((await s.engine.executions.steps(id)).map((x) => [x.nodeName, x]));
      expect(steps.get('Effect')!.worker).toBe(owner);
      expect(steps.get('After')!.worker).not.toBe(owner);
      expect(steps.get('After')!.status).toBe('succeeded');
    } finally {
      await stopAll(workers);
      await (s.queue as BullmqQueue).obliterate().catch(() => {});
      await s.dispose();
      await sink.close();
    }
  });

  it('loses no acknowledged webhook execution when Redis restarts under load', async () => {
    const redis = await startPrivateRedis();
    const s = await makeTestServices('postgres');
    const procs: WardenProcess[] = [];
    try {
      const env = {
        DATABASE_URL: s.config.database.url!,
        REDIS_URL: redis.url,
        WARDEN_QUEUE_NAME: 'executions',
        WARDEN_REQUEUE_AFTER_MS: '1000',
        WARDEN_ENQUEUE_TIMEOUT_MS: '300',
        WARDEN_REDIS_PING_INTERVAL_MS: '300',
        WARDEN_REDIS_PING_TIMEOUT_MS: '300',
        ...fast,
      };
      const path = `load-${randomUUID()}`;
      const wf = await s.engine.createWorkflow({
        name: 'load',
        nodes: [
          { id: '1', name: 'Hook', type: 'webhook', parameters: { path } },
          { id: '2', name: 'Set', type: 'set', parameters: { values: { seen: '={{ body.i }}' } } },
        ],
        connections: { Hook: { main: [[{ node: 'Set', index: 0 }]] } },
      });
      await s.engine.setActive(wf.id, true);
      const port = await freePort();
      procs.push(
        await startWarden(
          ['start', '--role', 'main', '--port', String(port), '--host', '127.0.0.1'],
          env,
          /Warden is running/,
        ),
      );
      procs.push(
        ...(await Promise.all(
          [0, 1].map(() =>
            startWarden(['worker', '--concurrency', '4'], env, /worker is consuming/),
          ),
        )),
      );
      const acked: string[] = [];
      let ackedWhileDown = 0;
      let down = false;
      const post = async (i: number) => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/webhook/${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ i }),
            signal: AbortSignal.timeout(10_000),
          });
          if (res.status === 202) {
            acked.push(((await res.json()) as { executionId: string }).executionId);
            if (down) ackedWhileDown++;
          } else await res.arrayBuffer();
        } catch {
          // not acknowledged: the caller knows to retry; nothing is promised
        }
      };
      const clients = Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 50; i++) await post(c * 1000 + i);
      });
      const chaos = (async () => {
        await waitFor(() => acked.length >= 80, '80 acknowledged requests');
        down = true;
        await redis.stop();
        await waitFor(() => ackedWhileDown >= 5, 'requests acknowledged while Redis is down');
        await redis.start();
        down = false;
      })();
      await Promise.all([...clients, chaos]);
      expect(ackedWhileDown).toBeGreaterThanOrEqual(5);
      expect(acked.length).toBeGreaterThan(200);
      const missing = async () => {
        const { rows } = await s.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM executions WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
          [acked],
        );
        return acked.length - rows[0]!.n;
      };
      await waitFor(
        async () => (await missing()) === 0,
        'every acknowledged execution succeeded',
        90_000,
        250,
      );
      expect(await missing()).toBe(0);
    } finally {
      await stopAll(procs);
      await s.dispose();
      await redis.stop();
    }
  });

  it('fires each schedule tick once with two main processes', async () => {
    const queue = { WARDEN_QUEUE_NAME: `q-${randomUUID()}`, WARDEN_QUEUE_PREFIX: 'warden-test' };
    const s = await makeTestServices('postgres');
    const mains: WardenProcess[] = [];
    try {
      const wf = await s.engine.createWorkflow({
        name: 'every second',
        nodes: [{ id: '1', name: 'Tick', type: 'schedule', parameters: { cron: '* * * * * *' } }],
        connections: {},
      });
      await s.engine.setActive(wf.id, true);
      const env = {
        DATABASE_URL: s.config.database.url!,
        REDIS_URL: testRedisUrl,
        ...queue,
        ...fast,
      };
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        mains.push(
          await startWarden(
            ['start', '--role', 'main', '--port', String(port), '--host', '127.0.0.1'],
            env,
            /Warden is running/,
          ),
        );
      }
      const ticks = async () =>
        (
          await s.db.query<{ tick: string; n: number }>(
            `SELECT trigger_data->0->>'tick' AS tick, count(*)::int AS n FROM executions
             WHERE workflow_id = $1 GROUP BY 1 ORDER BY 1`,
            [wf.id],
          )
        ).rows;
      await waitFor(async () => (await ticks()).length >= 4, 'four ticks fired', 30_000, 200);
      await stopAll(mains);
      const rows = await ticks();
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    } finally {
      await stopAll(mains);
      const q = new BullmqQueue({
        url: testRedisUrl,
        name: queue.WARDEN_QUEUE_NAME,
        prefix: queue.WARDEN_QUEUE_PREFIX,
      });
      await q.obliterate().catch(() => {});
      await q.close();
      await s.dispose();
    }
  });
});
