// Live updates in queue mode: GET /api/v1/events on the main process streams
// incident changes and the status changes of an execution that a separate
// `warden worker` process runs, because the feed reads the shared database.
import { randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ChangeEvent } from '../src/server/change-feed.ts';
import { ChangeFeed } from '../src/server/change-feed.ts';
import { buildServer } from '../src/server/server.ts';
import type { WardenProcess } from './helpers/processes.ts';
import { killAll, startWarden } from './helpers/processes.ts';
import { testRedisUrl } from './helpers/servers.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';

type Received = { event: string; data: Record<string, unknown> };

/** Reads an SSE response into `into` until the signal aborts. */
async function readEvents(body: ReadableStream<Uint8Array>, into: Received[]) {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) into.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  } catch {
    // aborted at the end of the test
  }
}

describe('live events', () => {
  let s: TestServices;
  let app: FastifyInstance | undefined;
  let worker: WardenProcess | undefined;
  const queue = { WARDEN_QUEUE_NAME: `q-${randomUUID()}`, WARDEN_QUEUE_PREFIX: 'warden-test' };
  beforeAll(async () => {
    // What this process starts goes to the worker process, instant workflows
    // too: the feed must show another process moving an execution.
    s = await makeTestServices('postgres', {
      REDIS_URL: testRedisUrl,
      WARDEN_INSTANT_RUNS_IN_MAIN: 'false',
      ...queue,
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await killAll();
    await app?.close();
    await s?.dispose();
  });

  it('streams incident changes and a worker process moving an execution, to an API key', async () => {
    app = await buildServer(s);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    worker = await startWarden(
      ['worker', '--concurrency', '1'],
      { DATABASE_URL: s.config.database.url!, REDIS_URL: testRedisUrl, ...queue },
      /worker is consuming/,
    );
    const { secret } = await s.apiKeys.create({ name: 'viewer', role: 'viewer' });
    const abort = new AbortController();
    const res = await fetch(`${base}/api/v1/events`, {
      headers: { authorization: `Bearer ${secret}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const got: Received[] = [];
    const reading = readEvents(res.body!, got);
    try {
      await waitFor(() => got.some((e) => e.event === 'ready'), 'the ready event');

      const [result] = await s.incidents.ingest([
        {
          source: 'alertmanager',
          fingerprint: 'disk-full',
          service: 'db',
          severity: 'critical',
          status: 'firing',
          summary: 'disk full on db',
          labels: {},
          annotations: {},
          startsAt: new Date(),
          endsAt: null,
          raw: {},
        },
      ]);
      await waitFor(
        () => got.some((e) => e.event === 'incident' && e.data.id === result!.incidentId),
        'the incident event',
      );
      expect(got.find((e) => e.event === 'incident')!.data).toMatchObject({
        event: 'opened',
        service: 'db',
        severity: 'critical',
      });

      const wf = await s.engine.createWorkflow({
        name: 'two steps',
        nodes: [
          { id: '1', name: 'Start', type: 'manual', parameters: {} },
          { id: '2', name: 'Set', type: 'set', parameters: { values: { ok: true } } },
        ],
        connections: { Start: { main: [[{ node: 'Set', index: 0 }]] } },
      });
      const id = await s.engine.runManual(wf.id);
      await waitFor(
        () =>
          got.some(
            (e) => e.event === 'execution' && e.data.id === id && e.data.status === 'succeeded',
          ),
        'the execution finished by the worker process',
      );
      // The worker process ran it, not this one (worker names carry the pid).
      const steps = await s.engine.executions.steps(id);
      expect(steps.map((x) => x.worker)).toEqual(
        steps.map(() => expect.stringContaining(`:${worker!.pid}:`)),
      );
      // Each status is reported once, in order, ending with the final one.
      const statuses = got
        .filter((e) => e.event === 'execution' && e.data.id === id)
        .map((e) => e.data.status);
      expect(statuses.at(-1)).toBe('succeeded');
      expect(new Set(statuses).size).toBe(statuses.length);
    } finally {
      abort.abort();
      await reading;
    }
  });

  it('refuses the stream without credentials', async () => {
    app ??= await buildServer(s);
    const res = await app.inject({ method: 'GET', url: '/api/v1/events' });
    expect(res.statusCode).toBe(401);
  });

  it('ends open streams when the server closes instead of waiting for the browser', async () => {
    const server = await buildServer(s);
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    const { secret } = await s.apiKeys.create({ name: 'closing', role: 'viewer' });
    const res = await fetch(`${base}/api/v1/events`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    const got: Received[] = [];
    const reading = readEvents(res.body!, got);
    await waitFor(() => got.some((e) => e.event === 'ready'), 'the ready event');
    await server.close();
    // The stream ended from the server's side: the reader finishes.
    await reading;
    expect(got.map((e) => e.event)).toEqual(['ready']);
  });

  it('reports an execution whose row commits after a later-stamped one was seen, once', async () => {
    const wf = await s.engine.createWorkflow({
      name: 'stamped late',
      nodes: [{ id: '1', name: 'Start', type: 'manual', parameters: {} }],
      connections: {},
    });
    const insert = (id: string, createdAt: Date, status = 'succeeded') =>
      s.db.query(
        `INSERT INTO executions (id, workflow_id, workflow_version, status, mode, trigger_node,
           trigger_data, created_at)
         VALUES ($1, $2, 1, $3, 'manual', 'Start', '[]'::jsonb, $4)`,
        [id, wf.id, status, createdAt],
      );
    const feed = new ChangeFeed(s.db, { intervalMs: 60_000 });
    const got: ChangeEvent[] = [];
    const stop = feed.subscribe((e) => got.push(e));
    try {
      await feed.poll(); // the baseline
      const now = Date.now();
      const first = randomUUID();
      await insert(first, new Date(now));
      await feed.poll();
      // A row stamped two seconds earlier (its transaction began first) commits now.
      const late = randomUUID();
      await insert(late, new Date(now - 2_000));
      await feed.poll();
      await feed.poll();
      const ids = got.filter((e) => e.type === 'execution').map((e) => e.id);
      expect(ids).toEqual([first, late]);
    } finally {
      stop();
    }
  });
});
