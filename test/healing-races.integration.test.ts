// Regression: an incident its sender resolves while the pipeline runs must
// not break the pipeline, and nothing may act on it or page a person.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

let s: TestServices;
let sink: HttpSink;
beforeAll(async () => {
  sink = await startHttpSink();
  s = await makeTestServices('pglite', {
    WARDEN_HEAL_ENABLED: 'false',
    MEMORY_EMBEDDER: 'lexical',
    WARDEN_NOTIFY_WEBHOOK_URL: `${sink.url}/notify`,
  });
});
afterAll(async () => {
  await s.dispose();
  await sink.close();
});

const alert = (status: 'firing' | 'resolved'): NormalizedAlert => ({
  source: 'alertmanager',
  fingerprint: 'race',
  service: 'web',
  severity: 'critical',
  status,
  summary: 'web is down',
  labels: {},
  annotations: {},
  startsAt: new Date(),
  endsAt: status === 'resolved' ? new Date() : null,
  raw: {},
});

describe('healing an incident that resolved itself', () => {
  it('runs no action, escalates to nobody, and every step still completes', async () => {
    const [opened] = await s.incidents.ingest([alert('firing')]);
    const incidentId = opened!.incidentId!;
    await s.incidents.ingest([alert('resolved')]);
    expect((await s.incidents.get(incidentId)).status).toBe('resolved');

    const recalled = await s.healing.recall({ kind: 'incident', incidentId });
    const result = await s.healing.remediate({
      ...recalled.state,
      candidates: [{ source: 'memory', action: 'disk.usage', parameters: {}, score: 0.99 }],
    });
    expect(result.outcome).toBe('failed');
    expect(result.state.reason).toBe('resolved on its own before any action ran');
    const audited = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM exec_audit WHERE record->'caller'->>'kind' = 'healing'`,
    );
    expect(audited.rows[0]!.n).toBe(0);

    await s.healing.escalate(result.state);
    expect((await s.incidents.get(incidentId)).status).toBe('resolved');
    expect(sink.requests).toEqual([]);
    const { events } = await s.incidents.show(incidentId);
    expect(events.map((e) => e.type)).toContain('healing.note');
  });
});
