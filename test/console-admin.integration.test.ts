// The admin routes the console's admin page uses, against real PostgreSQL:
// settings with secrets masked, the notification channels and a test send
// that really reaches the configured webhook, ending a maintenance window,
// and a monitor's recent checks (the last 50 kept) on its route and the
// dashboard. Every one refuses a role below admin (or operator for writes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';

const secret = 'webhook-signing-secret-7f3a';
let t: TestApp;
let sink: HttpSink;
let viewer: { authorization: string };
let operator: { authorization: string };
let admin: { authorization: string };

beforeAll(async () => {
  sink = await startHttpSink();
  t = await makeTestApp('postgres', {
    WARDEN_NOTIFY_WEBHOOK_URL: `${sink.url}/notify`,
    WARDEN_NOTIFY_WEBHOOK_SECRET: secret,
  });
  viewer = await t.keyFor('viewer');
  operator = await t.keyFor('operator');
  admin = await t.keyFor('admin');
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

describe('settings and notification channels', () => {
  it('shows every setting to an admin with secrets masked, and to no one else', async () => {
    for (const headers of [viewer, operator]) {
      const res = await t.app.inject({ url: '/api/v1/settings', headers });
      expect(res.statusCode).toBe(403);
    }
    // Every setting fits in one page of the largest size.
    const res = await t.app.inject({ url: '/api/v1/settings?limit=500', headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.json().nextCursor).toBeNull();
    expect(res.body).not.toContain(secret);
    const { settings } = res.json() as { settings: { key: string; value: unknown }[] };
    expect(settings.find((s) => s.key === 'notify.webhookSecret')?.value).toBe('********');
    expect(settings.find((s) => s.key === 'heal.stormPauseAfter')?.value).toBe(20);
  });

  it('lists the configured channels with their settings masked', async () => {
    const res = await t.app.inject({ url: '/api/v1/notifications/channels', headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(secret);
    const { channels } = res.json() as {
      channels: { name: string; settings: { key: string; value: unknown }[] }[];
    };
    expect(channels.map((c) => c.name)).toEqual(['webhook']);
    expect(channels[0]!.settings.map((s) => s.key).sort()).toEqual([
      'notify.webhookSecret',
      'notify.webhookUrl',
    ]);
    const byOperator = await t.app.inject({
      url: '/api/v1/notifications/channels',
      headers: operator,
    });
    expect(byOperator.statusCode).toBe(403);
  });

  it('sends a test message that reaches the webhook, twice in a row, for admins only', async () => {
    const byOperator = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notifications/test',
      headers: operator,
      payload: {},
    });
    expect(byOperator.statusCode).toBe(403);
    const before = sink.requests.length;
    for (let i = 0; i < 2; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/notifications/test',
        headers: admin,
        payload: {},
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ results: [{ channel: 'webhook', status: 'sent' }] });
    }
    const sent = sink.requests.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.url).toBe('/notify');
    expect(sent[0]!.body).toContain('Warden test notification');
    expect(sent[0]!.body).toContain('api_key:test-admin');
  });
});

describe('maintenance windows', () => {
  it('ends a window in effect now, and refuses one already over, one not started and a viewer', async () => {
    const create = async (startsAt: Date, endsAt: Date) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/maintenance-windows',
        headers: operator,
        payload: {
          service: 'db',
          reason: 'upgrade',
          startsAt: startsAt.toISOString(),
          endsAt: endsAt.toISOString(),
        },
      });
      expect(res.statusCode).toBe(201);
      return (res.json() as { id: number }).id;
    };
    const now = Date.now();
    const active = await create(new Date(now - 60_000), new Date(now + 3_600_000));
    const future = await create(new Date(now + 3_600_000), new Date(now + 7_200_000));
    const end = (id: number, headers = operator) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/maintenance-windows/${id}/end`,
        headers,
        payload: {},
      });
    expect((await end(active, viewer)).statusCode).toBe(403);
    const ended = await end(active);
    expect(ended.statusCode).toBe(200);
    expect(new Date((ended.json() as { endsAt: string }).endsAt).getTime()).toBeLessThanOrEqual(
      Date.now(),
    );
    const again = await end(active);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toContain('already ended');
    const notStarted = await end(future);
    expect(notStarted.statusCode).toBe(409);
    expect(notStarted.json().error.message).toContain('has not started');
    expect((await end(999_999)).statusCode).toBe(404);
    const inEffect = await t.services.maintenance.list();
    expect(inEffect.map((w) => w.id)).toEqual([future]);
  });
});

describe('monitor checks history', () => {
  it('keeps the last 50 checks of a monitor, newest first and paged, on its route and the dashboard', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/monitors',
      headers: operator,
      payload: {
        name: 'sink-port',
        service: 'sink',
        spec: { kind: 'tcp', host: '127.0.0.1', port: Number(new URL(sink.url).port) },
        intervalMs: 3_600_000,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as { id: number };
    for (let i = 0; i < 53; i++) await t.services.monitors.checkNow(id);
    const res = await t.app.inject({ url: `/api/v1/monitors/${id}/checks`, headers: viewer });
    expect(res.statusCode).toBe(200);
    const { checks } = res.json() as { checks: { id: number; at: string; ok: boolean }[] };
    expect(checks).toHaveLength(50);
    expect(checks.every((c) => c.ok)).toBe(true);
    const times = checks.map((c) => new Date(c.at).getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((res.json() as { nextCursor: string | null }).nextCursor).toBeNull();
    const { rows } = await t.services.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM monitor_checks WHERE monitor_id = $1',
      [id],
    );
    expect(rows[0]!.n).toBe(50);
    const dash = await t.app.inject({ url: '/api/v1/dashboard', headers: viewer });
    const monitor = (
      dash.json() as { monitors: { id: number; recentChecks: { ok: boolean }[] }[] }
    ).monitors.find((m) => m.id === id)!;
    expect(monitor.recentChecks).toHaveLength(30);
    const short = await t.app.inject({
      url: `/api/v1/monitors/${id}/checks?limit=5`,
      headers: viewer,
    });
    const first = short.json() as { checks: { id: number }[]; nextCursor: string | null };
    expect(first.checks).toHaveLength(5);
    expect(first.checks.map((c) => c.id)).toEqual(checks.slice(0, 5).map((c) => c.id));
    // The next page starts right after the first one.
    const next = await t.app.inject({
      url: `/api/v1/monitors/${id}/checks?limit=5&cursor=${first.nextCursor}`,
      headers: viewer,
    });
    expect((next.json() as { checks: { id: number }[] }).checks.map((c) => c.id)).toEqual(
      checks.slice(5, 10).map((c) => c.id),
    );
  });
});
