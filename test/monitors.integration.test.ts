// Built-in monitors against real local targets, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresDb } from '../src/db/postgres-db.ts';
import { createLogger } from '../src/log.ts';
import type { MonitorAlert } from '../src/monitors/monitor-service.ts';
import { MonitorService } from '../src/monitors/monitor-service.ts';
import { makeTestApp } from './helpers/app.ts';
import { freePort } from './helpers/cli.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import type { TestServices } from './helpers/services.ts';
import { dbKinds, makeTestServices } from './helpers/services.ts';

for (const kind of dbKinds) {
  describe(`monitors on ${kind}`, () => {
    let s: TestServices;
    let sink: HttpSink;
    const alerts: MonitorAlert[] = [];
    beforeAll(async () => {
      s = await makeTestServices(kind);
      sink = await startHttpSink();
      s.monitors.onAlert(async (a) => {
        alerts.push(a);
      });
    });
    afterAll(async () => {
      await sink.close();
      await s.dispose();
    });

    it('tolerates `retries` failures, fires once when down, resolves when up again', async () => {
      alerts.length = 0;
      let status = 200;
      sink.reply(() => ({ status, body: 'all good' }));
      const m = await s.monitors.create({
        name: `web-${kind}`,
        service: 'web',
        spec: { kind: 'http', url: `${sink.url}/health`, keyword: 'good' },
        retries: 1,
      });
      expect((await s.monitors.checkNow(m.id)).state).toBe('up');
      status = 503;
      expect((await s.monitors.checkNow(m.id)).state).toBe('up'); // one failure tolerated
      expect(alerts).toHaveLength(0);
      const down = await s.monitors.checkNow(m.id);
      expect(down.state).toBe('down');
      expect(down.lastResult?.detail).toMatch(/HTTP 503/);
      await s.monitors.checkNow(m.id); // still down: no second alert
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        source: 'monitor',
        fingerprint: `monitor:${m.id}`,
        service: 'web',
        status: 'firing',
        severity: 'critical',
        endsAt: null,
        labels: { monitor: `web-${kind}`, check: 'http' },
      });
      expect(alerts[0]!.summary).toMatch(/is down: HTTP 503/);
      status = 200;
      expect((await s.monitors.checkNow(m.id)).state).toBe('up');
      expect(alerts).toHaveLength(2);
      expect(alerts[1]).toMatchObject({ status: 'resolved', fingerprint: `monitor:${m.id}` });
      expect(alerts[1]!.endsAt).toBeInstanceOf(Date);
      expect(alerts[1]!.startsAt.getTime()).toBe(alerts[0]!.startsAt.getTime());

      // The same alerts went through incident ingestion: opened, then resolved.
      const [incident] = await s.incidents.list({ service: 'web' });
      expect(incident).toMatchObject({
        source: 'monitor',
        fingerprint: `monitor:${m.id}`,
        status: 'resolved',
      });
      const { events } = await s.incidents.show(incident!.id);
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['opened', 'resolved']));
    });

    it('counts a missing keyword and a refused TCP port as down, saying why', async () => {
      sink.reply(() => ({ body: 'maintenance page' }));
      const kw = await s.monitors.create({
        name: `kw-${kind}`,
        service: 'web',
        spec: { kind: 'http', url: sink.url, keyword: 'Welcome' },
        retries: 0,
      });
      expect((await s.monitors.checkNow(kw.id)).lastResult?.detail).toMatch(/lacks "Welcome"/);
      const port = await freePort();
      const tcp = await s.monitors.create({
        name: `db-${kind}`,
        service: 'db',
        spec: { kind: 'tcp', host: '127.0.0.1', port },
        retries: 0,
      });
      const checked = await s.monitors.checkNow(tcp.id);
      expect(checked.state).toBe('down');
      expect(checked.lastResult?.detail).toMatch(/ECONNREFUSED/);
    });

    it('runs read actions from the catalogue as checks, and nothing that changes the system', async () => {
      const disk = await s.monitors.create({
        name: `disk-${kind}`,
        service: 'host',
        spec: { kind: 'action', action: 'disk.usage' },
        retries: 0,
      });
      const checked = await s.monitors.checkNow(disk.id);
      expect(checked.lastResult).toMatchObject({ ok: true, detail: 'disk.usage succeeded' });
      const restart = await s.monitors.create({
        name: `restart-${kind}`,
        service: 'host',
        spec: { kind: 'action', action: 'supervisor.restart', params: { program: 'x' } },
        retries: 0,
      });
      const refused = await s.monitors.checkNow(restart.id);
      expect(refused.state).toBe('down');
      expect(refused.lastResult?.detail).toMatch(
        /may only run read actions; supervisor\.restart is change/,
      );
      const audit = await s.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM exec_audit WHERE record->'caller'->>'kind' = 'monitor'`,
      );
      expect(audit.rows[0]!.n).toBeGreaterThanOrEqual(1);
    });

    it('refuses a bad monitor naming the field', async () => {
      await expect(
        s.monitors.create({
          name: 'bad',
          service: 'x',
          spec: { kind: 'http', url: 'ftp://example' },
        }),
      ).rejects.toThrow(/spec\.url: must be an http/);
      await expect(
        s.monitors.create({
          name: 'bad',
          service: 'x',
          spec: { kind: 'tcp', host: 'h', port: 70000 },
        }),
      ).rejects.toThrow(/spec\.port/);
    });
  });
}

describe('monitors shared by several Warden processes', () => {
  it('checks each due monitor once per interval however many services tick, each with its own pool', async () => {
    const s = await makeTestServices('postgres');
    const sink = await startHttpSink();
    try {
      for (let i = 0; i < 5; i++) {
        await s.monitors.create({
          name: `m${i}`,
          service: 'web',
          spec: { kind: 'http', url: `${sink.url}/m${i}` },
          intervalMs: 60_000,
        });
      }
      const logger = createLogger({ level: 'silent' });
      const pools = [1, 2, 3].map(() => new PostgresDb({ url: s.config.database.url!, max: 2 }));
      const others = pools.map((db) => new MonitorService(db, logger));
      const counts = await Promise.all([s.monitors.tick(), ...others.map((o) => o.tick())]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
      expect(sink.requests.map((r) => r.url).sort()).toEqual(['/m0', '/m1', '/m2', '/m3', '/m4']);
      // Nothing is due again until the interval passes.
      expect(await Promise.all(others.map((o) => o.tick()))).toEqual([0, 0, 0]);
      await Promise.all(pools.map((p) => p.close()));
    } finally {
      await sink.close();
      await s.dispose();
    }
  });
});

describe('monitors API', () => {
  it('lets viewers read and operators create, with 400 naming a bad field', async () => {
    const t = await makeTestApp('pglite');
    try {
      const operator = await t.keyFor('operator');
      const viewer = await t.keyFor('viewer');
      const bad = await t.app.inject({
        method: 'POST',
        url: '/api/v1/monitors',
        headers: operator,
        payload: { name: 'x', service: 'x', spec: { kind: 'tcp', host: 'h' } },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/spec\.port/);
      const ok = await t.app.inject({
        method: 'POST',
        url: '/api/v1/monitors',
        headers: operator,
        payload: {
          name: 'ssh',
          service: 'sshd',
          spec: { kind: 'tcp', host: '127.0.0.1', port: 22 },
        },
      });
      expect(ok.statusCode).toBe(201);
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/monitors', headers: viewer });
      expect(list.json().monitors.map((m: { name: string }) => m.name)).toEqual(['ssh']);
      expect(
        (
          await t.app.inject({
            method: 'DELETE',
            url: `/api/v1/monitors/${ok.json().id}`,
            headers: viewer,
          })
        ).statusCode,
      ).toBe(403);
    } finally {
      await t.close();
    }
  });
});
