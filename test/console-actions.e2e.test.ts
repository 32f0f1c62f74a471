// The console's incident actions, catalogue, audit log and storm panel in a
// real Chromium against a real `warden start` (healing off, so incidents
// wait for people): an operator acknowledges, adds a note, is stopped by
// the resolve form before sending a fix without its parameters, and reopens
// a resolved incident, each landing on the timeline with the operator's
// name; a viewer sees none of those buttons and the API refuses them; the
// catalogue lists the actions with their risk and parameters; the audit
// page filters records and shows the chain intact. axe-core on each page.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { startWarden } from './helpers/cli.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import {
  axe,
  ensureConsoleBuilt,
  findChromium,
  loginHeaders,
  setUpUsers,
  noChromium,
  repoRoot,
  shoot,
} from './helpers/console-browser.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';

const chromiumPath = findChromium();
if (!chromiumPath) console.warn(`console-actions.e2e: skipped: ${noChromium}`);

describe.skipIf(!chromiumPath)(
  `console incident actions in Chromium${chromiumPath ? '' : ` (skipped: ${noChromium})`}`,
  () => {
    let warden: RunningWarden;
    let ollama: OllamaTestServer;
    let sink: HttpSink;
    const webhookSecret = 'console-webhook-secret-91c2';
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let cwd: string;
    let incidentId: number;
    let kumaToken: string;
    const password = 'a long enough password';
    const cspErrors: string[] = [];

    const apiLogin = (username: string) => loginHeaders(warden.url, username, password);

    async function logIn(c: BrowserContext, username: string, path: string): Promise<Page> {
      const p = await c.newPage();
      p.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text()))
          cspErrors.push(m.text());
      });
      await p.goto(`${warden.url}${path}`);
      await p.getByLabel('Username').fill(username);
      await p.getByLabel('Password').fill(password);
      await p.getByRole('button', { name: 'Log in' }).click();
      return p;
    }

    function kuma(fixture: string) {
      return fetch(`${warden.url}/api/v1/alerts/uptime-kuma`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${kumaToken}` },
        body: readFileSync(join(repoRoot, `test/fixtures/alerts/${fixture}`), 'utf8'),
      });
    }

    beforeAll(async () => {
      ensureConsoleBuilt();
      ollama = await OllamaTestServer.start();
      sink = await startHttpSink();
      cwd = mkdtempSync(join(tmpdir(), 'warden-console-actions-'));
      warden = await startWarden({
        cwd,
        waitMs: 90_000,
        env: {
          OLLAMA_URL: ollama.url,
          MEMORY_EMBEDDER: 'lexical',
          WARDEN_HEAL_ENABLED: 'false',
          WARDEN_NOTIFY_WEBHOOK_URL: `${sink.url}/notify`,
          WARDEN_NOTIFY_WEBHOOK_SECRET: webhookSecret,
          LOG_LEVEL: 'info',
        },
      });
      const admin = await setUpUsers(warden, password);
      const endpoint = await fetch(`${warden.url}/api/v1/alert-endpoints`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'kuma', source: 'uptime-kuma' }),
      });
      kumaToken = ((await endpoint.json()) as { token: string }).token;
      const posted = await kuma('uptime-kuma-down.json');
      const body = (await posted.json()) as { results: { incidentId: number | null }[] };
      incidentId = body.results[0]!.incidentId!;
      expect(incidentId).toBeGreaterThan(0);
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(8_000);
      page = await logIn(context, 'olga', `/incidents/${incidentId}`);
    }, 150_000);

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail' && page)
        await shoot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
    });

    afterAll(async () => {
      await browser?.close();
      await warden?.stop('SIGKILL');
      await ollama?.close();
      await sink?.close();
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    });

    it('an operator acknowledges and adds a note, each on the timeline with their name', async () => {
      const actions = page.getByRole('region', { name: 'Act on this incident' });
      await actions.getByRole('button', { name: 'Acknowledge' }).click();
      await actions.getByText('Acknowledged by').waitFor();
      expect(await actions.getByText('user:olga', { exact: true }).count()).toBe(1);
      expect(await actions.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
      const timeline = page.getByRole('region', { name: 'Timeline' });
      await timeline.getByText('acknowledged by user:olga').waitFor();

      await page.getByLabel('Note', { exact: true }).fill('the shop answers 502 behind nginx');
      await page.getByRole('button', { name: 'Add note' }).click();
      await timeline.getByText('the shop answers 502 behind nginx').waitFor();
      expect(await page.getByLabel('Note', { exact: true }).inputValue()).toBe('');
      const note = timeline.getByRole('listitem').filter({ hasText: 'the shop answers 502' });
      expect(await note.textContent()).toMatch(/by user:olga/);
      await shoot(page, 'incident-actions');
      expect(await axe(page)).toEqual([]);
    });

    it('an operator attaches a screenshot and the vision model describes it on the timeline', async () => {
      ollama.models.set('llava:7b', {
        name: 'llava:7b',
        size: 4_733_363_377,
        family: 'llama',
        parameterSize: '7B',
      });
      ollama.script({ content: 'The checkout page shows "502 Bad Gateway" from nginx.' });
      // A real 1x1 PNG.
      const png = Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
        'base64',
      );
      const form = page.getByRole('form', { name: 'Attach an image' });
      await form
        .getByLabel(/Screenshot or graph/)
        .setInputFiles({ name: 'checkout.png', mimeType: 'image/png', buffer: png });
      await form.getByRole('button', { name: 'Attach image' }).click();
      const images = page.getByRole('region', { name: 'Images' });
      await images.getByRole('img', { name: 'Attachment 1: checkout.png' }).waitFor();
      await expect
        .poll(() =>
          images.getByRole('img').evaluate((img) => (img as { naturalWidth: number }).naturalWidth),
        )
        .toBe(1);
      const timeline = page.getByRole('region', { name: 'Timeline' });
      await timeline
        .getByText('The checkout page shows "502 Bad Gateway" from nginx.')
        .waitFor({ timeout: 15_000 });
      expect(ollama.imagesSent().at(-1)).toEqual([png.toString('base64')]);
      expect(ollama.requestsTo('/api/chat').at(-1)!.body.model).toBe('llava:7b');
      await shoot(page, 'incident-image');
      expect(await axe(page)).toEqual([]);
    });

    it('the resolve form offers the catalogue with typed parameters and names what is missing', async () => {
      const form = page.getByRole('form', { name: 'Resolve by hand' });
      await form.getByLabel('Root cause').fill('nginx lost its upstream after a deploy');
      await form.getByLabel('Fix action').selectOption('docker.restart');
      await form
        .getByRole('group', { name: /docker\.restart/ })
        .getByText('change')
        .waitFor();
      await form.getByRole('button', { name: 'Resolve and remember' }).click();
      await form.getByRole('alert').getByText('Give a value for container.').waitFor();
      await form.getByLabel(/^container/).fill('shop-web');
      await form.getByLabel(/Evidence/).fill('502 from nginx\nupstream connect refused');
      expect(await axe(page)).toEqual([]);
      // The resolve endpoint records the fix in memory; on a Warden without it the form says so.
      const admin = await apiLogin('admin');
      const probe = await fetch(`${warden.url}/api/v1/incidents/${incidentId}/resolve`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({}),
      });
      await form.getByRole('button', { name: 'Resolve and remember' }).click();
      if (probe.status === 404) {
        await form.getByText('no resolve endpoint').waitFor();
      } else {
        await page
          .getByRole('region', { name: 'Incident facts' })
          .or(page.getByLabel('Incident facts'))
          .getByText('resolved', { exact: true })
          .waitFor();
      }
    });

    it('memory: an operator imports a runbook, disables the fix, then forgets it', async (ctx) => {
      // Import and correction come with the memory-teaching routes; without them this is skipped.
      const admin = await apiLogin('admin');
      const probe = await fetch(`${warden.url}/api/v1/memory/import`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({}),
      });
      const code =
        probe.status === 404
          ? ((await probe.json()) as { error: { code: string } }).error.code
          : '';
      if (code === 'route_not_found') {
        console.warn(
          'console-actions.e2e: memory editing skipped: POST /api/v1/memory/import is not on this Warden',
        );
        ctx.skip();
        return;
      }
      await page.getByRole('link', { name: 'Memory', exact: true }).click();
      const title = 'shop-web 502 because its container stopped';
      await page
        .getByLabel('Runbook YAML')
        .fill(
          [
            'runbooks:',
            `  - title: ${title}`,
            '    service: shop-web',
            '    symptoms: shop-web answers 502',
            '    rootCause: the shop-web container stopped',
            '    fix:',
            '      action: docker.restart',
            '      parameters: { container: shop-web }',
          ].join('\n'),
        );
      await page.getByRole('button', { name: 'Import runbooks' }).click();
      await page.getByText(`Imported 1: ${title}`).waitFor();
      await page.getByRole('link', { name: title }).click();
      await page.getByRole('heading', { level: 1, name: `Remembered: ${title}` }).waitFor();
      const form = page.getByRole('form', { name: 'Correct the remembered fix' });
      await form.getByLabel(/Disabled/).check();
      await form.getByRole('button', { name: 'Save correction' }).click();
      await form.getByText('Saved.').waitFor();
      await page.getByLabel('Remembered fix').getByText('disabled', { exact: true }).waitFor();
      await shoot(page, 'memory-record');
      expect(await axe(page)).toEqual([]);
      await page.getByRole('button', { name: 'Forget this fix' }).click();
      await page.getByRole('button', { name: 'Forget for good' }).click();
      await page.getByRole('heading', { level: 1, name: 'Memory' }).waitFor();
      await expect.poll(() => page.getByRole('link', { name: title }).count()).toBe(0);
      await page.goto(`${warden.url}/incidents/${incidentId}`);
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    });

    it('reopens a resolved incident with a reason, and the viewer can do none of it', async () => {
      const resolved = await kuma('uptime-kuma-up.json');
      expect(resolved.status).toBe(200);
      const facts = page.getByLabel('Incident facts');
      await facts.getByText('resolved', { exact: true }).waitFor({ timeout: 15_000 });
      await page.getByLabel(/Why reopen/).fill('customers still see errors');
      await page.getByRole('button', { name: 'Reopen' }).click();
      await facts.getByText('open', { exact: true }).waitFor();
      await page
        .getByRole('region', { name: 'Timeline' })
        .getByText('reopened by user:olga: customers still see errors')
        .waitFor();
      // Reopened, it can be acknowledged again.
      await page.getByRole('button', { name: 'Acknowledge' }).waitFor();
      expect(await axe(page)).toEqual([]);

      const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      viewerContext.setDefaultTimeout(8_000);
      try {
        const v = await logIn(viewerContext, 'vera', `/incidents/${incidentId}`);
        await v.getByRole('heading', { name: 'Timeline' }).waitFor();
        await v.getByText('customers still see errors').first().waitFor();
        expect(await v.getByRole('button').allTextContents()).toEqual(['Log out']);
        expect(await v.getByRole('form').count()).toBe(0);
        const refused = await v.evaluate(async (id) => {
          const s = (await (await fetch('/api/v1/console/session')).json()) as {
            csrfToken: string;
          };
          const out: number[] = [];
          for (const [path, body] of [
            ['acknowledge', {}],
            ['notes', { text: 'a viewer writes' }],
            ['reopen', {}],
          ] as const) {
            const res = await fetch(`/api/v1/incidents/${id}/${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
              body: JSON.stringify(body),
            });
            out.push(res.status);
          }
          return out;
        }, incidentId);
        expect(refused).toEqual([403, 403, 403]);
        await shoot(v, 'incident-actions-viewer');
      } finally {
        await viewerContext.close();
      }
    });

    it('shows the catalogue with each action’s risk and parameters', async () => {
      await page.getByRole('link', { name: 'Catalogue', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Action catalogue' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: 'docker.restart' });
      await row.waitFor();
      expect(await row.getByText('change', { exact: true }).count()).toBe(1);
      expect(await row.getByText('container: a container').count()).toBe(1);
      const postgres = page.getByRole('row').filter({ hasText: 'postgres.ready' });
      expect(await postgres.getByText(/port: integer 1 to 65535 \(default 5432\)/).count()).toBe(1);
      // An operator sees no Audit link: the audit log is for admins.
      expect(await page.getByRole('link', { name: 'Audit', exact: true }).count()).toBe(0);
      await shoot(page, 'catalogue');
      expect(await axe(page)).toEqual([]);
    });

    it('an admin filters the audit log and sees the chain verified', async () => {
      const admin = await apiLogin('admin');
      // A monitor that runs a read action leaves an allowed record; one asking for a file
      // outside the log directories a refused one.
      for (const [action, params] of [
        ['system.resources', {}],
        ['log.tail', { path: '/etc/shadow' }],
      ] as const) {
        const created = await fetch(`${warden.url}/api/v1/monitors`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({
            name: `audit-${action}`,
            service: 'warden',
            spec: { kind: 'action', action, params },
            intervalMs: 3_600_000,
          }),
        });
        expect(created.status, await created.clone().text()).toBe(201);
        const { id } = (await created.json()) as { id: number };
        await fetch(`${warden.url}/api/v1/monitors/${id}/check`, {
          method: 'POST',
          headers: { cookie: admin.cookie, 'x-csrf-token': admin['x-csrf-token'] },
        });
      }
      const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      adminContext.setDefaultTimeout(8_000);
      try {
        const a = await logIn(adminContext, 'admin', '/audit');
        await a.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
        await a.getByText('The chain is intact').waitFor();
        const table = a.getByRole('table');
        await table.getByText('system.resources').first().waitFor();
        await a.getByLabel('Decision').selectOption('refused');
        await expect.poll(() => a.url()).toMatch(/decision=refused/);
        await expect
          .poll(async () => {
            const decisions = await table.locator('tbody .badge').allTextContents();
            return decisions.length > 0 && decisions.every((d) => d === 'refused');
          })
          .toBe(true);
        await a.getByLabel('Decision').selectOption('');
        await a.getByLabel('Actor').fill('monitor');
        await table.getByText('system.resources').first().waitFor();
        await shoot(a, 'audit');
        expect(await axe(a)).toEqual([]);
        await a.getByRole('link', { name: 'Dashboard', exact: true }).click();
        const storm = a.getByRole('region', { name: 'Automatic actions' });
        await storm.getByText(/switched off/).waitFor();
        expect(await axe(a)).toEqual([]);
      } finally {
        await adminContext.close();
      }
      expect(cspErrors).toEqual([]);
    });

    it('an admin tests the notification channel, runs maintenance, adds and pauses a monitor, reads the settings', async () => {
      const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      adminContext.setDefaultTimeout(8_000);
      try {
        const a = await logIn(adminContext, 'admin', '/admin');
        await a.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
        const channels = a.getByRole('region', { name: 'Notification channels' });
        await channels.getByText('webhook', { exact: true }).waitFor();
        expect(await a.content()).not.toContain(webhookSecret);
        const before = sink.requests.length;
        await channels.getByRole('button', { name: 'Send a test notification' }).click();
        await channels.getByRole('status', { name: 'Test results' }).getByText('sent').waitFor();
        await expect.poll(() => sink.requests.length).toBe(before + 1);
        expect(sink.requests.at(-1)!.body).toContain('Warden test notification');

        const maintenance = a.getByRole('region', { name: 'Maintenance windows' });
        await maintenance.getByLabel('Service (empty: all)').fill('db');
        await maintenance.getByLabel('Reason').fill('postgres upgrade');
        await maintenance.getByRole('button', { name: 'Start maintenance' }).click();
        const window = maintenance.getByRole('listitem').filter({ hasText: 'postgres upgrade' });
        await window.getByText('in effect').waitFor();
        await window.getByRole('button', { name: /End the window for db/ }).click();
        await expect.poll(() => window.count()).toBe(0);

        const monitors = a.getByRole('region', { name: 'Monitors' });
        await monitors.getByLabel('Monitor name').fill('warden-port');
        await monitors.getByLabel('Monitor service').fill('warden');
        await monitors.getByLabel('Check type').selectOption('tcp');
        await monitors.getByLabel('Host:port').fill(`127.0.0.1:${new URL(warden.url).port}`);
        await monitors.getByLabel('Every (seconds)').fill('3600');
        await monitors.getByRole('button', { name: 'Add monitor' }).click();
        // Its first check runs on creation (by schedule); two more by hand: at least two, all up.
        await monitors.getByRole('button', { name: 'Check warden-port now' }).click();
        await monitors.getByRole('button', { name: 'Check warden-port now' }).click();
        await monitors
          .getByRole('list', { name: /warden-port recent checks: ([2-9]|\d\d) of \1 checks up/ })
          .waitFor();
        await monitors.getByRole('button', { name: 'Pause warden-port' }).click();
        await monitors.getByRole('button', { name: 'Resume warden-port' }).waitFor();
        const row = monitors.getByRole('row').filter({ hasText: 'warden-port' });
        expect(await row.getByText('paused', { exact: true }).count()).toBe(1);

        const settings = a.getByRole('region', { name: 'Settings' });
        await settings.getByText(/All \d+ settings/).click();
        const secretRow = settings
          .getByRole('row')
          .filter({ hasText: 'WARDEN_NOTIFY_WEBHOOK_SECRET' });
        expect(await secretRow.getByText('********').count()).toBe(1);
        await shoot(a, 'admin-operations');
        expect(await axe(a)).toEqual([]);

        await a.getByRole('link', { name: 'Dashboard', exact: true }).click();
        await a
          .getByRole('region', { name: 'Monitors' })
          .getByRole('list', { name: /warden-port recent checks: ([2-9]|\d\d) of \1 checks up/ })
          .waitFor();
        await shoot(a, 'dashboard-heartbeat');
        expect(await axe(a)).toEqual([]);
      } finally {
        await adminContext.close();
      }
    });
  },
);
