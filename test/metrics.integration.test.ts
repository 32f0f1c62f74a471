// /metrics: Prometheus text with the database pool, HTTP traffic by route
// pattern, monitors, workflow outcomes, the queue's depth and the models,
// behind a viewer's key; and what `promtool check metrics` says of it.
import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestApp } from './helpers/app.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import { makeTestApp } from './helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await makeTestApp('postgres');
});
afterAll(() => t.close());

describe('GET /metrics', () => {
  it('needs credentials', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('reports pool use, requests by route pattern and monitors by state', async () => {
    const viewer = await t.keyFor('viewer');
    await t.services.monitors.create({
      name: 'closed',
      service: 'x',
      spec: { kind: 'tcp', host: '127.0.0.1', port: 1 },
      retries: 0,
    });
    const [m] = await t.services.monitors.list();
    await t.services.monitors.checkNow(m!.id);
    await t.app.inject({ method: 'GET', url: `/api/v1/monitors/${m!.id}`, headers: viewer });
    await t.app.inject({ method: 'GET', url: '/api/v1/monitors/424242', headers: viewer });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: viewer });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = res.body;
    expect(body).toMatch(/^warden_db_pool_connections\{database="postgres",state="max"\} 10$/m);
    expect(body).toMatch(/^# TYPE warden_http_requests_total counter$/m);
    expect(body).toMatch(/^# TYPE warden_http_request_duration_seconds histogram$/m);
    expect(body).toMatch(
      /^warden_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/monitors\/:id"\} 2$/m,
    );
    expect(body).toMatch(
      /^warden_http_requests_total\{method="GET",route="\/api\/v1\/monitors\/:id",status="200"\} 1$/m,
    );
    expect(body).toMatch(
      /^warden_http_requests_total\{method="GET",route="\/api\/v1\/monitors\/:id",status="404"\} 1$/m,
    );
    expect(body).toMatch(/^warden_monitors\{state="down"\} 1$/m);
    expect(body).not.toMatch(/route="[^"]*424242/);
  });

  it('counts the SQL statements the process sent, and its Redis commands', async () => {
    const viewer = await t.keyFor('viewer');
    const statements = async () => {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: viewer });
      expect(res.body).toMatch(/^# TYPE warden_db_statements_total counter$/m);
      // This process has no Redis: the counter is there, at zero.
      expect(res.body).toMatch(/^warden_redis_commands_total 0$/m);
      const m = /^warden_db_statements_total\{database="postgres"\} (\d+)$/m.exec(res.body);
      return Number(m?.[1]);
    };
    // A scrape reads installation-wide figures from the database itself.
    const first = await statements();
    const scrape = (await statements()) - first;
    const before = await statements();
    await t.services.db.query('SELECT 1');
    await t.services.db.transaction(async (tx) => {
      await tx.query('SELECT 1');
    });
    // One query, then BEGIN, one query and COMMIT.
    expect((await statements()) - before - scrape).toBe(4);
  });
});

describe('GET /metrics: workflows, the queue and the models', () => {
  let server: OllamaTestServer;
  let m: TestApp;
  beforeAll(async () => {
    server = await OllamaTestServer.start();
    m = await makeTestApp('postgres', { OLLAMA_URL: server.url, LLM_RETRIES: '0' });
  });
  afterAll(async () => {
    await m?.close();
    await server?.close();
  });

  const scrape = async () => {
    const res = await m.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: await m.keyFor('viewer'),
    });
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  it('reports the queue depth, workflow outcomes and per-model requests, errors, latency and tokens/s', async () => {
    const wf = (ok: boolean) =>
      m.services.engine.createWorkflow({
        name: `metrics-${ok}`,
        nodes: [
          { id: '1', name: 'Start', type: 'manual', parameters: {} },
          ok
            ? { id: '2', name: 'Work', type: 'noOp', parameters: {} }
            : {
                id: '2',
                name: 'Work',
                type: 'httpRequest',
                parameters: { url: `${server.url}/api/tags`, maxResponseBytes: 10 },
              },
        ],
        connections: { Start: { main: [[{ node: 'Work', index: 0 }]] } },
      });
    const good = await wf(true);
    const bad = await wf(false);
    // No worker yet: both wait in the queue.
    const ids = [
      await m.services.engine.runManual(good.id),
      await m.services.engine.runManual(good.id),
      await m.services.engine.runManual(bad.id),
    ];
    expect(await scrape()).toMatch(/^warden_executions\{status="queued"\} 3$/m);
    await m.services.engine.startWorker(4);
    for (const id of ids) await m.services.engine.waitForStatus(id);
    let body = await scrape();
    expect(body).toMatch(/^warden_executions\{status="queued"\} 0$/m);
    expect(body).toMatch(/^warden_executions_ended_total\{status="succeeded"\} 2$/m);
    expect(body).toMatch(/^warden_executions_ended_total\{status="failed"\} 1$/m);
    expect(body).toMatch(
      /^warden_execution_duration_seconds_count\{workflow="metrics-true",status="succeeded"\} 2$/m,
    );
    expect(body).toMatch(
      /^warden_execution_duration_seconds_count\{workflow="metrics-false",status="failed"\} 1$/m,
    );
    expect(body).toMatch(
      /^warden_node_step_duration_seconds_count\{type="noOp",status="succeeded"\} 2$/m,
    );
    expect(body).toMatch(
      /^warden_node_step_duration_seconds_count\{type="httpRequest",status="failed"\} 1$/m,
    );

    server.script({ content: 'one two three four', evalCount: 40, evalDurationNs: 2_000_000_000 });
    server.script({ status: 404, error: 'model "missing" not found, try pulling it first' });
    const model = 'qwen2.5-coder:3b-instruct';
    await m.services.llm.chat({ model, messages: [{ role: 'user', content: 'hi' }] });
    await expect(
      m.services.llm.chat({ model, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toThrow();
    body = await scrape();
    // The default orchestrator model: its role is the label.
    const q = `role="orchestrator",model="${model}"`;
    expect(body).toMatch(new RegExp(`^warden_llm_requests_total\\{${q}\\} 2$`, 'm'));
    expect(body).toMatch(new RegExp(`^warden_llm_errors_total\\{${q},code="[a-z_]+"\\} 1$`, 'm'));
    expect(body).toMatch(
      new RegExp(`^warden_llm_tokens_total\\{${q},kind="generated"\\} 40$`, 'm'),
    );
    // 40 tokens in 2 s of eval time.
    expect(body).toMatch(
      new RegExp(`^warden_llm_tokens_per_second\\{model="${model}"\\} 20$`, 'm'),
    );
    expect(body).toMatch(new RegExp(`^warden_llm_eval_seconds_total\\{${q}\\} 2$`, 'm'));
    expect(body).toMatch(
      new RegExp(`^warden_llm_generation_tokens_per_second_bucket\\{le="20",${q}\\} 1$`, 'm'),
    );
    expect(body).toMatch(
      new RegExp(`^warden_llm_request_duration_seconds_count\\{${q},outcome="ok"\\} 1$`, 'm'),
    );
    expect(body).toMatch(
      new RegExp(`^warden_llm_request_duration_seconds_count\\{${q},outcome="error"\\} 1$`, 'm'),
    );
    // The server reported 1.35 ms of load and 130 ms of prompt evaluation.
    expect(body).toMatch(
      new RegExp(`^warden_llm_time_to_first_token_seconds_sum\\{${q}\\} 0\\.13135$`, 'm'),
    );

    // A stream: the first chunk's arrival is measured, and it counts once.
    server.script({ content: 'streamed answer here' });
    let chunks = 0;
    for await (const c of m.services.llm.chatStream({
      model,
      messages: [{ role: 'user', content: 'hi' }],
    }))
      if (c.type === 'delta') chunks++;
    expect(chunks).toBeGreaterThan(0);
    body = await scrape();
    expect(body).toMatch(
      new RegExp(`^warden_llm_time_to_first_token_seconds_count\\{${q}\\} 2$`, 'm'),
    );
    expect(body).toMatch(new RegExp(`^warden_llm_requests_total\\{${q}\\} 3$`, 'm'));
  });
});

describe('warden_notifications_total', () => {
  let sink: HttpSink;
  let n: TestApp;
  beforeAll(async () => {
    sink = await startHttpSink();
    n = await makeTestApp('postgres', { WARDEN_NOTIFY_WEBHOOK_URL: `${sink.url}/notify` });
  });
  afterAll(async () => {
    await n?.close();
    await sink?.close();
  });

  // Regression: it was a count of notification rows by their current
  // status, so it went down when rows were purged or a sending row failed.
  it('counts deliveries as they happen and never goes down when rows are deleted', async () => {
    const send = (dedupKey: string) =>
      n.services.notifications.notify({ kind: 'info', title: 't', text: 'x', dedupKey });
    await send('a');
    await send('b');
    await send('a');
    const scrape = async () =>
      (await n.app.inject({ method: 'GET', url: '/metrics', headers: await n.keyFor('viewer') }))
        .body;
    let body = await scrape();
    expect(body).toMatch(/^# TYPE warden_notifications_total counter$/m);
    expect(body).toMatch(/^warden_notifications_total\{channel="webhook",status="sent"\} 2$/m);
    expect(body).toMatch(/^warden_notifications_total\{channel="webhook",status="duplicate"\} 1$/m);
    await n.services.db.query('DELETE FROM notifications');
    body = await scrape();
    expect(body).toMatch(/^warden_notifications_total\{channel="webhook",status="sent"\} 2$/m);
  });
});

// promtool is in Debian's prometheus package.
const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('promtool check metrics', () => {
  it.skipIf(!promtool)(
    'finds nothing wrong with the real /metrics (skipped without promtool: apt install prometheus)',
    async () => {
      const viewer = await t.keyFor('viewer');
      await t.app.inject({ method: 'GET', url: '/api/v1/monitors', headers: viewer });
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: viewer });
      expect(res.body).toMatch(/^# TYPE warden_http_request_duration_seconds histogram$/m);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body });
      expect({ code: check.status, problems: `${check.stdout}${check.stderr}` }).toEqual({
        code: 0,
        problems: '',
      });
    },
  );
});
