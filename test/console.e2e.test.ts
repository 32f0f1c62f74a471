// The web console in a real Chromium against a real `warden start`: the
// setup link ends in the console, an Uptime Kuma alert appears live, the
// incident page shows the timeline and the approval the pipeline asked for,
// an execution's nodes can be followed, an expired session comes back to the
// same page after login, and a viewer sees no button that changes anything
// while the API refuses it anyway. axe-core checks every page. The only
// stand-in is the model (the scripted Ollama test server).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { startWarden } from './helpers/cli.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import { ensureConsoleBuilt } from './helpers/console-browser.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const artefacts = join(root, 'test-artifacts', 'console');

function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}
const chromiumPath = findChromium();
const skipReason = 'no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)';
if (!chromiumPath) console.warn(`console.e2e: skipped: ${skipReason}`);

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

type AxeResult = {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
};

/** axe-core in the page; the serious and critical violations, in words. */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] })`,
  )) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`,
    );
}

/** The whole page, and what fits the window (the README's pictures). */
async function shoot(page: Page, name: string) {
  await page.screenshot({ path: join(artefacts, `${name}.png`), fullPage: true });
  await page.screenshot({ path: join(artefacts, `${name}-window.png`) });
}

const diagnosis = JSON.stringify({
  summary: 'shop-web refuses connections on port 8080',
  rootCause: 'The shop-web process is not listening',
  confidence: 0.8,
  action: { name: 'system.resources', parameters: {} },
  risk: 'dangerous',
});

describe.skipIf(!chromiumPath)(
  `console in Chromium${chromiumPath ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let warden: RunningWarden;
    let ollama: OllamaTestServer;
    let browser: Browser;
    let admin: BrowserContext;
    let page: Page;
    let cwd: string;
    let incidentId: number;
    let kumaToken: string;
    const cspErrors: string[] = [];
    const password = 'a long enough password';

    /** Logs in from Node; the cookie header and CSRF token for API calls. */
    async function apiLogin(username: string) {
      const res = await fetch(`${warden.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(res.status).toBe(200);
      const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
      const { csrfToken } = (await res.json()) as { csrfToken: string };
      return { cookie, csrfToken };
    }

    async function watch(p: Page) {
      p.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text()))
          cspErrors.push(m.text());
      });
      return p;
    }

    beforeAll(async () => {
      mkdirSync(artefacts, { recursive: true });
      // Test what the source builds today, not a stale bundle.
      ensureConsoleBuilt();
      ollama = await OllamaTestServer.start();
      cwd = mkdtempSync(join(tmpdir(), 'warden-console-'));
      warden = await startWarden({
        cwd,
        // A loaded machine can take a while for the first start's migrations.
        waitMs: 90_000,
        env: {
          OLLAMA_URL: ollama.url,
          MEMORY_EMBEDDER: 'lexical',
          LLM_RETRIES: '0',
          WARDEN_HEAL_EVIDENCE_ACTIONS: 'system.resources',
          WARDEN_HEAL_VERIFY_TIMEOUT_MS: '1000',
          WARDEN_HEAL_VERIFY_INTERVAL_MS: '250',
          LOG_LEVEL: 'info',
        },
      });
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      // Fail on a missing element well before the test's own timeout, with its name.
      admin.setDefaultTimeout(8_000);
      page = await watch(await admin.newPage());
    }, 150_000);

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail' && page)
        await shoot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
    });

    afterAll(async () => {
      await browser?.close();
      await warden?.stop('SIGKILL');
      await ollama?.close();
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    });

    it('has an axe check that finds a serious violation when there is one', async () => {
      const p = await admin.newPage();
      try {
        await p.setContent('<html><body><img src="data:,"><button></button></body></html>');
        expect((await axe(p)).join('\n')).toMatch(/button-name|image-alt/);
      } finally {
        await p.close();
      }
    });

    it('serves the console at / and keeps API paths answering JSON 404s', async () => {
      const index = await fetch(`${warden.url}/incidents/7`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/text\/html/);
      expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      const html = await index.text();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeTruthy();
      const js = await fetch(`${warden.url}${script}`);
      expect(js.status).toBe(200);
      expect(js.headers.get('cache-control')).toMatch(/immutable/);
      const missing = await fetch(`${warden.url}/api/v1/nothing-here`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
        'route_not_found',
      );
      expect((await fetch(`${warden.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
      expect((await fetch(`${warden.url}/api/v1/dashboard`)).status).toBe(401);
      expect((await fetch(`${warden.url}/api/v1/events`)).status).toBe(401);
    });

    it('creates the admin from the setup link and lands on the dashboard', async () => {
      const token = /setup\?token=(\S+)/.exec(warden.output())?.[1];
      expect(token, 'the setup link is printed').toBeTruthy();
      await page.goto(`${warden.url}/setup?token=${token}`);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel(/Password/).fill(password);
      await page.getByRole('button', { name: 'Create administrator' }).click();
      await page.waitForURL(`${warden.url}/`);
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent())
        .toBe('Dashboard');
      await page.getByRole('heading', { name: 'Open incidents' }).waitFor();
      expect(await page.getByText('admin (admin)').count()).toBe(1);
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Live' }).count()).toBe(1);
      await shoot(page, 'dashboard-empty');
      expect(await axe(page)).toEqual([]);
    });

    it('shows an Uptime Kuma alert as a new incident without a reload', async () => {
      await page.getByRole('link', { name: 'Incidents', exact: true }).click();
      await page.getByRole('heading', { name: 'Incidents' }).waitFor();
      await page.getByText('No incidents match.').waitFor();
      // Consensus is not asked for a dangerous action: the diagnosis alone leads to an approval.
      ollama.script({ content: diagnosis });
      const { cookie, csrfToken } = await apiLogin('admin');
      const endpoint = await fetch(`${warden.url}/api/v1/alert-endpoints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({ name: 'kuma', source: 'uptime-kuma' }),
      });
      expect(endpoint.status).toBe(201);
      const { token } = (await endpoint.json()) as { token: string };
      kumaToken = token;
      const alert = readFileSync(join(root, 'test/fixtures/alerts/uptime-kuma-down.json'), 'utf8');
      const posted = await fetch(`${warden.url}/api/v1/alerts/uptime-kuma`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: alert,
      });
      expect(posted.status, await posted.clone().text()).toBeLessThan(300);
      const row = page.getByRole('link', { name: /shop-web/ });
      await row.first().waitFor({ timeout: 15_000 });
      const href = await row.first().getAttribute('href');
      incidentId = Number(/\/incidents\/(\d+)/.exec(href ?? '')?.[1]);
      expect(incidentId).toBeGreaterThan(0);
      await shoot(page, 'incidents');
      expect(await axe(page)).toEqual([]);
    });

    it('opens the incident page with its timeline and the pending approval', async () => {
      await page
        .getByRole('link', { name: /shop-web/ })
        .first()
        .click();
      await page
        .getByRole('heading', { level: 1, name: new RegExp(`Incident #${incidentId}`) })
        .waitFor();
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
      // The healing pipeline's steps arrive live: memory search, diagnosis, then the approval.
      await page
        .getByRole('heading', { name: 'Waiting for approval' })
        .waitFor({ timeout: 20_000 });
      const timeline = page.getByRole('list').filter({ has: page.getByText('memory.matches') });
      expect(await timeline.getByText('diagnosis', { exact: true }).count()).toBeGreaterThan(0);
      // Why it waits, in words: the diagnosis with its root cause and confidence.
      const waiting = page.getByRole('region', { name: 'Waiting for approval' });
      await waiting.getByText('The shop-web process is not listening', { exact: true }).waitFor();
      expect(await waiting.getByText('80 %', { exact: true }).count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Reject' }).count()).toBe(1);
      await shoot(page, 'incident');
      expect(await axe(page)).toEqual([]);
      // On a phone the approval is still usable.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('button', { name: 'Approve' }).scrollIntoViewIfNeeded();
      await shoot(page, 'incident-phone');
      expect(await axe(page)).toEqual([]);
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    it('a viewer sees no buttons that change anything, and the API refuses them anyway', async () => {
      const { cookie, csrfToken } = await apiLogin('admin');
      const created = await fetch(`${warden.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({ username: 'vera', password, role: 'viewer' }),
      });
      expect(created.status).toBe(201);
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(8_000);
      try {
        const v = await watch(await context.newPage());
        await v.goto(`${warden.url}/incidents/${incidentId}`);
        await v.getByLabel('Username').fill('vera');
        await v.getByLabel('Password').fill(password);
        await v.getByRole('button', { name: 'Log in' }).click();
        await v.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
        await v.getByText('An operator or admin decides this approval.').waitFor();
        expect(await v.getByRole('link', { name: 'Admin' }).count()).toBe(0);
        // Moving to /admin inside the app shows no admin data either.
        await v.evaluate(
          "history.pushState(null, '', '/admin'); dispatchEvent(new PopStateEvent('popstate'))",
        );
        await v.getByText('Only an admin can manage users, keys and alert endpoints.').waitFor();
        expect(await v.getByRole('table').count()).toBe(0);
        await v.goBack();
        await v.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
        const buttons = await v.getByRole('button').allTextContents();
        expect(buttons).toEqual(['Log out']);
        expect(await axe(v)).toEqual([]);
        await shoot(v, 'incident-viewer');
        const refused = await v.evaluate(async (id) => {
          const s = (await (await fetch('/api/v1/console/session')).json()) as {
            csrfToken: string;
          };
          const res = await fetch(`/api/v1/incidents/${id}/approve`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
            body: JSON.stringify({ comment: 'a viewer tries' }),
          });
          return { status: res.status, body: (await res.json()) as { error: { code: string } } };
        }, incidentId);
        expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
        // No button on an execution either.
        await v.getByRole('link', { name: 'Executions', exact: true }).click();
        await v.getByRole('table').getByRole('link').first().click();
        await v.getByRole('heading', { name: 'Nodes' }).waitFor();
        expect(await v.getByRole('button').allTextContents()).toEqual(['Log out']);
      } finally {
        await context.close();
      }
    });

    it('approves with a reason and sees the action run on the timeline', async () => {
      await page.getByLabel(/Reason/).fill('checked by hand: safe to read resources');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByRole('heading', { name: 'Approvals' }).waitFor();
      const decided = page
        .getByRole('region', { name: 'Approvals' })
        .getByRole('listitem')
        .filter({ hasText: 'checked by hand' });
      await decided.getByText('approved', { exact: true }).waitFor();
      expect(await decided.textContent()).toMatch(/by user:admin/);
      await expect
        .poll(() => page.getByRole('heading', { name: 'Waiting for approval' }).count())
        .toBe(0);
      // The approved run happens in the engine; its result reaches the page over the stream.
      await page.getByText('action.result', { exact: true }).first().waitFor({ timeout: 20_000 });
    });

    it('follows an execution node by node', async () => {
      await page.getByRole('link', { name: 'Executions', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor();
      const first = page.getByRole('table').getByRole('link').first();
      await first.waitFor();
      // A new incident starts a healing run: its row appears without a reload.
      const before = await page.getByRole('table').getByRole('row').count();
      const posted = await fetch(`${warden.url}/api/v1/alerts/uptime-kuma`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${kumaToken}` },
        body: readFileSync(join(root, 'test/fixtures/alerts/uptime-kuma-port-tags.json'), 'utf8'),
      });
      expect(posted.status).toBe(200);
      await expect
        .poll(() => page.getByRole('table').getByRole('row').count(), { timeout: 15_000 })
        .toBeGreaterThan(before);
      await shoot(page, 'executions');
      expect(await axe(page)).toEqual([]);
      // Follow one that has finished, so the page and the API agree on its nodes.
      const { cookie } = await apiLogin('admin');
      let done: { id: string; steps: { nodeName: string }[] } | undefined;
      await expect
        .poll(
          async () => {
            const list = (await (
              await fetch(`${warden.url}/api/v1/executions?limit=20`, { headers: { cookie } })
            ).json()) as { executions: { id: string; status: string }[] };
            const ended = list.executions.find((e) =>
              ['succeeded', 'failed', 'needs_attention', 'canceled'].includes(e.status),
            );
            if (!ended) return false;
            done = (await (
              await fetch(`${warden.url}/api/v1/executions/${ended.id}`, { headers: { cookie } })
            ).json()) as { id: string; steps: { nodeName: string }[] };
            return true;
          },
          { timeout: 20_000 },
        )
        .toBe(true);
      await page.getByRole('link', { name: done!.id.slice(0, 8), exact: true }).click();
      await page.getByRole('heading', { name: 'Nodes' }).waitFor();
      expect(done!.steps.length).toBeGreaterThan(0);
      for (const step of done!.steps)
        expect(
          await page
            .getByRole('heading', { level: 3, name: new RegExp(`^${step.nodeName}`) })
            .count(),
        ).toBe(1);
      await shoot(page, 'execution');
      expect(await axe(page)).toEqual([]);
    });

    it('an expired session shows the login form and then the same page', async () => {
      await page.goto(`${warden.url}/incidents?severity=critical`);
      await page.getByRole('heading', { name: 'Incidents' }).waitFor();
      // End the browser's session from outside, as expiry would.
      const cookie = (await admin.cookies()).find((c) => c.name === 'warden_session')!;
      const csrf = (
        await page.evaluate(
          async () =>
            (await (await fetch('/api/v1/console/session')).json()) as { csrfToken: string },
        )
      ).csrfToken;
      const out = await fetch(`${warden.url}/api/v1/auth/logout`, {
        method: 'POST',
        headers: { cookie: `warden_session=${cookie.value}`, 'x-csrf-token': csrf },
      });
      expect(out.status).toBe(204);
      // The next read meets the 401: a new filter, unless a live update's
      // refetch got there first.
      await page
        .getByLabel('Status')
        .selectOption('resolved', { timeout: 2_000 })
        .catch(() => {});
      await page.getByText('Your session has expired').waitFor();
      const where = page.url();
      expect(where).toMatch(new RegExp(`^${warden.url}/incidents\\?severity=critical`));
      await shoot(page, 'login');
      expect(await axe(page)).toEqual([]);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Incidents' }).waitFor();
      expect(page.url()).toBe(where);
      expect(await page.getByLabel('Severity').inputValue()).toBe('critical');
    });

    it('searches memory and passes axe in the dark scheme too', async () => {
      // A monitor of Warden's own health shows on the dashboard once checked.
      const { cookie, csrfToken } = await apiLogin('admin');
      const headers = { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken };
      const created = await fetch(`${warden.url}/api/v1/monitors`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: 'warden-health',
          service: 'warden',
          spec: { kind: 'http', url: `${warden.url}/healthz` },
          intervalMs: 3_600_000,
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const { id: monitorId } = (await created.json()) as { id: number };
      const checked = await fetch(`${warden.url}/api/v1/monitors/${monitorId}/check`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrfToken },
      });
      expect(checked.status).toBe(200);
      await page.getByRole('link', { name: 'Dashboard' }).click();
      const monitors = page.getByRole('region', { name: 'Monitors' });
      await monitors.getByText(/warden-health \(warden\)/).waitFor();
      expect(await monitors.getByText('up', { exact: true }).count()).toBe(1);
      await shoot(page, 'dashboard');
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.getByRole('link', { name: 'Memory', exact: true }).click();
      await page.getByLabel('Alert text').fill('shop-web connection refused');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText(/Threshold for a fix to run by itself/).waitFor();
      expect(await axe(page)).toEqual([]);
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Open incidents' }).waitFor();
      expect(await axe(page)).toEqual([]);
      await shoot(page, 'dashboard-dark');
      await page.emulateMedia({ colorScheme: 'light' });
    });

    it('an admin adds an alert endpoint and a key, each secret shown once with the sender URL', async () => {
      await page.getByRole('link', { name: 'Admin', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
      await page.getByLabel('Endpoint name').fill('grafana-main');
      await page.getByLabel('Sender').selectOption('grafana');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const url = await page.getByLabel('Sender URL', { exact: true }).inputValue();
      expect(url).toMatch(/\/hooks\/alerts\/grafana\/\S+$/);
      // The URL works: a Grafana alert posted to it is accepted.
      const grafana = readFileSync(join(root, 'test/fixtures/alerts/grafana-firing.json'), 'utf8');
      const sent = await fetch(url.replace(/^https?:\/\/[^/]+/, warden.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: grafana,
      });
      expect(sent.status).toBe(200);
      await page.getByLabel('Key name').fill('ci');
      await page.getByLabel('Key role').selectOption('viewer');
      await page.getByRole('button', { name: 'Create key' }).click();
      const key = await page.getByLabel('New API key', { exact: true }).inputValue();
      const me = await fetch(`${warden.url}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(await me.json()).toMatchObject({ kind: 'api_key', role: 'viewer' });
      await page.getByRole('button', { name: 'Revoke ci' }).waitFor();
      await shoot(page, 'admin');
      expect(await axe(page)).toEqual([]);
      // Shown once: after a reload the secret is gone from the page.
      await page.reload();
      await page.getByRole('button', { name: 'Revoke ci' }).waitFor();
      expect(await page.getByLabel('New API key', { exact: true }).count()).toBe(0);
    });

    it('logs out to the login form', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      expect(
        (
          await fetch(`${warden.url}/api/v1/dashboard`, {
            headers: { cookie: `warden_session=${(await admin.cookies())[0]?.value ?? ''}` },
          })
        ).status,
      ).toBe(401);
      expect(cspErrors).toEqual([]);
    });
  },
);
