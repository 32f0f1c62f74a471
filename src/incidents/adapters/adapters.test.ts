import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { UserError } from '../../errors.ts';
import { computeFingerprint } from '../alert.ts';
import { decodeBody } from '../payload-body.ts';
import { parseAlerts } from './index.ts';

function fixture(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/alerts/${name}`, import.meta.url), 'utf8'),
  );
}

async function rejection(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('Uptime Kuma', () => {
  it('turns a down heartbeat into one firing alert about the monitor', async () => {
    const { alerts, rejected, skipped } = await parseAlerts(
      'uptime-kuma',
      fixture('uptime-kuma-down.json'),
    );
    expect(rejected).toEqual([]);
    expect(skipped).toEqual([]);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({
      source: 'uptime-kuma',
      service: 'shop-web',
      severity: 'critical',
      status: 'firing',
      summary: '[shop-web] [🔴 Down] connect ECONNREFUSED 127.0.0.1:8080',
      labels: {
        alertname: 'shop-web',
        monitor_id: '29',
        monitor_type: 'http',
        instance: 'http://127.0.0.1:8080/health',
      },
      annotations: { description: 'connect ECONNREFUSED 127.0.0.1:8080' },
      endsAt: null,
    });
    // Heartbeat times are UTC without a zone marker.
    expect(a.startsAt.toISOString()).toBe('2026-11-20T23:51:35.527Z');
    expect(a.fingerprint).toBe(computeFingerprint('uptime-kuma', { monitor_id: '29' }));
  });

  it('turns an up heartbeat into a resolved alert with the same fingerprint', async () => {
    const down = (await parseAlerts('uptime-kuma', fixture('uptime-kuma-down.json'))).alerts[0]!;
    const up = (await parseAlerts('uptime-kuma', fixture('uptime-kuma-up.json'))).alerts[0]!;
    expect(up.status).toBe('resolved');
    expect(up.fingerprint).toBe(down.fingerprint);
    expect(up.service).toBe('shop-web');
    expect(up.endsAt?.toISOString()).toBe('2026-11-20T23:56:35.102Z');
  });

  it.each([
    ['uptime-kuma-pending.json', /status 2 \(pending\)/],
    ['uptime-kuma-maintenance.json', /status 3 \(maintenance\)/],
    ['uptime-kuma-test.json', /test notification/],
  ])('skips %s without an alert, saying why', async (file, why) => {
    const { alerts, rejected, skipped } = await parseAlerts('uptime-kuma', fixture(file));
    expect(alerts).toEqual([]);
    expect(rejected).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toMatch(why);
  });

  it('takes service and severity from tags and the target from the hostname', async () => {
    const [a] = (await parseAlerts('uptime-kuma', fixture('uptime-kuma-port-tags.json'))).alerts;
    expect(a).toMatchObject({
      service: 'orders',
      severity: 'warning',
      labels: { instance: '10.0.0.12', tag_service: 'orders', monitor_type: 'port' },
    });
  });

  it('honours the endpoint service label', async () => {
    const [a] = (
      await parseAlerts('uptime-kuma', fixture('uptime-kuma-port-tags.json'), {
        serviceLabel: 'instance',
      })
    ).alerts;
    expect(a!.service).toBe('10.0.0.12');
  });

  it.each([
    [{ heartbeat: { status: 9 }, monitor: { id: 1, name: 'x' } }, 'heartbeat.status'],
    [{ heartbeat: { status: 0 }, monitor: { id: 1 } }, 'monitor.name'],
    [{ heartbeat: { status: 0 }, monitor: 'x' }, 'monitor'],
    [{ heartbeat: null, monitor: { id: 1, name: 'x' } }, 'heartbeat'],
    [
      { heartbeat: { status: 0, time: 'yesterday' }, monitor: { id: 1, name: 'x' } },
      'heartbeat.time',
    ],
    [[1, 2], 'body'],
  ])('names the bad field of %j', async (payload, field) => {
    const err = await rejection(parseAlerts('uptime-kuma', payload));
    expect(err.code).toBe('malformed_alert');
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });
});

describe('Alertmanager v4', () => {
  it('keeps the sender fingerprint, times, labels and runbook', async () => {
    const { alerts, rejected } = await parseAlerts(
      'alertmanager',
      fixture('alertmanager-v4-firing.json'),
    );
    expect(rejected).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      source: 'alertmanager',
      fingerprint: '1a30ba71cca2921f',
      service: 'blackbox',
      severity: 'critical',
      status: 'firing',
      summary: 'Probe failure',
      labels: { alertname: 'ProbeFailure', instance: 'https://shop.example.org' },
      annotations: {
        runbook_url: 'https://wiki.example.org/runbooks/probe-failure',
        description: 'https://shop.example.org has been down for 5 minutes',
        generator_url: 'http://prometheus:9090/graph?g0.expr=probe_success+%3D%3D+0',
      },
      endsAt: null,
    });
    expect(alerts[0]!.startsAt.toISOString()).toBe('2026-11-20T13:08:45.828Z');
  });

  it('reads a resolved notification with its end time', async () => {
    const [a] = (await parseAlerts('alertmanager', fixture('alertmanager-v4-resolved.json')))
      .alerts;
    expect(a).toMatchObject({ status: 'resolved', fingerprint: '1a30ba71cca2921f' });
    expect(a!.endsAt?.toISOString()).toBe('2026-11-20T13:21:15.828Z');
  });

  it('yields one alert per element, each with its own status', async () => {
    const { alerts } = await parseAlerts('alertmanager', fixture('alertmanager-v4-mixed.json'));
    expect(alerts.map((a) => [a.fingerprint, a.status, a.service, a.severity, a.summary])).toEqual([
      ['5b5b1c9e6e0d2a11', 'resolved', 'web', 'warning', 'Disk / on web-1 is 93% full'],
      ['0e7d3f8a44c21b90', 'firing', 'web', 'critical', 'load15 is 14.2 on web-2'],
    ]);
  });

  it('rejects the bad alerts of a batch by index and keeps the good ones', async () => {
    const payload = fixture('alertmanager-v4-mixed.json') as { alerts: unknown[] };
    payload.alerts.push({ status: 'burning', labels: { alertname: 'X' } }, 'not an alert');
    const { alerts, rejected } = await parseAlerts('alertmanager', payload);
    expect(alerts).toHaveLength(2);
    expect(rejected).toEqual([
      {
        index: 2,
        reason: 'alerts[2].status: must be "firing" or "resolved", got string "burning"',
      },
      { index: 3, reason: 'alerts[3]: must be an object, got string "not an alert"' },
    ]);
  });

  it('computes a stable fingerprint from the labels when none is given', async () => {
    const alert = {
      status: 'firing',
      labels: { alertname: 'A', job: 'j' },
      startsAt: '2026-11-20T10:00:00Z',
    };
    const one = await parseAlerts('alertmanager', { version: '4', alerts: [alert] });
    const two = await parseAlerts('alertmanager', {
      version: '4',
      alerts: [{ ...alert, status: 'resolved', labels: { job: 'j', alertname: 'A' } }],
    });
    expect(one.alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(two.alerts[0]!.fingerprint).toBe(one.alerts[0]!.fingerprint);
  });

  it.each([
    [{ version: '4' }, 'alerts: must be an array of alerts, got nothing'],
    [{ version: '4', alerts: [] }, 'alerts: is empty'],
    [{ version: '3', alerts: [{}] }, 'version: only webhook version "4" is understood'],
    ['text', 'body: must be a JSON object'],
  ])('refuses a malformed group %j', async (payload, message) => {
    const err = await rejection(parseAlerts('alertmanager', payload));
    expect(err.message).toContain(message);
  });

  it('names a missing or impossible startsAt', async () => {
    const { rejected } = await parseAlerts('alertmanager', {
      alerts: [
        { status: 'firing', labels: { alertname: 'A' } },
        { status: 'firing', labels: { alertname: 'A' }, startsAt: '+100000-01-01T00:00:00Z' },
      ],
    });
    expect(rejected).toEqual([
      { index: 0, reason: 'alerts[0].startsAt: is missing' },
      { index: 1, reason: 'alerts[1].startsAt: is out of range: "+100000-01-01T00:00:00Z"' },
    ]);
  });
});

describe('Grafana unified alerting', () => {
  it('reads the Alertmanager part and keeps the Grafana links and values', async () => {
    const { alerts } = await parseAlerts('grafana', fixture('grafana-firing.json'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      source: 'grafana',
      fingerprint: 'c6eadffa33fcdf37',
      service: 'db-1',
      severity: 'warning',
      status: 'firing',
      summary: 'Memory above 90% on db-1',
      labels: { alertname: 'High memory', team: 'blue', instance: 'db-1' },
      annotations: {
        runbook_url: 'https://wiki.example.org/runbooks/high-memory',
        silence_url: 'http://grafana:3000/alerting/silence/new?matcher=alertname%3DHigh+memory',
        value_string: "[ var='B' labels={instance=db-1} value=94.24 ]",
        values: '{"B":94.24,"C":1}',
        grafana_org_id: '1',
      },
    });
    expect(alerts[0]!.annotations.dashboard_url).toBeUndefined();
    expect(alerts[0]!.startsAt.toISOString()).toBe('2026-11-20T08:51:03.000Z');
  });

  it('yields every alert of a group', async () => {
    const { alerts } = await parseAlerts('grafana', fixture('grafana-two-alerts.json'));
    expect(alerts.map((a) => [a.fingerprint, a.service, a.summary])).toEqual([
      ['c6eadffa33fcdf37', 'High memory usage', 'Memory high in zone us-1'],
      ['bc97ff14869b13e3', 'High CPU usage', 'CPU high in zone eu-1'],
    ]);
    expect(alerts[0]!.annotations.panel_url).toBe('http://grafana:3000/d/mem?viewPanel=2');
    expect(alerts[0]!.labels.team).toBe('blue');
  });

  it('reads a resolved notification', async () => {
    const [a] = (await parseAlerts('grafana', fixture('grafana-resolved.json'))).alerts;
    expect(a).toMatchObject({ status: 'resolved', fingerprint: 'c6eadffa33fcdf37' });
    expect(a!.endsAt?.toISOString()).toBe('2026-11-20T09:06:03.000Z');
  });
});

describe('generic JSON with a JSONata mapping', () => {
  const mapping = `checks.{
    "status": ok ? "resolved" : "firing",
    "service": host,
    "summary": name & " on " & host,
    "severity": level,
    "labels": { "check": name },
    "annotations": { "runbook_url": doc }
  }`;

  it('maps each element to an alert and rejects the ones missing a field', async () => {
    const { alerts, rejected } = await parseAlerts(
      'generic',
      {
        checks: [
          { name: 'disk', host: 'web-1', ok: false, level: 'error', doc: 'https://runbooks/disk' },
          { name: 'cpu', host: 'web-1', ok: true },
          { name: 'mem', ok: false },
        ],
      },
      { mapping },
    );
    expect(alerts.map((a) => [a.service, a.status, a.severity, a.summary])).toEqual([
      ['web-1', 'firing', 'critical', 'disk on web-1'],
      ['web-1', 'resolved', 'warning', 'cpu on web-1'],
    ]);
    expect(alerts[0]!.annotations.runbook_url).toBe('https://runbooks/disk');
    expect(alerts[0]!.fingerprint).not.toBe(alerts[1]!.fingerprint);
    expect(rejected).toEqual([
      { index: 2, reason: 'alerts[2].service: must be a non-empty string, got nothing' },
    ]);
  });

  it('takes an already normalised object without a mapping', async () => {
    const { alerts } = await parseAlerts('generic', {
      status: 'firing',
      service: 'api',
      summary: 'api down',
      fingerprint: 'abc',
      startsAt: '2026-11-20T10:00:00Z',
    });
    expect(alerts[0]).toMatchObject({ service: 'api', fingerprint: 'abc', status: 'firing' });
  });

  it('stops a runaway mapping with a clear error', async () => {
    const err = await rejection(
      parseAlerts('generic', {}, { mapping: '($f := function($x) { 1 + $f($x + 1) }; $f(0))' }),
    );
    expect(err.message).toMatch(/^body: the endpoint's mapping failed on this payload: .*stack/i);
  });

  it('says when the mapping produces nothing', async () => {
    const err = await rejection(parseAlerts('generic', { other: 1 }, { mapping }));
    expect(err.message).toBe('body: the mapping produced nothing from this payload');
  });
});

describe('webhook bodies', () => {
  const payload = fixture('uptime-kuma-down.json');

  it('reads a urlencoded form whose data field holds the JSON', () => {
    const body = Buffer.from(new URLSearchParams({ data: JSON.stringify(payload) }).toString());
    expect(decodeBody('application/x-www-form-urlencoded', body)).toEqual(payload);
  });

  it('reads a urlencoded form with one field per key', () => {
    const p = payload as Record<string, unknown>;
    const body = Buffer.from(
      new URLSearchParams({
        heartbeat: JSON.stringify(p.heartbeat),
        monitor: JSON.stringify(p.monitor),
        msg: String(p.msg),
      }).toString(),
    );
    expect(decodeBody('application/x-www-form-urlencoded; charset=utf-8', body)).toEqual(payload);
  });

  it('reads multipart/form-data as Uptime Kuma sends it', () => {
    const boundary = '----kuma123';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n${JSON.stringify(payload)}\r\n--${boundary}--\r\n`,
    );
    expect(decodeBody(`multipart/form-data; boundary=${boundary}`, body)).toEqual(payload);
  });

  it('names what is wrong with a bad body', () => {
    expect(() => decodeBody('application/json', Buffer.from('{"a":'))).toThrow(
      /^the request body is not valid JSON/,
    );
    expect(() => decodeBody('application/json', Buffer.from(''))).toThrow(
      'the request body is empty',
    );
    expect(() => decodeBody('application/x-www-form-urlencoded', Buffer.from('data=%7B'))).toThrow(
      /^form field "data" is not valid JSON/,
    );
    expect(() => decodeBody('application/json', Buffer.from('{"msg":"a\\u0000b"}'))).toThrow(
      'the request body contains a NUL character',
    );
    expect(() =>
      decodeBody('application/x-www-form-urlencoded', Buffer.from('msg=a%00b&heartbeat=null')),
    ).toThrow('the request body contains a NUL character');
    expect(() => decodeBody('application/xml', Buffer.from('<a/>'))).toThrow(
      /content type "application\/xml" is not accepted/,
    );
  });
});
