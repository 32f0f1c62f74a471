// Noise control over a real database (PGlite and PostgreSQL): dedup,
// grouping windows, open-after-N, maintenance, flapping and resolution. Time
// is a clock the test moves, so no assertion depends on how fast things run.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { IncidentNotice } from '../src/incidents/incident-service.ts';
import { IncidentService } from '../src/incidents/incident-service.ts';
import type { NoiseSettings } from '../src/incidents/noise.ts';
import type { TestServices } from './helpers/services.ts';
import { dbKinds, makeTestServices } from './helpers/services.ts';

const minute = 60_000;
const settings: NoiseSettings = {
  groupWindowMs: 10 * minute,
  openAfter: 1,
  flappingTransitions: 4,
  flappingWindowMs: 60 * minute,
};

describe.each(dbKinds)('noise control on %s', (kind) => {
  let s: TestServices;
  let clock = new Date('2026-11-20T12:00:00Z');
  const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

  beforeAll(async () => {
    s = await makeTestServices(kind);
  });
  afterAll(async () => {
    await s?.dispose();
  });

  /** A service with its own settings and notice log; a fresh service name keeps tests apart. */
  function setup(overrides: Partial<NoiseSettings> = {}) {
    const notices: IncidentNotice[] = [];
    const incidents = new IncidentService(s.db, {
      settings: { ...settings, ...overrides },
      now: () => clock,
    });
    incidents.subscribe((n) => void notices.push(n));
    const service = `svc-${randomUUID().slice(0, 8)}`;
    const alert = (status: 'firing' | 'resolved', fingerprint = 'fp-1'): NormalizedAlert => ({
      source: 'alertmanager',
      fingerprint,
      service,
      severity: 'critical',
      status,
      summary: `${service} is ${status === 'firing' ? 'down' : 'up'}`,
      labels: { alertname: 'Down', service },
      annotations: { runbook_url: 'https://runbooks/down' },
      startsAt: clock,
      endsAt: null,
      raw: { status },
    });
    const send = async (...statuses: ('firing' | 'resolved')[]) => {
      const out = [];
      for (const st of statuses) {
        out.push(...(await incidents.ingest([alert(st)])));
        advance(1000);
      }
      return out;
    };
    return { incidents, notices, service, alert, send };
  }

  it('deduplicates repeats of one alert into one incident', async () => {
    const { incidents, notices, service, send } = setup();
    const results = await send('firing', 'firing', 'firing');
    expect(results.map((r) => r.outcome)).toEqual(['opened', 'deduplicated', 'deduplicated']);
    const [incident] = await incidents.list({ service });
    expect(incident).toMatchObject({ status: 'open', occurrences: 3, flapping: false });
    expect(results.every((r) => r.incidentId === incident!.id)).toBe(true);
    expect(notices.map((n) => n.type)).toEqual(['incident.opened']);
    const { events, alerts } = await incidents.show(incident!.id);
    expect(events.map((e) => e.type)).toEqual(['opened']);
    expect(alerts).toHaveLength(3);
  });

  it('opens one incident when two copies of an alert arrive at once', async () => {
    const { incidents, service, alert } = setup();
    const results = await Promise.all([
      incidents.ingest([alert('firing')]),
      incidents.ingest([alert('firing')]),
    ]);
    expect(
      results
        .flat()
        .map((r) => r.outcome)
        .sort(),
    ).toEqual(['deduplicated', 'opened']);
    expect(await incidents.list({ service })).toHaveLength(1);
  });

  it('opens one incident from more simultaneous copies than the pool has connections', async () => {
    const { incidents, service, alert } = setup();
    const copies = s.config.database.poolSize + 2;
    const results = await Promise.all(
      Array.from({ length: copies }, () => incidents.ingest([alert('firing')])),
    );
    expect(results.flat().filter((r) => r.outcome === 'opened')).toHaveLength(1);
    expect((await incidents.list({ service }))[0]!.occurrences).toBe(copies);
  });

  it('keeps different fingerprints of one service apart', async () => {
    const { incidents, service, alert } = setup();
    await incidents.ingest([alert('firing', 'a'), alert('firing', 'b')]);
    expect((await incidents.list({ service })).map((i) => i.fingerprint).sort()).toEqual([
      'a',
      'b',
    ]);
  });

  it('opens only after N firing alerts within the group window', async () => {
    const { incidents, notices, service, send } = setup({ openAfter: 3 });
    expect((await send('firing', 'firing')).map((r) => [r.outcome, r.incidentId])).toEqual([
      ['pending', null],
      ['pending', null],
    ]);
    // The window passes: the earlier two no longer count.
    advance(settings.groupWindowMs);
    expect((await send('firing', 'firing')).map((r) => r.outcome)).toEqual(['pending', 'pending']);
    const [third] = await send('firing');
    expect(third).toMatchObject({
      outcome: 'opened',
      detail: 'opened an incident after 3 firing alert(s)',
    });
    expect((await incidents.list({ service }))[0]).toMatchObject({ occurrences: 3 });
    expect(notices.map((n) => n.type)).toEqual(['incident.opened']);
  });

  it('starts counting again after a resolved alert', async () => {
    const { incidents, service, send } = setup({ openAfter: 2 });
    expect((await send('firing', 'resolved', 'firing')).map((r) => r.outcome)).toEqual([
      'pending',
      'ignored',
      'pending',
    ]);
    expect(await incidents.list({ service })).toEqual([]);
  });

  it('resolves the incident on a resolved alert and never notifies an opening for it', async () => {
    const { incidents, notices, service, send } = setup();
    const [, resolved] = await send('firing', 'resolved');
    expect(resolved!.outcome).toBe('resolved');
    const [incident] = await incidents.list({ service });
    expect(incident).toMatchObject({ status: 'resolved' });
    expect(incident!.resolvedAt).toEqual(new Date(clock.getTime() - 1000));
    expect(notices.map((n) => [n.type, n.alert.status])).toEqual([
      ['incident.opened', 'firing'],
      ['incident.resolved', 'resolved'],
    ]);
    // Firing again later, outside flapping, opens a new incident.
    advance(settings.flappingWindowMs);
    const [again] = await send('firing');
    expect(again!.outcome).toBe('opened');
    expect(again!.incidentId).not.toBe(incident!.id);
  });

  it('suppresses firing alerts in a maintenance window, not resolved ones', async () => {
    const { incidents, notices, service, alert, send } = setup();
    const [opened] = await send('firing');
    const window = await s.maintenance.create({
      service,
      reason: 'kernel upgrade',
      startsAt: clock,
      endsAt: new Date(clock.getTime() + 30 * minute),
      createdBy: 'test',
    });
    const other = await incidents.ingest([alert('firing', 'fp-2')]);
    expect(other[0]).toMatchObject({ outcome: 'suppressed', incidentId: null });
    expect(other[0]!.detail).toContain(`maintenance window ${window.id} (kernel upgrade)`);
    const [resolved] = await send('resolved');
    expect(resolved).toMatchObject({ outcome: 'resolved', incidentId: opened!.incidentId });
    expect(notices.map((n) => n.type)).toEqual(['incident.opened', 'incident.resolved']);
    await expect(
      s.maintenance.create({
        service: ' ',
        reason: 'typo',
        startsAt: clock,
        endsAt: new Date(clock.getTime() + minute),
        createdBy: 'test',
      }),
    ).rejects.toThrow('service must not be blank');
    // A window limited by labels spares alerts without them.
    await s.maintenance.remove(window.id);
    await s.maintenance.create({
      matchers: { alertname: 'SomethingElse' },
      reason: 'other work',
      startsAt: clock,
      endsAt: new Date(clock.getTime() + minute),
      createdBy: 'test',
    });
    advance(settings.flappingWindowMs);
    expect((await send('firing'))[0]!.outcome).toBe('opened');
    advance(minute);
  });

  it('marks an alert that keeps flipping as flapping instead of reopening incidents', async () => {
    const { incidents, notices, service, send } = setup();
    const results = await send('firing', 'resolved', 'firing', 'resolved', 'firing');
    expect(results.map((r) => r.outcome)).toEqual([
      'opened',
      'resolved',
      'opened',
      'resolved',
      'flapping',
    ]);
    const list = await incidents.list({ service });
    expect(list).toHaveLength(2);
    const latest = list[0]!;
    expect(latest).toMatchObject({ status: 'open', flapping: true });
    expect(results[4]!.incidentId).toBe(latest.id);
    expect(notices.map((n) => n.type)).toEqual([
      'incident.opened',
      'incident.resolved',
      'incident.opened',
      'incident.resolved',
      'incident.flapping',
    ]);
    const { events } = await incidents.show(latest.id);
    expect(events.map((e) => e.type)).toEqual(['opened', 'resolved', 'reopened', 'flapping']);
    // Further firing alerts are duplicates of the flapping incident.
    expect((await send('firing'))[0]!.outcome).toBe('deduplicated');
  });

  it('keeps the alert and the incident when a listener fails', async () => {
    const { incidents, service, send } = setup();
    incidents.subscribe(() => {
      throw new Error('pipeline down');
    });
    const [opened] = await send('firing');
    expect(opened!.outcome).toBe('opened');
    expect(await incidents.list({ service })).toHaveLength(1);
    expect(await incidents.listAlerts({ service })).toHaveLength(1);
  });

  it('records status changes on the timeline and keeps resolved incidents closed', async () => {
    const { incidents, send } = setup();
    const [opened] = await send('firing');
    const id = opened!.incidentId!;
    await incidents.setStatus(id, 'investigating', { message: 'gathering evidence' });
    await incidents.addEvent(id, {
      type: 'evidence',
      message: 'service log',
      evidence: { log: 'connection refused' },
    });
    await send('resolved');
    await expect(incidents.setStatus(id, 'remediating', { message: 'x' })).rejects.toThrow(
      'is resolved',
    );
    const { events } = await incidents.show(id);
    expect(events.map((e) => [e.type, e.evidence.status ?? e.evidence.log ?? null])).toEqual([
      ['opened', null],
      ['status', 'investigating'],
      ['evidence', 'connection refused'],
      ['resolved', null],
    ]);
  });
});
