// What one execution of webhook -> set -> respond costs in round trips:
// SQL statements (both processes in queue mode) and Redis commands, counted
// by the adapters (warden_db_statements_total, warden_redis_commands_total).
// Executions run one at a time, so no statement is shared with another
// execution: this is the cost without group commit, and it may not grow.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServices } from '../src/app.ts';
import type { Services } from '../src/app.ts';
import { createLogger } from '../src/log.ts';
import type { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { redisCommandsSent } from '../src/queue/redis-command-count.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import { testRedisUrl } from './helpers/servers.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices, testConfig } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';
import { webhookSetRespond } from './helpers/workflows.ts';

const runs = 20;
// Once a second at most, main looks a webhook route up again (its cache's
// life) and, in queue mode, looks for answers kept in the database: those
// statements are allowed, never one per execution.
const perSecond = (ms: number, reads: number) => ((Math.ceil(ms / 1000) + 1) * reads) / runs;
// Background loops stay quiet during the measurement.
const quiet = {
  WARDEN_HEARTBEAT_MS: '600000',
  WARDEN_LEASE_MS: '1200000',
  WARDEN_SWEEP_INTERVAL_MS: '600000',
  WARDEN_REDIS_PING_INTERVAL_MS: '600000',
};

async function fire(s: Services, path: string, n: number) {
  const answer = await s.webhooks.handle({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    query: {},
    body: { name: 'budget', n },
    rawBody: Buffer.from(JSON.stringify({ name: 'budget', n })),
  });
  expect(answer.status).toBe(201);
  expect(answer.body).toMatchObject({ n: n * 2 });
}

/** Runs `runs` executions one after another; returns statements and Redis commands per execution. */
async function measure(main: Services, worker: Services, secondly: number) {
  const path = `budget-${randomUUID()}`;
  const wf = await main.engine.createWorkflow(webhookSetRespond(path));
  await main.engine.setActive(wf.id, true);
  // The first call fills the route and version caches of both processes.
  await fire(main, path, 0);
  await waitFor(() => worker.engine.executor.inFlight === 0, 'the warm-up execution to end');
  const statements = () =>
    main.db.statementCount + (worker === main ? 0 : worker.db.statementCount);
  const db0 = statements();
  const redis0 = redisCommandsSent();
  const t0 = Date.now();
  for (let i = 1; i <= runs; i++) await fire(main, path, i);
  // The finish may still be in flight after the answer went out.
  await waitFor(() => worker.engine.executor.inFlight === 0, 'the executions to end');
  const cost = {
    statements: (statements() - db0) / runs,
    redis: (redisCommandsSent() - redis0) / runs,
    slack: perSecond(Date.now() - t0, secondly),
  };
  const ended = await main.engine.executions.list({ workflowId: wf.id, limit: runs + 1 });
  expect(ended.map((e) => e.status)).toEqual(Array(runs + 1).fill('succeeded'));
  return cost;
}

describe('round trips of one webhook -> set -> respond execution', () => {
  describe('embedded (PGlite, in-process queue)', () => {
    let s: TestServices;
    beforeAll(async () => {
      s = await makeTestServices('pglite', quiet);
      await s.engine.startWorker(4);
    });
    afterAll(() => s?.dispose());

    it('records an execution it runs at once as running under its own lease, and a side effect as started before it runs', async () => {
      const sink = await startHttpSink();
      try {
        const path = `held-${randomUUID()}`;
        const wf = await s.engine.createWorkflow({
          name: path,
          nodes: [
            { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
            {
              id: 'b',
              name: 'Effect',
              type: 'httpRequest',
              parameters: { url: `${sink.url}/hold?key=${path}`, method: 'POST' },
            },
          ],
          connections: { Hook: { main: [[{ node: 'Effect', index: 0 }]] } },
          settings: {},
        });
        await s.engine.setActive(wf.id, true);
        const reached = new Promise<void>((resolve) => (sink.onHold = () => resolve()));
        const answer = await s.webhooks.handle({
          method: 'POST',
          path,
          headers: {},
          query: {},
          body: {},
          rawBody: Buffer.alloc(0),
        });
        expect(answer.status).toBe(202);
        const id = (answer.body as { executionId: string }).executionId;
        await reached;
        // The node is running now: its execution and its step are already in the database.
        const ex = await s.engine.executions.get(id);
        expect(ex).toMatchObject({ status: 'running', leaseOwner: s.engine.workerId, attempts: 1 });
        const steps = await s.engine.executions.steps(id);
        expect(steps.find((st) => st.nodeName === 'Effect')?.status).toBe('started');
        sink.release(path);
        expect((await s.engine.waitForStatus(id)).status).toBe('succeeded');
      } finally {
        await sink.close();
      }
    });

    it('costs 1 SQL statement (the ended execution with its steps, written once) and no Redis command', async () => {
      const cost = await measure(s, s, 1);
      expect(cost.statements).toBeLessThanOrEqual(1 + cost.slack);
      expect(cost.redis).toBe(0);
    });
  });

  describe.each([
    { inMain: true, label: 'the main process runs instant workflows' },
    { inMain: false, label: 'every execution on the worker' },
  ])('queue mode (PostgreSQL, BullMQ on Redis, main and worker): $label', ({ inMain }) => {
    let main: TestServices;
    let worker: Services;
    beforeAll(async () => {
      const env = {
        ...quiet,
        REDIS_URL: testRedisUrl,
        WARDEN_QUEUE_NAME: `q-${randomUUID()}`,
        WARDEN_QUEUE_PREFIX: 'warden-test',
        WARDEN_INSTANT_RUNS_IN_MAIN: String(inMain),
      };
      main = await makeTestServices('postgres', env);
      worker = await createServices(
        testConfig({
          ...env,
          DATABASE_URL: main.config.database.url,
          WARDEN_DATA_DIR: main.dataDir,
        }),
        createLogger({ level: 'silent' }),
        { role: 'worker' },
      );
      await worker.engine.startWorker(4);
    });
    afterAll(async () => {
      await worker?.close();
      await (main?.queue as BullmqQueue | undefined)?.obliterate().catch(() => {});
      await main?.dispose();
    });

    it('opens every pool connection before traffic, and keeps them', async () => {
      await worker.engine.warmUp();
      const { total, max } = worker.db.stats();
      expect(total).toBe(max);
      expect(max).toBeGreaterThan(1);
    });

    it.runIf(inMain)(
      'costs 1 SQL statement (written once, ended, by main) and no Redis command',
      async () => {
        const cost = await measure(main, worker, 1);
        expect(cost.statements).toBeLessThanOrEqual(1 + cost.slack);
        expect(cost.redis).toBe(0);
        // Main ran them: the worker ended none, main every one (and the warm-up).
        expect(worker.engine.executor.ended.succeeded ?? 0).toBe(0);
        expect(main.engine.executor.ended.succeeded).toBe(runs + 1);
      },
    );

    it.runIf(!inMain)(
      'costs 3 SQL statements (insert, claim, finish with its steps) and at most 8 Redis commands',
      async () => {
        const cost = await measure(main, worker, 2);
        expect(cost.statements).toBeLessThanOrEqual(3 + cost.slack);
        expect(cost.redis).toBeLessThanOrEqual(8);
        expect(worker.engine.executor.ended.succeeded).toBe(runs + 1);
      },
    );

    it('sends a workflow that acts on the world to the worker', async () => {
      const sink = await startHttpSink();
      try {
        const path = `effect-${randomUUID()}`;
        const wf = await main.engine.createWorkflow({
          name: path,
          nodes: [
            { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
            {
              id: 'b',
              name: 'Effect',
              type: 'httpRequest',
              parameters: { url: `${sink.url}/effect`, method: 'POST' },
            },
          ],
          connections: { Hook: { main: [[{ node: 'Effect', index: 0 }]] } },
          settings: {},
        });
        await main.engine.setActive(wf.id, true);
        const byWorker = worker.engine.executor.ended.succeeded ?? 0;
        const byMain = main.engine.executor.ended.succeeded ?? 0;
        const answer = await main.webhooks.handle({
          method: 'POST',
          path,
          headers: {},
          query: {},
          body: {},
          rawBody: Buffer.alloc(0),
        });
        expect(answer.status).toBe(202);
        const id = (answer.body as { executionId: string }).executionId;
        expect((await main.engine.waitForStatus(id)).status).toBe('succeeded');
        expect(worker.engine.executor.ended.succeeded).toBe(byWorker + 1);
        expect(main.engine.executor.ended.succeeded ?? 0).toBe(byMain);
      } finally {
        await sink.close();
      }
    });
  });
});
