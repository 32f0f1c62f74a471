// "Mark as done" in a real Chromium against a real `warden start`: a
// workflow's side-effecting request is in flight when the process is
// killed; the restarted process finds the step started and never finished
// and stops the execution as needs_attention. An operator reads the warning,
// marks it as done with what they checked; the page shows who and why, and
// nothing ran again. A viewer sees no such button and the API refuses it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { startWarden } from './helpers/cli.ts';
import {
  axe,
  ensureConsoleBuilt,
  findChromium,
  loginHeaders,
  setUpUsers,
  noChromium,
  shoot,
} from './helpers/console-browser.ts';
import type { HttpSink } from './helpers/effect-sink.ts';
import { startHttpSink } from './helpers/effect-sink.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { waitFor } from './helpers/wait.ts';

const chromiumPath = findChromium();
if (!chromiumPath) console.warn(`console-executions.e2e: skipped: ${noChromium}`);

describe.skipIf(!chromiumPath)(
  `console: mark a needs_attention execution as done${chromiumPath ? '' : ` (skipped: ${noChromium})`}`,
  () => {
    let warden: RunningWarden;
    let ollama: OllamaTestServer;
    let sink: HttpSink;
    let db: TestDatabase;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let cwd: string;
    let executionId: string;
    let env: Record<string, string>;
    const key = randomUUID();
    const password = 'a long enough password';

    const apiLogin = (username: string) => loginHeaders(warden.url, username, password);

    async function logIn(c: BrowserContext, username: string, path: string): Promise<Page> {
      const p = await c.newPage();
      await p.goto(`${warden.url}${path}`);
      await p.getByLabel('Username').fill(username);
      await p.getByLabel('Password').fill(password);
      await p.getByRole('button', { name: 'Log in' }).click();
      return p;
    }

    beforeAll(async () => {
      ensureConsoleBuilt();
      ollama = await OllamaTestServer.start();
      sink = await startHttpSink();
      db = await createTestDatabase();
      cwd = mkdtempSync(join(tmpdir(), 'warden-console-executions-'));
      env = {
        DATABASE_URL: db.url,
        OLLAMA_URL: ollama.url,
        MEMORY_EMBEDDER: 'lexical',
        WARDEN_HEAL_ENABLED: 'false',
        WARDEN_HTTP_ALLOW_HOSTS: '127.0.0.1',
        WARDEN_LEASE_MS: '1000',
        WARDEN_HEARTBEAT_MS: '200',
        WARDEN_SWEEP_INTERVAL_MS: '200',
      };
      warden = await startWarden({ cwd, waitMs: 90_000, env });
      const admin = await setUpUsers(warden, password);

      // A workflow whose POST is held by the sink until the process dies.
      const created = await fetch(`${warden.url}/api/v1/workflows`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          name: 'restart the cache',
          nodes: [
            { id: '0', name: 'Start', type: 'manual', parameters: {} },
            {
              id: '1',
              name: 'Restart cache',
              type: 'httpRequest',
              parameters: { method: 'POST', url: `${sink.url}/hold?key=${key}` },
            },
            { id: '2', name: 'After', type: 'set', parameters: { values: { after: 'yes' } } },
          ],
          connections: {
            Start: { main: [[{ node: 'Restart cache', index: 0 }]] },
            'Restart cache': { main: [[{ node: 'After', index: 0 }]] },
          },
          settings: {},
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const { id: workflowId } = (await created.json()) as { id: number };
      const held = new Promise<void>((resolve) => (sink.onHold = () => resolve()));
      const run = await fetch(`${warden.url}/api/v1/workflows/${workflowId}/run`, {
        method: 'POST',
        headers: admin,
        body: '{}',
      });
      expect(run.status, await run.clone().text()).toBe(202);
      executionId = ((await run.json()) as { executionId: string }).executionId;
      await held;
      // The process dies with the request in flight, then comes back.
      await warden.stop('SIGKILL');
      warden = await startWarden({
        cwd,
        waitMs: 90_000,
        env: { ...env, WARDEN_PORT: String(warden.port) },
      });
      const again = await apiLogin('admin');
      await waitFor(
        async () =>
          (
            (await (
              await fetch(`${warden.url}/api/v1/executions/${executionId}`, { headers: again })
            ).json()) as { status: string }
          ).status === 'needs_attention',
        'the restarted Warden stops the interrupted execution as needs_attention',
        20_000,
        100,
      );

      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(8_000);
    }, 200_000);

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail' && page)
        await shoot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
    });

    afterAll(async () => {
      await browser?.close();
      await warden?.stop('SIGKILL');
      await ollama?.close();
      await sink?.close();
      await db?.drop();
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    });

    it('a viewer sees the warning but no button, and the API refuses them', async () => {
      const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const p = await logIn(viewerContext, 'vera', `/executions/${executionId}`);
        await p.getByRole('heading', { name: 'Nodes' }).waitFor();
        await p.getByText('Restart cache: node "Restart cache" has side effects').waitFor();
        expect(await p.getByRole('button', { name: 'Mark as done' }).count()).toBe(0);
        expect(await p.getByRole('button', { name: 'Retry from the start' }).count()).toBe(0);
        const res = await fetch(`${warden.url}/api/v1/executions/${executionId}/mark-done`, {
          method: 'POST',
          headers: await apiLogin('vera'),
          body: JSON.stringify({ reason: 'I looked' }),
        });
        expect(res.status).toBe(403);
      } finally {
        await viewerContext.close();
      }
    });

    it('an operator marks it as done with what they checked; nothing runs again', async () => {
      page = await logIn(context, 'olga', `/executions/${executionId}`);
      await page.getByRole('heading', { name: 'Nodes' }).waitFor();
      const form = page.getByRole('form', { name: 'Mark as done' });
      await page.getByText('If it took effect, mark the execution as done').waitFor();
      expect(await page.getByRole('button', { name: 'Retry from the start' }).count()).toBe(1);
      // No reason, no button.
      expect(await form.getByRole('button', { name: 'Mark as done' }).isDisabled()).toBe(true);
      await form.getByLabel('What you checked').fill('the cache restarted at 05:02, per its log');
      await shoot(page, 'execution-needs-attention');
      expect(await axe(page)).toEqual([]);
      await form.getByRole('button', { name: 'Mark as done' }).click();

      await page
        .getByRole('status')
        .filter({ hasText: 'Marked as done by user:olga' })
        .filter({ hasText: 'the cache restarted at 05:02, per its log' })
        .waitFor();
      const facts = page.getByLabel('Execution facts');
      await facts.getByText('succeeded', { exact: true }).waitFor();
      expect(await page.getByRole('form', { name: 'Mark as done' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Retry from the start' }).count()).toBe(0);
      await shoot(page, 'execution-marked-done');
      expect(await axe(page)).toEqual([]);

      const ex = (await (
        await fetch(`${warden.url}/api/v1/executions/${executionId}`, {
          headers: await apiLogin('olga'),
        })
      ).json()) as {
        status: string;
        result: { markedDone: { by: string; reason: string } };
        steps: { nodeName: string; status: string }[];
      };
      expect(ex.status).toBe('succeeded');
      expect(ex.result.markedDone).toMatchObject({
        by: 'user:olga',
        reason: 'the cache restarted at 05:02, per its log',
      });
      expect(ex.steps.find((s) => s.nodeName === 'Restart cache')?.status).toBe('succeeded');
      expect(ex.steps.map((s) => s.nodeName)).not.toContain('After');
      // The held request was the only one: nothing was sent again.
      expect(sink.hits.get(`/hold?${key}`)).toBe(1);
    });
  },
);
