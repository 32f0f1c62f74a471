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

  it('skips a message-only notification (certificate expiry), quoting it', async () => {
    const { alerts, rejected, skipped } = await parseAlerts(
      'uptime-kuma',
      fixture('uptime-kuma-cert-expiry.json'),
    );
    expect(alerts).toEqual([]);
    expect(rejected).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toMatch(/no heartbeat/);
    expect(skipped[0]!.reason).toContain('will expire in 7 days');
  });

  it('reads a resent down notice of a DNS monitor from an older Uptime Kuma', async () => {
    const { alerts, rejected } = await parseAlerts(
      'uptime-kuma',
      fixture('uptime-kuma-dns-resend.json'),
    );
    expect(rejected).toEqual([]);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({
      source: 'uptime-kuma',
      // A "Service" tag, whatever its case.
      service: 'mail-relay',
      severity: 'critical',
      status: 'firing',
      summary: '[Public DNS] [🔴 Down] queryA ETIMEOUT example.org',
      endsAt: null,
    });
    // A DNS monitor checks its hostname, not the url left over from another type.
    expect(a.labels).toEqual({
      alertname: 'Public DNS',
      monitor: 'Public DNS',
      monitor_id: '41',
      monitor_type: 'dns',
      instance: 'example.org',
      port: '53',
      tag_Service: 'mail-relay',
      tag_edge: '',
    });
    expect(a.annotations).toEqual({
      summary: '[Public DNS] [🔴 Down] queryA ETIMEOUT example.org',
      description: 'queryA ETIMEOUT example.org',
      important: 'false',
      monitor_description: 'Resolver used by the mail relay',
    });
    // Times without milliseconds are UTC too.
    expect(a.startsAt.toISOString()).toBe('2022-01-21T14:06:38.000Z');
    expect(a.fingerprint).toBe(computeFingerprint('uptime-kuma', { monitor_id: '41' }));
  });

  it('reads the same payload from a form, with the status as text', async () => {
    const p = fixture('uptime-kuma-down.json') as { heartbeat: Record<string, unknown> };
    const body = Buffer.from(
      new URLSearchParams({
        data: JSON.stringify({ ...p, heartbeat: { ...p.heartbeat, status: '0' } }),
      }).toString(),
    );
    const payload = decodeBody('application/x-www-form-urlencoded', body);
    const [a] = (await parseAlerts('uptime-kuma', payload)).alerts;
    expect(a).toMatchObject({ status: 'firing', service: 'shop-web' });
  });

  it('reads a msg-only form as a test notification', async () => {
    const body = Buffer.from(new URLSearchParams({ msg: 'Kuma Sent Successfully.' }).toString());
    const { alerts, skipped } = await parseAlerts(
      'uptime-kuma',
      decodeBody('application/x-www-form-urlencoded', body),
    );
    expect(alerts).toEqual([]);
    expect(skipped[0]!.reason).toMatch(/test notification/);
  });

  it.each([
    [{ heartbeat: { status: 9 }, monitor: { id: 1, name: 'x' } }, 'heartbeat.status'],
    [{ heartbeat: { status: 0 }, monitor: { id: 1 } }, 'monitor.name'],
    [{ heartbeat: { status: 0 }, monitor: 'x' }, 'monitor'],
    [{ heartbeat: { status: 'down' }, monitor: { id: 1, name: 'x' } }, 'heartbeat.status'],
    [{ heartbeat: { status: 0 }, monitor: { name: 'x' } }, 'monitor.id'],
    [{ heartbeat: { status: 0 }, monitor: { id: 1, name: 'x', tags: 'a,b' } }, 'monitor.tags'],
    [{ heartbeat: { status: 0, msg: 5 }, monitor: { id: 1, name: 'x' } }, 'heartbeat.msg'],
    [{ heartbeat: { status: 0 }, monitor: { id: 1, name: 'x' }, msg: {} }, 'msg'],
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

  it('reports the alerts the sender truncated and reads alerts without annotations', async () => {
    const { alerts, rejected, skipped } = await parseAlerts(
      'alertmanager',
      fixture('alertmanager-v4-truncated.json'),
    );
    expect(rejected).toEqual([]);
    expect(skipped).toEqual([
      {
        index: 2,
        reason:
          'truncatedAlerts: the sender left 3 more alerts of this group out of the notification (max_alerts); they were not received',
      },
    ]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatchObject({
      source: 'alertmanager',
      fingerprint: '3c2b1a0f9e8d7c6b',
      service: 'node',
      severity: 'warning',
      status: 'firing',
      // No annotations at all: the alert's name stands in.
      summary: 'NodeFilesystemAlmostFull',
      labels: {
        alertname: 'NodeFilesystemAlmostFull',
        instance: 'db-2:9100',
        job: 'node',
        severity: 'warning',
        mountpoint: '/var',
      },
      annotations: {
        generator_url: 'http://prometheus:9090/graph?g0.expr=node_filesystem_avail_bytes',
      },
      endsAt: null,
    });
    expect(alerts[0]!.startsAt.toISOString()).toBe('2026-11-22T07:00:12.345Z');
    expect(alerts[1]).toMatchObject({
      status: 'resolved',
      summary: 'Clock on db-3 is out of sync',
      annotations: { message: 'Clock on db-3 is out of sync' },
    });
    expect(alerts[1]!.endsAt?.toISOString()).toBe('2026-11-22T06:58:00.000Z');
  });

  it('does not take a firing alert\'s "valid until" time for its end', async () => {
    const [a] = (
      await parseAlerts('alertmanager', {
        version: '4',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'A' },
            startsAt: '2026-11-20T10:00:00Z',
            endsAt: '2026-11-20T10:04:00Z',
          },
        ],
      })
    ).alerts;
    expect(a!.endsAt).toBeNull();
  });

  it('rejects one bad alert of a group by itself, naming the field', async () => {
    const payload = fixture('alertmanager-v4-truncated.json') as { alerts: unknown[] };
    payload.alerts.push(
      { status: 'firing', labels: { alertname: 'X' }, startsAt: 'soon' },
      { status: 'firing', labels: { alertname: 'X', n: [1] }, startsAt: '2026-11-22T06:40:00Z' },
      {
        status: 'resolved',
        labels: { alertname: 'X' },
        startsAt: '2026-11-22T06:40:00Z',
        endsAt: 7.5e20,
      },
      {
        status: 'firing',
        labels: { alertname: 'X' },
        startsAt: '2026-11-22T06:40:00Z',
        fingerprint: 3,
      },
      { status: 'firing', startsAt: '2026-11-22T06:40:00Z', generatorURL: 5, labels: { a: 'b' } },
    );
    const { alerts, rejected } = await parseAlerts('alertmanager', payload);
    expect(alerts).toHaveLength(2);
    expect(rejected.map((r) => [r.index, r.reason.split(':')[0]])).toEqual([
      [2, 'alerts[2].startsAt'],
      [3, 'alerts[3].labels.n'],
      [4, 'alerts[4].endsAt'],
      [5, 'alerts[5].fingerprint'],
      [6, 'alerts[6].generatorURL'],
    ]);
  });

  it.each([
    [{ version: '4' }, 'alerts: must be an array of alerts, got nothing'],
    [{ version: '4', alerts: [] }, 'alerts: is empty'],
    [{ version: '3', alerts: [{}] }, 'version: only webhook version "4" is understood'],
    [{ alerts: [{}], truncatedAlerts: -1 }, 'truncatedAlerts: must be a whole number'],
    [{ alerts: [{}], commonLabels: ['a'] }, 'commonLabels: must be an object of strings'],
    [{ alerts: [{}], groupLabels: 'job' }, 'groupLabels: must be an object of strings'],
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

  it('reads a group with missing optional fields, truncation and a DatasourceNoData alert', async () => {
    const { alerts, rejected, skipped } = await parseAlerts(
      'grafana',
      fixture('grafana-truncated.json'),
    );
    expect(rejected).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!).toMatchObject({ index: 2 });
    expect(skipped[0]!.reason).toMatch(/^truncatedAlerts: the sender left 2 more alerts/);
    const [disk, noData] = alerts;
    expect(disk).toMatchObject({
      source: 'grafana',
      service: 'nas-1',
      severity: 'warning',
      status: 'firing',
      // A group's title is about the whole group: the alert's own name is used.
      summary: 'Disk almost full',
      labels: { alertname: 'Disk almost full', grafana_folder: 'infra', instance: 'nas-1' },
      annotations: { grafana_org_id: '1' },
      endsAt: null,
    });
    // An empty fingerprint is computed from the labels.
    expect(disk!.fingerprint).toBe(
      computeFingerprint('grafana', {
        alertname: 'Disk almost full',
        grafana_folder: 'infra',
        instance: 'nas-1',
      }),
    );
    expect(Object.keys(disk!.annotations).sort()).toEqual(['grafana_org_id']);
    expect(noData).toMatchObject({
      fingerprint: 'a1b2c3d4e5f60718',
      // About the rule whose query returned nothing, not "DatasourceNoData".
      service: 'Backup freshness',
      status: 'firing',
      summary: 'DatasourceNoData',
    });
    expect(noData!.startsAt.toISOString()).toBe('2026-11-22T06:11:00.000Z');
  });

  it('tells legacy and unified payloads apart and names what is missing', async () => {
    const err = await rejection(parseAlerts('grafana', { receiver: 'x', status: 'firing' }));
    expect(err.message).toMatch(/^alerts: is missing: send unified alerting/);
  });
});

describe('Grafana legacy alerting', () => {
  it('turns state "alerting" into a firing alert about the rule', async () => {
    const { alerts, rejected, skipped } = await parseAlerts(
      'grafana',
      fixture('grafana-legacy-alerting.json'),
    );
    expect(rejected).toEqual([]);
    expect(skipped).toEqual([]);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({
      source: 'grafana',
      fingerprint: computeFingerprint('grafana', { grafana_rule_id: '17' }),
      service: 'web',
      severity: 'critical',
      status: 'firing',
      summary: 'CPU above 90% for 5 minutes on the web tier',
      endsAt: null,
    });
    expect(a.labels).toEqual({
      alertname: 'Web CPU busy',
      service: 'web',
      severity: 'critical',
      grafana_rule_id: '17',
      grafana_org_id: '1',
      grafana_dashboard_id: '4',
      grafana_panel_id: '2',
    });
    expect(a.annotations).toEqual({
      grafana_state: 'alerting',
      summary: 'CPU above 90% for 5 minutes on the web tier',
      description: 'CPU above 90% for 5 minutes on the web tier',
      title: '[Alerting] Web CPU busy',
      eval_matches: 'cpu_busy=97.3, cpu_busy=91.02',
      rule_url: 'http://grafana:3000/d/hZ7BuVbWz/web-tier?tab=alert&viewPanel=2&orgId=1',
      image_url: 'http://grafana:3000/public/img/attachments/4qW1xNcQ.png',
    });
    expect(a.startsAt).toBeInstanceOf(Date);
  });

  it('turns state "ok" into the resolution of the same rule', async () => {
    const firing = (await parseAlerts('grafana', fixture('grafana-legacy-alerting.json')))
      .alerts[0]!;
    const { alerts } = await parseAlerts('grafana', fixture('grafana-legacy-ok.json'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      status: 'resolved',
      fingerprint: firing.fingerprint,
      service: 'web',
      // No message: the notification's title stands in.
      summary: '[OK] Web CPU busy',
    });
    expect(alerts[0]!.endsAt).toBeInstanceOf(Date);
  });

  it('treats "no_data" as firing, named after the rule when no tag names a service', async () => {
    const { alerts } = await parseAlerts('grafana', fixture('grafana-legacy-no-data.json'));
    expect(alerts[0]).toMatchObject({
      status: 'firing',
      service: 'Queue depth',
      severity: 'warning',
      summary: '[No Data] Queue depth',
      fingerprint: computeFingerprint('grafana', { grafana_rule_id: '23' }),
      annotations: { grafana_state: 'no_data' },
    });
  });

  it('takes the service from the endpoint label when one is set', async () => {
    const [a] = (
      await parseAlerts('grafana', fixture('grafana-legacy-alerting.json'), {
        serviceLabel: 'grafana_dashboard_id',
      })
    ).alerts;
    expect(a!.service).toBe('4');
  });

  it.each([
    ['pending', /state "pending": .*"for" period/],
    ['paused', /state "paused": the rule was paused/],
  ])('skips state %s, saying why', async (state, why) => {
    const payload = { ...(fixture('grafana-legacy-alerting.json') as object), state };
    const { alerts, rejected, skipped } = await parseAlerts('grafana', payload);
    expect(alerts).toEqual([]);
    expect(rejected).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toMatch(why);
  });

  it('skips the notification channel test', async () => {
    const { alerts, skipped } = await parseAlerts('grafana', fixture('grafana-legacy-test.json'));
    expect(alerts).toEqual([]);
    expect(skipped[0]!.reason).toMatch(/^test notification/);
  });

  it('reads the oldest shape (rule_url, no tags, no message)', async () => {
    const [a] = (
      await parseAlerts('grafana', {
        title: '[Alerting] Disk',
        ruleId: 3,
        ruleName: 'Disk',
        state: 'alerting',
        evalMatches: [{ metric: 'used', value: null, tags: null }],
        rule_url: 'http://grafana:3000/dashboard/db/hosts',
      })
    ).alerts;
    expect(a).toMatchObject({
      service: 'Disk',
      summary: '[Alerting] Disk',
      annotations: {
        rule_url: 'http://grafana:3000/dashboard/db/hosts',
        eval_matches: 'used=null',
      },
    });
  });

  it.each([
    [{ ruleId: 1, ruleName: 'r', state: 'firing' }, 'state'],
    [{ ruleId: 1, ruleName: 'r' }, 'state'],
    [{ ruleName: '', state: 'ok' }, 'ruleName'],
    [{ evalMatches: [], state: 'ok' }, 'ruleName'],
    [{ ruleId: {}, ruleName: 'r', state: 'ok' }, 'ruleId'],
    [{ ruleId: 1, ruleName: 'r', state: 'ok', tags: ['a'] }, 'tags'],
    [{ ruleId: 1, ruleName: 'r', state: 'ok', evalMatches: {} }, 'evalMatches'],
    [{ ruleId: 1, ruleName: 'r', state: 'ok', evalMatches: [3] }, 'evalMatches[0]'],
    [{ ruleId: 1, ruleName: 'r', state: 'ok', message: 4 }, 'message'],
    [{ ruleId: 1, ruleName: 'r', state: 'ok', panelId: 'x y', orgId: true }, 'orgId'],
  ])('names the bad field of %j', async (payload, field) => {
    const err = await rejection(parseAlerts('grafana', payload));
    expect(err.code).toBe('malformed_alert');
    expect(err.message.startsWith(`${field}:`)).toBe(true);
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
