// Alert storms through the HTTP server with auto-heal on (no model server:
// admitted runs escalate). A storm of 12 alerts of one service in one
// Alertmanager notification once killed the process; now it opens its
// incidents, heals a few under the concurrency cap, groups the rest under
// the first, and every run ends. Above the pause threshold, automatic
// actions stop and one summary escalation goes out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { installAutoHeal } from '../src/healing/auto-heal.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import { waitFor } from './helpers/wait.ts';

function notification(n: number, service: (i: number) => string, tag: string) {
  return JSON.stringify({
    version: '4',
    status: 'firing',
    commonLabels: {},
    alerts: Array.from({ length: n }, (_, i) => ({
      status: 'firing',
      labels: { alertname: `${tag}-${i}`, service: service(i), severity: 'critical' },
      annotations: { summary: `${tag} ${i} is down` },
      startsAt: new Date().toISOString(),
    })),
  });
}

describe('alert storms', () => {
  let t: TestApp;
  let sink: HttpSink;
  let token: string;

  const post = (body: string) =>
    t.app.inject({
      method: 'POST',
      url: `/hooks/alerts/alertmanager/${token}`,
      payload: body,
      headers: { 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    sink = await startHttpSink();
    t = await makeTestApp('postgres', {
      OLLAMA_URL: 'http://127.0.0.1:9',
      WARDEN_HEAL_EVIDENCE_ACTIONS: '',
      WARDEN_HEAL_CONCURRENCY: '2',
      WARDEN_HEAL_STORM_PAUSE_AFTER: '20',
      WARDEN_NOTIFY_WEBHOOK_URL: `${sink.url}/notify`,
      DATABASE_POOL_SIZE: '4',
    });
    await installAutoHeal(t.services.engine);
    await t.services.engine.startWorker(6);
    t.services.engine.startSweeper();
    token = (await t.services.alertEndpoints.create({ name: 'am', source: 'alertmanager' })).token;
  }, 20_000);

  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  const unfinished = async () =>
    (
      await t.services.db.query(
        "SELECT 1 FROM executions WHERE status IN ('queued', 'running', 'waiting')",
      )
    ).rows.length;

  it('regression: a storm of 12 alerts of one service opens 12 incidents, heals 3 and groups 9 under the first, and every run ends', async () => {
    const res = await post(notification(12, () => 'checkout', 'storm12'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 12 });
    const incidents = await t.services.incidents.list({ service: 'checkout' });
    expect(incidents).toHaveLength(12);
    const first = Math.min(...incidents.map((i) => i.id));
    const grouped = incidents.filter((i) => i.parentId !== null);
    expect(grouped).toHaveLength(9);
    expect(new Set(grouped.map((i) => i.parentId))).toEqual(new Set([first]));
    await waitFor(async () => (await unfinished()) === 0, 'every healing run to end', 25_000);
    const { rows } = await t.services.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM executions WHERE mode = 'incident'",
    );
    expect(rows[0]!.n).toBe(3);
    // A webhook-style manual execution still runs after the storm.
    const wf = await t.services.engine.createWorkflow({
      name: 'after the storm',
      nodes: [{ id: '1', name: 'Start', type: 'manual', parameters: {} }],
      connections: {},
    });
    const ex = await t.services.engine.waitForStatus(await t.services.engine.runManual(wf.id));
    expect(ex.status).toBe('succeeded');
  }, 28_000);

  it('above the pause threshold, automatic actions pause and one summary escalation goes out', async () => {
    const before = sink.requests.length;
    const res = await post(notification(30, (i) => `svc-${i}`, 'storm30'));
    expect(res.statusCode).toBe(200);
    const paused = await t.services.db.query<{ n: number }>(
      "SELECT count(DISTINCT incident_id)::int AS n FROM incident_events WHERE type = 'storm.paused'",
    );
    // 12 incidents opened before within the window: from the 21st on, all pause.
    expect(paused.rows[0]!.n).toBe(30 + 12 - 20);
    await waitFor(
      () => sink.requests.slice(before).some((r) => r.body.includes('Alert storm')),
      'the storm summary',
    );
    const summaries = sink.requests.slice(before).filter((r) => r.body.includes('Alert storm'));
    expect(summaries).toHaveLength(1);
    await waitFor(async () => (await unfinished()) === 0, 'every healing run to end', 25_000);
  }, 28_000);
});
