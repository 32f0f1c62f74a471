// Alert webhooks end to end through the HTTP server, on PGlite and on
// PostgreSQL: authentication per endpoint, every payload shape, partial
// batches, size cap, and what noise control made of it.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signBody } from '../src/incidents/alert-endpoints.ts';
import type { IncidentNotice } from '../src/incidents/incident-service.ts';
import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { dbKinds, makeTestServices } from './helpers/services.ts';

function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/alerts/${name}`, import.meta.url), 'utf8');
}
const fixture = (name: string) => JSON.parse(fixtureText(name)) as Record<string, unknown>;

describe.each(dbKinds)('alert webhooks on %s', (kind) => {
  let s: TestServices;
  let app: FastifyInstance;
  let admin: string;
  let operator: string;
  const tokens: Record<string, string> = {};
  let hmacSecret: string;
  const notices: IncidentNotice[] = [];

  async function countAlerts(): Promise<number> {
    const { rows } = await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts');
    return rows[0]!.n;
  }

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url,
      payload,
      headers: { 'content-type': 'application/json', ...headers },
    });

  beforeAll(async () => {
    s = await makeTestServices(kind, { WARDEN_ALERTS_MAX_PAYLOAD_BYTES: '4096' });
    app = await buildServer(s);
    s.incidents.subscribe((n) => void notices.push(n));
    admin = (await s.apiKeys.create({ name: 'admin', role: 'admin' })).secret;
    operator = (await s.apiKeys.create({ name: 'op', role: 'operator' })).secret;
    for (const source of ['uptime-kuma', 'alertmanager', 'grafana'] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/alert-endpoints',
        headers: { authorization: `Bearer ${admin}` },
        payload: { name: source, source },
      });
      expect(res.statusCode).toBe(201);
      tokens[source] = res.json<{ token: string }>().token;
    }
    const generic = await s.alertEndpoints.create({
      name: 'checks',
      source: 'generic',
      signed: true,
      mapping: '{"status": ok ? "resolved" : "firing", "service": host, "summary": what}',
    });
    hmacSecret = generic.hmacSecret!;
    tokens.generic = (await s.alertEndpoints.create({ name: 'plain', source: 'generic' })).token;
  });

  afterAll(async () => {
    await app?.close();
    await s?.dispose();
  });

  it('opens an incident from an Uptime Kuma "down" and resolves it on "up"', async () => {
    const down = await post('/api/v1/alerts/uptime-kuma', fixtureText('uptime-kuma-down.json'), {
      authorization: `Bearer ${tokens['uptime-kuma']}`,
    });
    expect(down.statusCode).toBe(200);
    const body = down.json<{
      accepted: number;
      results: { outcome: string; incidentId: number }[];
    }>();
    expect(body.accepted).toBe(1);
    expect(body.results[0]!.outcome).toBe('opened');
    const incidentId = body.results[0]!.incidentId;
    expect(notices.filter((n) => n.incident.id === incidentId).map((n) => n.type)).toEqual([
      'incident.opened',
    ]);

    const up = await post('/api/v1/alerts/uptime-kuma', fixtureText('uptime-kuma-up.json'), {
      'x-warden-token': tokens['uptime-kuma']!,
    });
    expect(up.json<{ results: unknown[] }>().results).toMatchObject([
      { outcome: 'resolved', incidentId, status: 'resolved' },
    ]);
    // The resolved alert never produced another "opened".
    expect(notices.filter((n) => n.incident.id === incidentId).map((n) => n.type)).toEqual([
      'incident.opened',
      'incident.resolved',
    ]);

    const show = await app.inject({
      url: `/api/v1/incidents/${incidentId}`,
      headers: { authorization: `Bearer ${operator}` },
    });
    const shown = show.json<{
      incident: { status: string; service: string; resolvedAt: string | null };
      events: { type: string; evidence: { alert: { status: string } } }[];
      alerts: { outcome: string }[];
    }>();
    expect(shown.incident).toMatchObject({ status: 'resolved', service: 'shop-web' });
    expect(shown.incident.resolvedAt).not.toBeNull();
    expect(shown.events.map((e) => [e.type, e.evidence.alert.status])).toEqual([
      ['opened', 'firing'],
      ['resolved', 'resolved'],
    ]);
    expect(shown.alerts.map((a) => a.outcome).sort()).toEqual(['opened', 'resolved']);
  });

  it('takes the token in the path and form-encoded or multipart bodies', async () => {
    const payload = fixture('uptime-kuma-port-tags.json');
    const form = await app.inject({
      method: 'POST',
      url: `/hooks/alerts/uptime-kuma/${tokens['uptime-kuma']}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ data: JSON.stringify(payload) }).toString(),
    });
    expect(form.statusCode).toBe(200);
    expect(form.json()).toMatchObject({ accepted: 1, results: [{ service: 'orders' }] });

    const boundary = 'xYzKuma';
    const multipart = await app.inject({
      method: 'POST',
      url: `/hooks/alerts/uptime-kuma/${tokens['uptime-kuma']}`,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n${JSON.stringify(payload)}\r\n--${boundary}--\r\n`,
    });
    expect(multipart.json()).toMatchObject({
      accepted: 1,
      results: [{ service: 'orders', outcome: 'deduplicated' }],
    });
  });

  it('answers the test button, pending and maintenance heartbeats with 200 and stores nothing', async () => {
    const before = await countAlerts();
    for (const file of [
      'uptime-kuma-test.json',
      'uptime-kuma-pending.json',
      'uptime-kuma-maintenance.json',
    ]) {
      const res = await post('/api/v1/alerts/uptime-kuma', fixtureText(file), {
        authorization: `Bearer ${tokens['uptime-kuma']}`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ accepted: 0, results: [], skipped: [{ index: 0 }] });
    }
    expect(await countAlerts()).toBe(before);
  });

  it('refuses missing, wrong and other-source tokens with 401 and stores nothing', async () => {
    const before = await countAlerts();
    const body = fixtureText('alertmanager-v4-firing.json');
    const attempts = [
      post('/api/v1/alerts/alertmanager', body),
      post('/api/v1/alerts/alertmanager', body, { authorization: 'Bearer wdn_alert_wrong' }),
      post('/api/v1/alerts/alertmanager', body, { 'x-warden-token': tokens['grafana']! }),
      post(`/hooks/alerts/alertmanager/${tokens['alertmanager']}x`, body),
      // An API key is not an alert token.
      post('/api/v1/alerts/alertmanager', body, { authorization: `Bearer ${admin}` }),
      post('/api/v1/alerts/generic/plain', '{}', { authorization: 'Bearer nope' }),
      post('/api/v1/alerts/generic/checks', '{"host":"a","what":"b","ok":false}'),
      post('/api/v1/alerts/generic/checks', '{"host":"a","what":"b","ok":false}', {
        'x-warden-signature': signBody(hmacSecret, '{"host":"a","what":"CHANGED","ok":false}'),
      }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(401);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('unauthorized');
    }
    expect(await countAlerts()).toBe(before);
  });

  it('shuts out the old credential when an endpoint is disabled or its token rotated', async () => {
    const asAdmin = { authorization: `Bearer ${admin}` };
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/alert-endpoints',
      headers: asAdmin,
      payload: { name: 'am-2', source: 'alertmanager' },
    });
    const { endpoint, token } = created.json<{ endpoint: { id: number }; token: string }>();
    const body = fixtureText('alertmanager-v4-resolved.json');
    const send = (t: string) => post(`/hooks/alerts/alertmanager/${t}`, body);
    expect((await send(token)).statusCode).toBe(200);

    const disabled = await app.inject({
      method: 'PATCH',
      url: `/api/v1/alert-endpoints/${endpoint.id}`,
      headers: asAdmin,
      payload: { disabled: true },
    });
    expect(disabled.json<{ disabledAt: string | null }>().disabledAt).not.toBeNull();
    const refused = await send(token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json<{ error: { message: string } }>().error.message).toBe(
      'the alert endpoint "am-2" is disabled',
    );

    await app.inject({
      method: 'PATCH',
      url: `/api/v1/alert-endpoints/${endpoint.id}`,
      headers: asAdmin,
      payload: { disabled: false },
    });
    const rotated = await app.inject({
      method: 'POST',
      url: `/api/v1/alert-endpoints/${endpoint.id}/rotate-token`,
      headers: asAdmin,
    });
    const fresh = rotated.json<{ token: string }>().token;
    expect((await send(token)).statusCode).toBe(401);
    expect((await send(fresh)).statusCode).toBe(200);
    await app.inject({
      method: 'DELETE',
      url: `/api/v1/alert-endpoints/${endpoint.id}`,
      headers: asAdmin,
    });
    expect((await send(fresh)).statusCode).toBe(401);
  });

  it('accepts a signed generic payload mapped by JSONata', async () => {
    const body = '{"host":"queue-1","what":"queue backlog","ok":false}';
    const res = await post('/api/v1/alerts/generic/checks', body, {
      'x-warden-signature': signBody(hmacSecret, body),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 1,
      results: [{ service: 'queue-1', status: 'firing', outcome: 'opened' }],
    });
  });

  it('reads Alertmanager and Grafana groups into one alert each', async () => {
    const am = await post(
      '/api/v1/alerts/alertmanager',
      fixtureText('alertmanager-v4-mixed.json'),
      {
        authorization: `Bearer ${tokens.alertmanager}`,
      },
    );
    expect(am.json()).toMatchObject({
      accepted: 2,
      results: [
        { fingerprint: '5b5b1c9e6e0d2a11', outcome: 'ignored' },
        { fingerprint: '0e7d3f8a44c21b90', outcome: 'opened' },
      ],
    });
    const gf = await post('/api/v1/alerts/grafana', fixtureText('grafana-two-alerts.json'), {
      authorization: `Bearer ${tokens.grafana}`,
    });
    expect(gf.json()).toMatchObject({
      accepted: 2,
      results: [
        { fingerprint: 'c6eadffa33fcdf37', outcome: 'opened' },
        { fingerprint: 'bc97ff14869b13e3', outcome: 'opened' },
      ],
    });
    const list = await app.inject({
      url: '/api/v1/incidents?status=open&service=web',
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(
      list.json<{ incidents: { fingerprint: string; severity: string }[]; nextCursor: null }>(),
    ).toEqual({
      incidents: [
        expect.objectContaining({ fingerprint: '0e7d3f8a44c21b90', severity: 'critical' }),
      ],
      nextCursor: null,
    });
  });

  it('keeps the good alerts of a batch and reports the bad ones', async () => {
    const payload = fixture('alertmanager-v4-firing.json') as { alerts: unknown[] };
    payload.alerts.push({ status: 'firing', labels: { a: 'b' }, startsAt: 'soon' });
    const res = await post('/api/v1/alerts/alertmanager', JSON.stringify(payload), {
      authorization: `Bearer ${tokens.alertmanager}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 1,
      results: [{ fingerprint: '1a30ba71cca2921f' }],
      rejected: [{ index: 1, reason: 'alerts[1].startsAt: is not a valid timestamp: "soon"' }],
    });
  });

  it('refuses malformed and oversized payloads with a 4xx naming the problem, losing nothing', async () => {
    const before = await countAlerts();
    const incidentsBefore = await s.incidents.list({ limit: 500 });
    const auth = { authorization: `Bearer ${tokens.alertmanager}` };
    const cases: [string, number, string][] = [
      ['{"version":"4","alerts":"nope"}', 400, 'alerts: must be an array of alerts'],
      ['{"version":"4",', 400, 'the request body is not valid JSON'],
      [
        '{"version":"4","alerts":[{"status":"firing"}]}',
        400,
        'no alert in the payload was accepted: alerts[0].labels: is missing or empty',
      ],
      [
        JSON.stringify({ version: '4', alerts: [], pad: 'x'.repeat(5000) }),
        413,
        'the limit is 4096',
      ],
    ];
    for (const [payload, status, message] of cases) {
      const res = await post('/api/v1/alerts/alertmanager', payload, auth);
      expect(res.statusCode).toBe(status);
      expect(res.json<{ error: { message: string } }>().error.message).toContain(message);
    }
    // A chunked body without a length is cut off at the cap as well.
    const chunked = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/alertmanager',
      headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      payload: Readable.from([Buffer.alloc(3000, 32), Buffer.alloc(3000, 32)]),
    });
    expect(chunked.statusCode).toBe(413);
    expect(chunked.json<{ error: { message: string } }>().error.message).toBe(
      'the alert payload is more than 4096 bytes; the limit is 4096 (WARDEN_ALERTS_MAX_PAYLOAD_BYTES)',
    );
    expect(await countAlerts()).toBe(before);
    expect(await s.incidents.list({ limit: 500 })).toEqual(incidentsBefore);
  });

  it('suppresses firing alerts during maintenance but lets resolved ones close incidents', async () => {
    const auth = { authorization: `Bearer ${tokens.grafana}` };
    const opened = await post('/api/v1/alerts/grafana', fixtureText('grafana-firing.json'), auth);
    const incidentId = opened.json<{ results: { incidentId: number }[] }>().results[0]!.incidentId;
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/maintenance-windows',
      headers: { authorization: `Bearer ${operator}` },
      payload: {
        service: 'db-1',
        reason: 'memory upgrade',
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(created.statusCode).toBe(201);
    const windowId = created.json<{ id: number; createdBy: string }>().id;
    expect(created.json<{ createdBy: string }>().createdBy).toBe('api_key:op');

    // A new fingerprint for the same service: suppressed, nothing opened.
    const other = fixture('grafana-firing.json') as { alerts: Record<string, unknown>[] };
    other.alerts[0]!.fingerprint = 'ffff000011112222';
    const suppressed = await post('/api/v1/alerts/grafana', JSON.stringify(other), auth);
    expect(suppressed.json()).toMatchObject({
      results: [{ outcome: 'suppressed', incidentId: null }],
    });
    expect(await s.incidents.list({ service: 'db-1', status: 'open' })).toHaveLength(1);

    const resolved = await post(
      '/api/v1/alerts/grafana',
      fixtureText('grafana-resolved.json'),
      auth,
    );
    expect(resolved.json()).toMatchObject({ results: [{ outcome: 'resolved', incidentId }] });
    expect((await s.incidents.get(incidentId)).status).toBe('resolved');

    const removed = await app.inject({
      method: 'DELETE',
      url: `/api/v1/maintenance-windows/${windowId}`,
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(removed.statusCode).toBe(200);
    expect(await s.maintenance.list()).toEqual([]);
  });

  it('keeps endpoint administration for admins and never lists tokens', async () => {
    const asOperator = await app.inject({
      url: '/api/v1/alert-endpoints',
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(asOperator.statusCode).toBe(403);
    const asAdmin = await app.inject({
      url: '/api/v1/alert-endpoints',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(asAdmin.statusCode).toBe(200);
    const text = asAdmin.body;
    for (const t of Object.values(tokens)) expect(text).not.toContain(t);
    expect(text).not.toContain(hmacSecret);
    expect(asAdmin.json<{ alertEndpoints: { name: string }[] }>().alertEndpoints).toHaveLength(5);
  });

  it('lists stored alerts for viewers, newest first, raw only when asked', async () => {
    const res = await app.inject({
      url: '/api/v1/alerts?limit=2&raw=true',
      headers: { authorization: `Bearer ${operator}` },
    });
    const alerts = res.json<{ alerts: { id: number; raw: unknown }[] }>().alerts;
    expect(alerts).toHaveLength(2);
    expect(alerts[0]!.id).toBeGreaterThan(alerts[1]!.id);
    expect(alerts[0]!.raw).toBeTypeOf('object');
    const unauth = await app.inject({ url: '/api/v1/alerts' });
    expect(unauth.statusCode).toBe(401);
  });
});
