// Recurrences and look-alikes: a known fix is reused for the same problem of
// the same service, and never for another service's problem that reads the
// same, nor for another problem of the same service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NormalizedAlert } from '../src/incidents/alert.ts';
import { corpus } from './fixtures/incident-corpus.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

let s: TestServices;
beforeAll(async () => {
  s = await makeTestServices('pglite', {
    WARDEN_HEAL_ENABLED: 'false',
    MEMORY_EMBEDDER: 'lexical',
  });
  // Other services' verified fixes around it, as a real memory would hold.
  for (const inc of corpus) await s.memory.remember(inc);
  await s.memory.remember({
    title: 'demo is down: request failed: ECONNREFUSED',
    symptoms: 'demo is down: request failed: ECONNREFUSED\nservice demo\nservice=demo',
    service: 'demo',
    rootCause: 'the demo process exited',
    fix: { action: 'supervisor.restart', parameters: { program: 'demo' } },
    outcome: 'resolved',
    verified: true,
  });
});
afterAll(async () => {
  await s?.dispose();
});

let n = 0;
async function recall(service: string, summary: string, labels: Record<string, string> = {}) {
  const alert: NormalizedAlert = {
    source: 'alertmanager',
    fingerprint: `lookalike-${n++}`,
    service,
    severity: 'critical',
    status: 'firing',
    summary,
    labels: { service, ...labels },
    annotations: {},
    startsAt: new Date(),
    endsAt: null,
    raw: {},
  };
  const [opened] = await s.incidents.ingest([alert]);
  return s.healing.recall({ kind: 'incident', incidentId: opened!.incidentId! });
}

describe('recalling known fixes', () => {
  it('reuses the fix for the same problem of the same service, reworded', async () => {
    for (const summary of [
      'demo is down: request failed: ECONNREFUSED',
      'Demo unreachable: ECONNREFUSED',
      'demo down, request failed with ECONNREFUSED',
    ]) {
      const r = await recall('demo', summary);
      expect({ summary, known: r.known }).toEqual({ summary, known: true });
      expect(r.state.candidates![0]).toMatchObject({
        action: 'supervisor.restart',
        parameters: { program: 'demo' },
      });
    }
  });

  it("never reuses another service's fix for an alert that reads the same", async () => {
    for (const service of ['api', 'demo2', 'demo-worker']) {
      const r = await recall(service, `${service} is down: request failed: ECONNREFUSED`);
      expect({ service, known: r.known }).toEqual({ service, known: false });
    }
  });

  it('never reuses a fix of the service for another of its problems', async () => {
    for (const summary of [
      'demo: disk full on /var',
      'demo certificate expired',
      'demo high memory usage 95%',
      'demo is slow: p99 latency 3s',
      'demo returns HTTP 502 from upstream',
    ]) {
      const r = await recall('demo', summary);
      expect({ summary, known: r.known }).toEqual({ summary, known: false });
    }
  });
});
