// A pool of two connections and the busy paths at once: healing runs (recall
// and learn through incident memory), an alert storm, engine executions and
// audit appends. Nothing may hold a connection while it waits for another,
// so every one of them finishes. Before the lock moved off the pool, a
// healing run held a pool connection under the vector-collection lock and
// asked the pool for a second: twelve alerts exhausted the pool for good.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { installAutoHeal } from '../src/healing/auto-heal.ts';
import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';

function alert(i: number): NormalizedAlert {
  return {
    source: 'alertmanager',
    service: `svc-${i}`,
    fingerprint: `fp-${i}`,
    status: 'firing',
    severity: 'critical',
    summary: `disk full on host ${i}`,
    labels: {},
    annotations: {},
    startsAt: new Date(),
    endsAt: null,
    raw: {},
  };
}

describe('a pool of two connections under every busy path at once', () => {
  let s: TestServices;

  beforeAll(async () => {
    s = await makeTestServices('postgres', {
      DATABASE_POOL_SIZE: '2',
      // No model server: diagnosis fails fast and the run escalates.
      OLLAMA_URL: 'http://127.0.0.1:9',
      WARDEN_HEAL_EVIDENCE_ACTIONS: '',
    });
    await installAutoHeal(s.engine);
    await s.engine.startWorker(8);
  }, 20_000);

  afterAll(async () => {
    await s?.dispose();
  });

  it('regression: the storm of 12 with healing, memory, executions and audit appends all finish', async () => {
    const wf = await s.engine.createWorkflow({
      name: 'busy',
      nodes: [
        { id: 'a', name: 'Start', type: 'manual', parameters: {} },
        { id: 'b', name: 'Set', type: 'set', parameters: { values: { ok: true } } },
      ],
      connections: { Start: { main: [[{ node: 'Set', index: 0 }]] } },
      settings: {},
    });
    const work: Promise<unknown>[] = [];
    // An Alertmanager storm: 12 distinct alerts, each opening an incident and a healing run.
    work.push(s.incidents.ingest(Array.from({ length: 12 }, (_, i) => alert(i))));
    for (let i = 0; i < 10; i++) {
      work.push(
        s.memory.remember({ title: `fix ${i}`, symptoms: 'disk full', outcome: 'resolved' }),
        s.memory.similar(`disk full ${i}`),
        s.exec.audit.append({
          caller: { kind: 'cli' },
          operation: 'pool_test',
          input: { i },
          decision: 'allowed',
          rule: 'test',
        }),
        s.engine.runManual(wf.id).then((id) => s.engine.waitForStatus(id, undefined, 20_000)),
      );
    }
    const results = await Promise.allSettled(work);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
    // Every healing run the storm started ends too (escalated: no model, no evidence).
    await waitFor(async () => {
      const { rows } = await s.db.query(
        `SELECT 1 FROM executions WHERE status NOT IN ('succeeded', 'failed', 'needs_attention', 'canceled')`,
      );
      return rows.length === 0;
    }, 'every execution to end');
    const { rows } = await s.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM executions WHERE mode = 'incident'",
    );
    expect(rows[0]!.n).toBe(12);
  }, 28_000);
});
