// Teaching Warden from the console, in a real Chromium against a real
// `warden start` with supervisord running a demo service: the model's first
// answer is refused (an action outside the catalogue), so the incident is
// escalated; an operator resolves it by hand (root cause, supervisor.restart
// chosen from the catalogue with its program, the evidence line copied from
// the alert's logs). The demo service then dies again and the same alert
// arrives with the same log line: the remembered fix runs by itself, with no
// model call, the service comes back, and the new incident's timeline shows
// it live.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { startWarden } from './helpers/cli.ts';
import {
  axe,
  ensureConsoleBuilt,
  findChromium,
  loginHeaders,
  noChromium,
  shoot,
} from './helpers/console-browser.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import { describeUnless, missingPrograms, programs } from './helpers/programs.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';
import type { Supervisor } from './helpers/supervisor.ts';
import { startSupervisor } from './helpers/supervisor.ts';
import { waitFor } from './helpers/wait.ts';

const chromiumPath = findChromium();
const needs =
  missingPrograms([programs.supervisord, programs.supervisorctl]) ??
  (chromiumPath ? undefined : noChromium);

const logLine =
  '2026/12/01 10:00:01 [error] 311#311: *933 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.4, server: demo.example.org';

describeUnless(needs, 'console: resolve by hand, then the recurrence is fixed from memory', () => {
  let warden: RunningWarden;
  let ollama: OllamaTestServer;
  let sup: Supervisor;
  let db: TestDatabase;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cwd: string;
  let alertToken: string;
  let firstId: number;
  const password = 'a long enough password';

  const apiLogin = (username: string) => loginHeaders(warden.url, username, password);

  /** The demo service is down: Alertmanager says so, with the proxy's log line. */
  async function alert(
    startsAt: string,
    status: 'firing' | 'resolved' = 'firing',
  ): Promise<number> {
    const labels = { alertname: 'DemoDown', service: 'demo', severity: 'critical' };
    const res = await fetch(`${warden.url}/api/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alertToken}` },
      body: JSON.stringify({
        version: '4',
        status,
        receiver: 'warden',
        groupLabels: { alertname: 'DemoDown' },
        commonLabels: labels,
        commonAnnotations: {},
        alerts: [
          {
            status,
            labels,
            annotations: { summary: 'demo returns 502 Bad Gateway', logs: logLine },
            startsAt,
            endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
            fingerprint: `demo-${startsAt}`,
          },
        ],
      }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const body = (await res.json()) as { results: { incidentId: number | null }[] };
    return body.results[0]!.incidentId!;
  }

  async function incident(id: number, headers: Record<string, string>) {
    return (await (await fetch(`${warden.url}/api/v1/incidents/${id}`, { headers })).json()) as {
      incident: { status: string };
      events: { type: string }[];
    };
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    sup = await startSupervisor('demo');
    ollama = await OllamaTestServer.start();
    db = await createTestDatabase();
    cwd = mkdtempSync(join(tmpdir(), 'warden-console-healing-'));
    warden = await startWarden({
      cwd,
      waitMs: 90_000,
      env: {
        DATABASE_URL: db.url,
        OLLAMA_URL: ollama.url,
        LLM_RETRIES: '0',
        MEMORY_EMBEDDER: 'lexical',
        WARDEN_EXEC_ALLOWED_UNITS: 'demo',
        WARDEN_SUPERVISOR_CONFIG: sup.configPath,
        WARDEN_HEAL_EVIDENCE_ACTIONS: 'supervisor.status',
        WARDEN_HEAL_VERIFY_TIMEOUT_MS: '20000',
        WARDEN_HEAL_VERIFY_INTERVAL_MS: '250',
      },
    });
    // The link may be printed a moment after /healthz first answers.
    await waitFor(() => /setup\?token=\S+/.test(warden.output()), 'the setup link is printed');
    const token = /setup\?token=(\S+)/.exec(warden.output())?.[1];
    expect(token, 'the setup link is printed').toBeTruthy();
    const setup = await fetch(`${warden.url}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, username: 'admin', password }),
    });
    expect(setup.status, await setup.clone().text()).toBeLessThan(300);
    const admin = await apiLogin('admin');
    const user = await fetch(`${warden.url}/api/v1/users`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username: 'olga', password, role: 'operator' }),
    });
    expect(user.status).toBe(201);
    const endpoint = await fetch(`${warden.url}/api/v1/alert-endpoints`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'am', source: 'alertmanager' }),
    });
    alertToken = ((await endpoint.json()) as { token: string }).token;

    // The first time, the model proposes what the catalogue lacks: escalated.
    ollama.script({
      content: JSON.stringify({
        summary: 'The demo service is down',
        rootCause: 'unknown',
        confidence: 0.5,
        action: { name: 'shell.exec', parameters: { command: 'supervisorctl restart demo' } },
        risk: 'change',
      }),
    });
    sup.killDemo();
    await sup.waitForDemo(false);
    firstId = await alert('2026-12-01T10:00:00Z');
    const deadline = Date.now() + 30_000;
    while ((await incident(firstId, admin)).incident.status !== 'escalated') {
      if (Date.now() > deadline)
        throw new Error(
          `incident ${firstId} was not escalated: ${JSON.stringify(await incident(firstId, admin)).slice(0, 3000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(8_000);
    page = await context.newPage();
    await page.goto(`${warden.url}/incidents/${firstId}`);
    await page.getByLabel('Username').fill('olga');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }, 200_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page)
      await shoot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  afterAll(async () => {
    await browser?.close();
    await warden?.stop('SIGKILL');
    await ollama?.close();
    await sup?.stop();
    await db?.drop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('resolves by hand with the fix from the catalogue and the evidence from the logs', async () => {
    await page
      .getByRole('heading', { level: 1, name: new RegExp(`Incident #${firstId}`) })
      .waitFor();
    // The log line is on the page, to be copied into the evidence.
    const shown = await page.getByText('connect() failed (111: Connection refused)').first();
    const copied = (await shown.textContent())!
      .split('\n')
      .find((l) => l.includes('connect() failed'))!
      .trim();
    expect(copied).toContain(logLine);
    const form = page.getByRole('form', { name: 'Resolve by hand' });
    await form.getByLabel('Root cause').fill('the demo process exited and nobody restarted it');
    await form.getByLabel('Fix action').selectOption('supervisor.restart');
    await form.getByLabel(/^program/).fill('demo');
    await form.getByLabel(/Evidence/).fill(logLine);
    expect(await axe(page)).toEqual([]);
    await form.getByRole('button', { name: 'Resolve and remember' }).click();
    await page.getByLabel('Incident facts').getByText('resolved', { exact: true }).waitFor();
    await shoot(page, 'incident-resolved-by-hand');
    // Resolving by hand records; it does not run the fix.
    await expect(fetch(`${sup.demoUrl}/health`)).rejects.toThrow();
  });

  it('fixes the recurrence from memory without the model, live on the new timeline', async () => {
    await ollama.reset();
    const second = await alert('2026-12-01T11:42:00Z');
    expect(second).not.toBe(firstId);
    await page.goto(`${warden.url}/incidents/${second}`);
    await page
      .getByRole('heading', { level: 1, name: new RegExp(`Incident #${second}`) })
      .waitFor();
    const timeline = page.getByRole('list').filter({ has: page.getByText('memory.matches') });
    // The remembered fix runs because its evidence is seen again, and the page shows it live.
    await timeline
      .getByText(/running supervisor\.restart .*known fix, its evidence confirmed/)
      .waitFor({ timeout: 15_000 });
    await timeline.getByText('supervisor.restart succeeded').waitFor({ timeout: 15_000 });
    await sup.waitForDemo(true);
    // With the service back, Alertmanager resolves the alert: that is the verification.
    await alert('2026-12-01T11:42:00Z', 'resolved');
    await timeline.getByText('the alert was resolved by its sender').waitFor({ timeout: 15_000 });
    await page.getByLabel('Incident facts').getByText('resolved', { exact: true }).waitFor();
    expect(await timeline.getByText('diagnosis', { exact: true }).count()).toBe(0);
    const chats = [...ollama.requestsTo('/api/chat'), ...ollama.requestsTo('/api/generate')];
    expect(chats).toEqual([]);
    await shoot(page, 'incident-fixed-from-memory');
    expect(await axe(page)).toEqual([]);
  }, 45_000);
});
