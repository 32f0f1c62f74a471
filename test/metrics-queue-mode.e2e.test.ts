// Metrics in queue mode with real processes: a main (`start --role main`)
// and a worker (`worker --health-port`) on PostgreSQL and Redis. Prometheus
// sums the two scrapes; each execution's outcome and each model call must
// appear in that sum exactly once (from the worker that did the work), and
// the queue's depth once (from main). Both scrapes pass `promtool check
// metrics` where promtool is installed.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { terminalStatuses } from '../src/engine/execution-store.ts';
import { autoHealName } from '../src/healing/auto-heal.ts';
import type { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import type { WardenProcess } from './helpers/processes.ts';
import { freePort, killAll, startWarden } from './helpers/processes.ts';
import { testRedisUrl } from './helpers/servers.ts';
import { makeTestServices } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition (enough of the format for Warden's output). */
function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (samples: Sample[], name: string, where: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
const has = (samples: Sample[], name: string) => samples.some((s) => s.name === name);

describe('metrics of main and a worker in queue mode', () => {
  afterAll(killAll);

  it('show each outcome and model call once in the sum, from the worker, and the queue depth from main only', async () => {
    const ollama = await OllamaTestServer.start();
    const queue = { WARDEN_QUEUE_NAME: `q-${randomUUID()}`, WARDEN_QUEUE_PREFIX: 'warden-test' };
    const common = {
      REDIS_URL: testRedisUrl,
      OLLAMA_URL: ollama.url,
      LLM_RETRIES: '0',
      MEMORY_EMBEDDER: 'lexical',
      WARDEN_HEAL_EVIDENCE_ACTIONS: 'system.resources',
      ...queue,
    };
    // This process stands in for a client of the queue: what it starts goes
    // to the worker, instant workflows too (a main process would run those
    // itself, and count them in its own scrape).
    const s = await makeTestServices('postgres', {
      ...common,
      WARDEN_INSTANT_RUNS_IN_MAIN: 'false',
    });
    const procs: WardenProcess[] = [];
    try {
      const env = { ...common, DATABASE_URL: s.config.database.url! };
      const mainPort = await freePort();
      const healthPort = await freePort();
      procs.push(
        await startWarden(
          ['start', '--role', 'main', '--port', String(mainPort), '--host', '127.0.0.1'],
          env,
          /Warden is running/,
        ),
        await startWarden(
          ['worker', '--concurrency', '2', '--health-port', String(healthPort)],
          env,
          /worker is consuming/,
        ),
      );
      const { secret } = await s.apiKeys.create({ name: 'prometheus', role: 'viewer' });
      const scrape = async (port: number) => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
          headers: { authorization: `Bearer ${secret}` },
        });
        expect(res.status).toBe(200);
        return res.text();
      };
      expect((await fetch(`http://127.0.0.1:${healthPort}/metrics`)).status).toBe(401);

      const wf = (name: string, ok: boolean) =>
        s.engine.createWorkflow({
          name,
          nodes: [
            { id: '1', name: 'Start', type: 'manual', parameters: {} },
            ok
              ? { id: '2', name: 'Work', type: 'noOp', parameters: {} }
              : {
                  id: '2',
                  name: 'Work',
                  type: 'httpRequest',
                  parameters: { url: `${ollama.url}/api/tags`, maxResponseBytes: 10 },
                },
          ],
          connections: { Start: { main: [[{ node: 'Work', index: 0 }]] } },
        });
      const good = await wf('queue-good', true);
      const bad = await wf('queue-bad', false);
      const ids = [
        await s.engine.runManual(good.id),
        await s.engine.runManual(good.id),
        await s.engine.runManual(good.id),
        await s.engine.runManual(bad.id),
      ];
      for (const id of ids) await s.engine.waitForStatus(id, terminalStatuses, 30_000);

      // An alert: main installed the auto-heal workflow; the worker runs it,
      // asks the model for a diagnosis (the test server's answer is not
      // one) and escalates.
      await s.incidents.ingest([
        {
          source: 'alertmanager',
          fingerprint: `metrics-${randomUUID()}`,
          service: 'web',
          severity: 'critical',
          status: 'firing',
          summary: 'web is down',
          labels: {},
          annotations: {},
          startsAt: new Date(),
          endsAt: null,
          raw: {},
        },
      ]);
      await waitFor(
        async () => (await s.incidents.list()).some((i) => i.status === 'escalated'),
        'the incident was escalated',
        30_000,
        100,
      );
      const modelCalls = () =>
        ollama.requests.filter((q) => q.path === '/api/chat' || q.path === '/api/generate').length;
      expect(modelCalls()).toBeGreaterThan(0);

      const texts = { main: await scrape(mainPort), worker: await scrape(healthPort) };
      if (spawnSync('promtool', ['--version']).status === 0)
        for (const [name, text] of Object.entries(texts)) {
          const check = spawnSync('promtool', ['check', 'metrics'], {
            input: text,
            encoding: 'utf8',
          });
          expect({ name, code: check.status, out: `${check.stdout}${check.stderr}` }).toEqual({
            name,
            code: 0,
            out: '',
          });
        }
      const main = parseSamples(texts.main);
      const worker = parseSamples(texts.worker);
      const both = [...main, ...worker];
      const ended = (status: string) =>
        sum(both, 'warden_executions_ended_total', { status }) -
        sum(both, 'warden_execution_duration_seconds_count', { status, workflow: autoHealName });
      expect({ succeeded: ended('succeeded'), failed: ended('failed') }).toEqual({
        succeeded: 3,
        failed: 1,
      });
      expect(sum(both, 'warden_execution_duration_seconds_count', { workflow: 'queue-good' })).toBe(
        3,
      );
      expect(has(main, 'warden_executions_ended_total')).toBe(false);
      // Model calls: every request the server saw, once, and all from the worker.
      const requests = (x: typeof both) =>
        x
          .filter((q) => q.name === 'warden_llm_requests_total' && q.labels.model !== '(server)')
          .reduce((n, q) => n + q.value, 0);
      expect(requests(both)).toBe(modelCalls());
      expect(requests(main)).toBe(0);
      expect(sum(worker, 'warden_heal_outcomes_total', { outcome: 'escalated' })).toBe(1);
      expect(sum(both, 'warden_heal_outcomes_total', { outcome: 'escalated' })).toBe(1);
      expect(sum(worker, 'warden_heal_duration_seconds_count', { outcome: 'escalated' })).toBe(1);
      // The pipeline recalled similar incidents: an embedded query and a vector search.
      expect(
        sum(worker, 'warden_embedding_duration_seconds_count', { kind: 'query', outcome: 'ok' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sum(worker, 'warden_memory_search_duration_seconds_count', { outcome: 'ok' }),
      ).toBeGreaterThanOrEqual(1);
      expect(sum(main, 'warden_memory_search_duration_seconds_count')).toBe(0);
      // Installation-wide figures come from main alone.
      expect(both.filter((x) => x.name === 'warden_executions')).toEqual(
        main.filter((x) => x.name === 'warden_executions'),
      );
      expect(sum(main, 'warden_executions', { status: 'queued' })).toBe(0);
      expect(has(worker, 'warden_incidents')).toBe(false);
      expect(sum(main, 'warden_build_info', { role: 'main' })).toBe(1);
      expect(sum(worker, 'warden_build_info', { role: 'worker' })).toBe(1);
      expect(has(worker, 'process_cpu_user_seconds_total')).toBe(true);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await (s.queue as BullmqQueue).obliterate().catch(() => {});
      await s.dispose();
      await ollama.close();
    }
    // Two processes start and an incident goes through the pipeline.
  }, 90_000);
});
