// The workflow editor in a real Chromium against a real `warden start`:
// webhook -> set (with an expression) -> if -> respond built from an empty canvas
// with mouse and keyboard, a validation error shown before saving, save,
// activate, call the webhook, the execution opened on the canvas with each
// node's data; two editors on one workflow (the second is warned, nothing is
// overwritten); undo/redo; import and an identical export; pinned data and
// "run up to this node"; completions in the expression editor by keyboard; a
// rename that rewrites references; every example of the gallery opened and
// exported unchanged; the auto-heal workflow read-only; and a 200-node
// canvas, timed and printed.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { startWarden } from './helpers/cli.ts';
import { ensureConsoleBuilt } from './helpers/console-browser.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const artefacts = join(root, 'test-artifacts', 'editor');

const chromiumPath = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
].find((p): p is string => !!p && existsSync(p));
const skipReason = 'no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)';
if (!chromiumPath) console.warn(`editor.e2e: skipped: ${skipReason}`);

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe-core in the page; the serious and critical violations, in words. */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
    violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`,
    );
}

/** A workflow in the normalised form the editor exports (ids, positions, connection lists). */
const branching = {
  name: 'Greeting with a branch',
  nodes: [
    {
      id: 'hook',
      name: 'Webhook',
      type: 'webhook',
      parameters: { path: 'branch', method: 'POST' },
      position: [0, 100],
    },
    {
      id: 'known',
      name: 'Known?',
      type: 'if',
      parameters: { condition: '={{ $exists(body.name) }}' },
      position: [260, 100],
    },
    {
      id: 'hello',
      name: 'Hello',
      type: 'set',
      parameters: { values: { greeting: "={{ 'Hello ' & body.name }}" } },
      position: [520, 0],
    },
    {
      id: 'anon',
      name: 'Anonymous',
      type: 'set',
      parameters: { values: { greeting: 'Hello stranger' }, keepOnlySet: true },
      position: [520, 200],
      onError: 'continue',
    },
    { id: 'noop', name: 'Done', type: 'noOp', parameters: {}, position: [780, 100] },
  ],
  connections: {
    Webhook: { main: [[{ node: 'Known?', index: 0 }]] },
    'Known?': { main: [[{ node: 'Hello', index: 0 }], [{ node: 'Anonymous', index: 0 }]] },
    Hello: { main: [[{ node: 'Done', index: 0 }]] },
    Anonymous: { main: [[{ node: 'Done', index: 0 }]] },
  },
  settings: { timeoutMs: 60000 },
};

describe.skipIf(!chromiumPath)(
  `workflow editor in Chromium${chromiumPath ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let warden: RunningWarden;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let cwd: string;
    let cookie: string;
    let csrf: string;
    let workflowId: number;

    const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${warden.url}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          cookie,
          'x-csrf-token': csrf,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      return { status: res.status, body: (await res.json()) as T };
    };
    const palette = (p: Page, name: string) =>
      p
        .getByRole('navigation', { name: 'Node palette' })
        .getByRole('button', { name, exact: true });
    const nodeOnCanvas = (p: Page, name: string) =>
      p.locator('.react-flow__node').filter({ has: p.locator(`[data-node-name="${name}"]`) });
    const shoot = (p: Page, name: string) => p.screenshot({ path: join(artefacts, `${name}.png`) });

    beforeAll(async () => {
      mkdirSync(artefacts, { recursive: true });
      ensureConsoleBuilt();
      cwd = mkdtempSync(join(tmpdir(), 'warden-editor-'));
      warden = await startWarden({
        cwd,
        waitMs: 90_000,
        env: { MEMORY_EMBEDDER: 'lexical', LLM_RETRIES: '0', LOG_LEVEL: 'warn' },
      });
      const token = /setup\?token=(\S+)/.exec(warden.output())?.[1];
      expect(token, 'the setup link is printed').toBeTruthy();
      const setup = await fetch(`${warden.url}/api/v1/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, username: 'admin', password: 'a long enough password' }),
      });
      expect(setup.status).toBe(201);
      cookie = setup.headers.getSetCookie()[0]!.split(';')[0]!;
      csrf = ((await setup.json()) as { csrfToken: string }).csrfToken;
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      context.setDefaultTimeout(8_000);
      const [cname, ...rest] = cookie.split('=');
      await context.addCookies([{ name: cname!, value: rest.join('='), url: warden.url }]);
      page = await context.newPage();
    }, 150_000);

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail' && page)
        await shoot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
    });

    afterAll(async () => {
      await browser?.close();
      await warden?.stop('SIGKILL');
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    });

    it('builds webhook -> set -> respond from an empty canvas, shows a bad expression before save, saves, activates and answers the webhook', async () => {
      await page.goto(`${warden.url}/workflows/new`);
      await palette(page, 'Webhook').click();
      // The new node is selected: its panel is open, and the server already says path is required.
      const path = page.getByLabel(/^path/);
      await path.waitFor();
      await expect
        .poll(() => page.locator('.wf-field-error').allTextContents())
        .toContain('is required');
      await path.fill('greet');
      await expect.poll(() => page.getByText('/webhook/greet').count()).toBe(1);
      expect(await page.getByText('No authentication').count()).toBe(1);

      // With the webhook selected, Set is added after it and connected.
      await palette(page, 'Set').click();
      const values = page.getByLabel(/^values/);
      await values.fill(`{"greeting": "={{ 'Hello ' & }}"}`);
      // An edit-time error from the same validator as save, and the preview's own.
      await expect
        .poll(() => page.locator('.wf-field-error').allTextContents(), { timeout: 5_000 })
        .toEqual([expect.stringMatching(/expression error/)]);
      expect(await page.locator('.wf-preview-bad').count()).toBe(1);
      expect(await nodeOnCanvas(page, 'Set').locator('.wf-node-badge.bad').count()).toBe(1);
      await values.fill(`{"greeting": "={{ 'Hello ' & body.name }}"}`);
      await expect.poll(() => page.locator('.wf-field-error').count()).toBe(0);
      await page.locator('.wf-preview-ok').filter({ hasText: 'greeting' }).waitFor();

      // With Set selected, If follows it; its condition is an expression.
      await palette(page, 'If').click();
      await page
        .getByRole('region', { name: 'Parameters of If' })
        .getByRole('button', { name: 'Expression' })
        .click();
      await page.getByLabel(/^condition/).fill('={{ $exists(greeting) }}');
      await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2);

      // Deselect, add Respond on its own, then connect If's true output -> Respond by dragging with the mouse.
      await page.keyboard.press('Escape');
      await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
      await palette(page, 'Respond to webhook').click();
      expect(await page.locator('.react-flow__edge').count()).toBe(2);
      const out = nodeOnCanvas(page, 'If').locator('.react-flow__handle[data-handleid="out-0"]');
      const into = nodeOnCanvas(page, 'Respond to webhook').locator(
        '.react-flow__handle[data-handleid="in-0"]',
      );
      const a = (await out.boundingBox())!;
      const b = (await into.boundingBox())!;
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
      await page.mouse.up();
      await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3);

      await page.getByLabel('Workflow name').fill('Greeter');
      await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
      await page.keyboard.press('Control+s');
      await page.waitForURL(/\/workflows\/\d+\/edit$/);
      workflowId = Number(/workflows\/(\d+)\/edit/.exec(page.url())![1]);
      await page.getByText('Saved as version 1.').waitFor();
      await page.getByRole('button', { name: 'Auto-layout' }).click();
      await shoot(page, 'built');
      await page.getByRole('button', { name: 'Activate' }).click();
      await page.getByText('Active: triggers are live.').waitFor();

      const saved = await api<{ definition: { connections: Record<string, unknown> } }>(
        `/api/v1/workflows/${workflowId}`,
      );
      expect(saved.body.definition.connections).toEqual({
        Webhook: { main: [[{ node: 'Set', type: 'main', index: 0 }]] },
        Set: { main: [[{ node: 'If', type: 'main', index: 0 }]] },
        If: { main: [[{ node: 'Respond to webhook', type: 'main', index: 0 }]] },
      });
      const res = await fetch(`${warden.url}/webhook/greet`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada' }),
      });
      const answer = await res.text();
      expect(res.status, answer).toBe(200);
      expect((JSON.parse(answer) as { greeting: string }).greeting).toBe('Hello Ada');
    });

    it("opens the webhook's execution on the canvas and reads each node's data", async () => {
      let list: { executions: { id: string; status: string }[] } = { executions: [] };
      await expect
        .poll(async () => {
          list = (await api<typeof list>(`/api/v1/executions?workflowId=${workflowId}`)).body;
          return list.executions[0]?.status;
        })
        .toBe('succeeded');
      const id = list.executions[0]!.id;
      await page.goto(`${warden.url}/executions/${id}`);
      await page.getByRole('link', { name: 'Open in editor' }).click();
      await page.waitForURL(`${warden.url}/workflows/${workflowId}/edit?execution=${id}`);
      await page.getByText('Select a node to see its data.').waitFor();
      for (const name of ['Webhook', 'Set', 'Respond to webhook'])
        await expect
          .poll(() => nodeOnCanvas(page, name).locator('.wf-node-badge.ok').textContent())
          .toBe('✓ 1 item');
      // If sent its one item out of the true output and none out of the false one.
      expect(await nodeOnCanvas(page, 'If').locator('.wf-node-badge.ok').textContent()).toBe(
        '✓ 1 / 0 item',
      );
      await nodeOnCanvas(page, 'Set').click();
      const output = page.getByRole('region', { name: 'Output of Set' });
      // Items are objects: the table view first, with a column per field.
      await output.getByRole('columnheader', { name: 'greeting' }).waitFor();
      expect(await output.getByRole('cell', { name: 'Hello Ada', exact: true }).count()).toBe(1);
      await output.getByRole('button', { name: 'JSON' }).click();
      expect(JSON.parse((await output.locator('pre').textContent())!)).toEqual([
        expect.objectContaining({ greeting: 'Hello Ada', body: { name: 'Ada' } }),
      ]);
      // The expression preview now uses this run's data.
      await page.locator('.wf-preview-ok').filter({ hasText: '"Hello Ada"' }).waitFor();
      await nodeOnCanvas(page, 'Webhook').click();
      const hook = page.getByRole('region', { name: 'Output of Webhook' });
      await hook.getByRole('button', { name: 'JSON' }).click();
      expect(JSON.parse((await hook.locator('pre').textContent())!)).toEqual([
        expect.objectContaining({ method: 'POST', body: { name: 'Ada' } }),
      ]);
      await shoot(page, 'execution-on-canvas');
      expect(await axe(page)).toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await axe(page)).toEqual([]);
      await shoot(page, 'execution-on-canvas-dark');
      await page.emulateMedia({ colorScheme: 'light' });
    });

    it('warns the second of two editors on one workflow and overwrites nothing', async () => {
      const first = await context.newPage();
      const second = await context.newPage();
      try {
        for (const p of [first, second]) {
          await p.goto(`${warden.url}/workflows/${workflowId}/edit`);
          await nodeOnCanvas(p, 'Set').waitFor();
        }
        const before = (await api<{ currentVersion: number }>(`/api/v1/workflows/${workflowId}`))
          .body.currentVersion;
        await first.getByLabel('Workflow name').fill('Greeter (first)');
        await first.getByRole('button', { name: 'Save', exact: true }).click();
        await first.getByText(`Saved as version ${before + 1}.`).waitFor();
        await second.getByLabel('Workflow name').fill('Greeter (second)');
        await second.getByRole('button', { name: 'Save', exact: true }).click();
        await second
          .getByRole('alert')
          .filter({ hasText: 'someone else saved this workflow meanwhile' })
          .waitFor();
        await shoot(second, 'conflict');
        const now = await api<{ name: string; currentVersion: number }>(
          `/api/v1/workflows/${workflowId}`,
        );
        expect(now.body).toMatchObject({ name: 'Greeter (first)', currentVersion: before + 1 });
        // The second editor keeps its edit on screen until it chooses to load the saved version.
        expect(await second.getByLabel('Workflow name').inputValue()).toBe('Greeter (second)');
        await second.getByRole('button', { name: /Load the saved version/ }).click();
        await second.getByText(`Loaded version ${before + 1}.`).waitFor();
        expect(await second.getByLabel('Workflow name').inputValue()).toBe('Greeter (first)');
        // An execution of version 1 still opens on version 1, read-only, naming the current one.
        const { executions } = (
          await api<{ executions: { id: string; workflowVersion: number }[] }>(
            `/api/v1/executions?workflowId=${workflowId}`,
          )
        ).body;
        const old = executions.find((e) => e.workflowVersion === 1)!;
        await second.goto(`${warden.url}/workflows/${workflowId}/edit?execution=${old.id}`);
        await second
          .getByText(
            `Read-only: this execution ran on version 1; the workflow is now at version ${before + 1}.`,
          )
          .waitFor();
        expect(await second.getByLabel('Workflow name').inputValue()).toBe('Greeter');
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('undoes and redoes adding, connecting and deleting nodes', async () => {
      await page.goto(`${warden.url}/workflows/new`);
      const count = () => page.locator('.react-flow__node').count();
      const edges = () => page.locator('.react-flow__edge').count();
      await palette(page, 'Manual trigger').click();
      await palette(page, 'No operation').click();
      // Polled: React Flow draws an edge once both nodes are measured, a frame or more later.
      await expect.poll(async () => [await count(), await edges()]).toEqual([2, 1]);
      await page.keyboard.press('Control+z');
      await expect.poll(async () => [await count(), await edges()]).toEqual([1, 0]);
      await page.keyboard.press('Control+Shift+z');
      await expect.poll(async () => [await count(), await edges()]).toEqual([2, 1]);
      await nodeOnCanvas(page, 'Manual trigger').click();
      await page.keyboard.press('Delete');
      await expect.poll(async () => [await count(), await edges()]).toEqual([1, 0]);
      await page.keyboard.press('Control+z');
      await expect.poll(async () => [await count(), await edges()]).toEqual([2, 1]);
      await page.getByRole('button', { name: 'Undo' }).click();
      await expect.poll(count).toBe(1);
      await page.getByRole('button', { name: 'Redo' }).click();
      await expect.poll(count).toBe(2);
      // Copy and paste as workflow JSON: both nodes and the connection between them, renamed.
      await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
      await page.keyboard.press('Control+a');
      await page.keyboard.press('Control+c');
      await page.keyboard.press('Control+v');
      await expect.poll(async () => [await count(), await edges()]).toEqual([4, 2]);
      expect(await nodeOnCanvas(page, 'Manual trigger 1').count()).toBe(1);
      expect(await nodeOnCanvas(page, 'No operation 1').count()).toBe(1);
      // Nothing was saved; a reload offers the canvas back from this browser's draft.
      await expect
        .poll(() =>
          page.evaluate(
            // Runs in the page, where localStorage exists (the test's types are Node's).
            `JSON.parse(localStorage.getItem('warden.editor.draft.new') ?? '{"doc":{"nodes":[]}}').doc.nodes.length`,
          ),
        )
        .toBe(4);
      await page.goto(`${warden.url}/workflows/new`);
      await page.getByRole('alert').filter({ hasText: 'Unsaved changes from' }).waitFor();
      expect(await count()).toBe(0);
      await page.getByRole('button', { name: 'Restore them' }).click();
      await expect.poll(async () => [await count(), await edges()]).toEqual([4, 2]);
      await page.getByRole('button', { name: 'Undo' }).click();
      await expect.poll(count).toBe(0);
    });

    it("runs the workflow from the editor and shows each node's items, both If outputs apart", async () => {
      await page.goto(`${warden.url}/workflows/new`);
      await palette(page, 'Manual trigger').click();
      await palette(page, 'If').click();
      await page
        .getByRole('region', { name: 'Parameters of If' })
        .getByRole('button', { name: 'Expression' })
        .click();
      await page.getByLabel(/^condition/).fill('={{ n > 1 }}');
      await palette(page, 'Set').click();
      await page.getByLabel(/^values/).fill('{"big": true}');
      await page.getByLabel('Test input').fill('[{"n": 1}, {"n": 2}, {"n": 3}]');
      await page.getByLabel('Workflow name').fill('Run from the editor');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.getByText(/Execution \w+ succeeded\./).waitFor({ timeout: 15_000 });
      await expect
        .poll(() => nodeOnCanvas(page, 'If').locator('.wf-node-badge.ok').textContent())
        .toBe('✓ 2 / 1 items');
      expect(await nodeOnCanvas(page, 'Set').locator('.wf-node-badge.ok').textContent()).toBe(
        '✓ 2 items',
      );
      await nodeOnCanvas(page, 'If').click();
      const yes = page.getByRole('region', { name: 'Output 0 of If' });
      const no = page.getByRole('region', { name: 'Output 1 of If' });
      expect(await yes.locator('tbody tr').count()).toBe(2);
      expect(await no.locator('tbody tr').allTextContents()).toEqual(['01']);
      // The preview evaluates the condition on the first input item of this run.
      await page.locator('.wf-preview-ok').filter({ hasText: '→ false' }).waitFor();
      await shoot(page, 'run');
      expect(await axe(page)).toEqual([]);
      // The last run's fields are offered for the expression; one replaces the selection.
      const condition = page.getByLabel(/^condition/);
      await condition.selectText();
      await page
        .getByRole('group', { name: 'Insert a field from the last run' })
        .getByRole('button', { name: '$json.n', exact: true })
        .click();
      expect(await condition.inputValue()).toBe('{{ $json.n }}');
      await page.locator('.wf-preview-ok').filter({ hasText: '→ 1' }).waitFor();
    });

    it('imports a workflow from a file and by pasting, and exports the same JSON', async () => {
      await page.goto(`${warden.url}/workflows/new`);
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByLabel('Or paste its JSON').fill(JSON.stringify(branching));
      await page.getByRole('dialog').getByRole('button', { name: 'Import' }).click();
      await page.getByText('Imported 5 nodes.').waitFor();
      // If has two outputs, and each carries its own connection.
      expect(await nodeOnCanvas(page, 'Known?').locator('.react-flow__handle.source').count()).toBe(
        2,
      );
      await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(5);
      await page.getByRole('button', { name: 'Export' }).click();
      const exported = JSON.parse(await page.getByLabel('Workflow JSON').inputValue()) as unknown;
      expect(exported).toEqual(branching);
      await page.getByRole('button', { name: 'Close' }).click();
      // From a file, with the server accepting it as it is.
      const file = join(cwd, 'branching.json');
      writeFileSync(file, JSON.stringify({ ...branching, name: 'From a file' }));
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByLabel('From a file').setInputFiles(file);
      await page.getByText('Imported 5 nodes.').waitFor();
      expect(await page.getByLabel('Workflow name').inputValue()).toBe('From a file');
      await expect.poll(() => page.locator('.wf-node.invalid').count()).toBe(0);
      expect(await page.locator('[aria-label="Problems"]').count()).toBe(0);
      // Something that is not a workflow is refused with the reason, and the canvas stays.
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByLabel('Or paste its JSON').fill('{"nodes": 3}');
      await page.getByRole('dialog').getByRole('button', { name: 'Import' }).click();
      await page.getByText('Not imported: "nodes" must be an array').waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      expect(await page.locator('.react-flow__node').count()).toBe(5);
      await shoot(page, 'imported');
    });

    it('pins a node, runs up to a later node on the pinned items, and reads each output', async () => {
      await page.goto(`${warden.url}/workflows/new`);
      await palette(page, 'Manual trigger').click();
      await palette(page, 'Set').click();
      await page.getByLabel(/^values/).fill('{"source": "real"}');
      await palette(page, 'No operation').click();
      await palette(page, 'Set').click();
      await page.getByLabel(/^values/).fill('{"done": true}');
      await page.getByLabel('Workflow name').fill('Pinned');
      await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3);

      // Pin typed items on Set: the canvas says so.
      await nodeOnCanvas(page, 'Set').click();
      const pins = page.getByRole('region', { name: 'Pinned data of Set' });
      await pins
        .getByLabel('Pinned items of Set')
        .fill('[{"host": "pinned-1"}, {"host": "pinned-2"}]');
      await pins.getByRole('button', { name: 'Pin these items' }).click();
      await nodeOnCanvas(page, 'Set')
        .locator('.wf-node-badge.pin')
        .getByText('pinned 2 items')
        .waitFor();
      // Not an array of items: refused, saying why.
      await pins.getByLabel('Pinned items of Set').fill('{"host": 1}');
      await pins.getByRole('button', { name: 'Save pinned data' }).click();
      await pins
        .getByRole('alert')
        .getByText(/JSON array of items/)
        .waitFor();
      await pins
        .getByLabel('Pinned items of Set')
        .fill('[{"host": "pinned-1"}, {"host": "pinned-2"}]');

      // Run up to No operation: Set does not run (its pins stand in), Set 1 after it does not run.
      await nodeOnCanvas(page, 'No operation').click();
      await page.getByRole('button', { name: 'Run up to this node' }).click();
      await page.getByText(/Execution \w+ succeeded\./).waitFor({ timeout: 15_000 });
      await expect
        .poll(() => nodeOnCanvas(page, 'No operation').locator('.wf-node-badge.ok').textContent())
        .toBe('✓ 2 items');
      expect(await nodeOnCanvas(page, 'Set').locator('.wf-node-badge.ok').textContent()).toBe(
        '✓ 2 items',
      );
      expect(await nodeOnCanvas(page, 'Set 1').locator('.wf-node-badge.ok').count()).toBe(0);
      const output = page.getByRole('region', { name: 'Output of No operation' });
      expect(await output.getByRole('cell').allTextContents()).toEqual([
        '0',
        'pinned-1',
        '1',
        'pinned-2',
      ]);
      await shoot(page, 'pinned-run-up-to');
      expect(await axe(page)).toEqual([]);

      // The pins were saved with the workflow (the run saved it first).
      const id = Number(/workflows\/(\d+)\/edit/.exec(page.url())![1]);
      const saved = await api<{ definition: { pinData?: unknown } }>(`/api/v1/workflows/${id}`);
      expect(saved.body.definition.pinData).toEqual({
        Set: [{ host: 'pinned-1' }, { host: 'pinned-2' }],
      });

      // Completions while typing an expression in Set 1: paths of the pinned items, by keyboard.
      await nodeOnCanvas(page, 'Set 1').click();
      const values = page.getByLabel(/^values/);
      await values.fill('');
      await values.pressSequentially('{"upper": "={{ $uppercase($json.h');
      const list = page.getByRole('listbox', { name: 'Expression completions' });
      await list.waitFor();
      expect(await list.getByRole('option').allTextContents()).toEqual([
        expect.stringMatching(/^\$json\.host/),
      ]);
      await shoot(page, 'completions');
      await values.press('Enter');
      await expect.poll(() => list.count()).toBe(0);
      await values.pressSequentially(') }}", "from": "={{ $node.');
      await list.waitFor();
      // In a JSON parameter, node references come with backticks (no escaping inside a JSON string).
      expect(await list.getByRole('option').allTextContents()).toContainEqual(
        expect.stringMatching(/^\$node\.`Set`\.json\.host/),
      );
      // Arrows move the choice (wrapping), Escape closes the list and keeps the node selected.
      const choice = () => list.locator('[aria-selected="true"]').textContent();
      const first = await choice();
      await values.press('ArrowDown');
      expect(await choice()).not.toBe(first);
      await values.press('ArrowUp');
      expect(await choice()).toBe(first);
      await values.press('Escape');
      await expect.poll(() => list.count()).toBe(0);
      expect(await page.getByRole('region', { name: 'Parameters of Set 1' }).count()).toBe(1);
      // Typed on: the list comes back; down to the host path, and Enter picks it.
      await values.pressSequentially('`S');
      await list.waitFor();
      const options = await list.getByRole('option').allTextContents();
      const index = options.findIndex((o) => o.startsWith('$node.`Set`.json.host'));
      expect(index).toBeGreaterThan(-1);
      for (let i = 0; i < index; i++) await values.press('ArrowDown');
      await values.press('Enter');
      // The pick lands before typing goes on, and typing goes on at the end.
      await expect.poll(() => values.inputValue()).toContain('$node.`Set`.json.host');
      await values.press('End');
      await values.pressSequentially(' }}"}');
      expect(await values.inputValue()).toBe(
        '{"upper": "={{ $uppercase($json.host) }}", "from": "={{ $node.`Set`.json.host }}"}',
      );
      await expect.poll(() => page.locator('.wf-field-error').count()).toBe(0);

      // Rename Set: the reference in Set 1 follows; undo and redo take it as one step.
      await nodeOnCanvas(page, 'Set').click();
      await page.getByLabel('Node name').fill('Lookup');
      await nodeOnCanvas(page, 'Lookup').locator('.wf-node-badge.pin').waitFor();
      await nodeOnCanvas(page, 'Set 1').click();
      expect(await page.getByLabel(/^values/).inputValue()).toContain('$node.`Lookup`.json.host');
      await page.getByRole('button', { name: 'Undo' }).click();
      await nodeOnCanvas(page, 'Set').waitFor();
      await nodeOnCanvas(page, 'Set 1').click();
      expect(await page.getByLabel(/^values/).inputValue()).toContain('$node.`Set`.json.host');
      await page.getByRole('button', { name: 'Redo' }).click();
      await nodeOnCanvas(page, 'Lookup').waitFor();

      // The run still works after the rename, on the pinned items, through to Set 1.
      await nodeOnCanvas(page, 'Set 1').click();
      await page.getByRole('button', { name: 'Run up to this node' }).click();
      await expect
        .poll(() => nodeOnCanvas(page, 'Set 1').locator('.wf-node-badge.ok').textContent(), {
          timeout: 15_000,
        })
        .toBe('✓ 2 items');
      const result = page.getByRole('region', { name: 'Output of Set 1' });
      await result.getByRole('button', { name: 'JSON' }).click();
      expect(JSON.parse((await result.locator('pre').textContent())!)).toEqual([
        { host: 'pinned-1', upper: 'PINNED-1', from: 'pinned-1' },
        { host: 'pinned-2', upper: 'PINNED-2', from: 'pinned-1' },
      ]);
      const renamed = await api<{
        definition: { pinData?: unknown; nodes: { name: string; parameters: unknown }[] };
      }>(`/api/v1/workflows/${id}`);
      expect(renamed.body.definition.pinData).toEqual({
        Lookup: [{ host: 'pinned-1' }, { host: 'pinned-2' }],
      });
      expect(renamed.body.definition.nodes.find((n) => n.name === 'Set 1')!.parameters).toEqual({
        values: {
          upper: '={{ $uppercase($json.host) }}',
          from: '={{ $node.`Lookup`.json.host }}',
        },
      });

      // Unpinned, the node runs for real again on the next run.
      await nodeOnCanvas(page, 'Lookup').click();
      await page
        .getByRole('region', { name: 'Pinned data of Lookup' })
        .getByRole('button', { name: 'Unpin' })
        .click();
      expect(await nodeOnCanvas(page, 'Lookup').locator('.wf-node-badge.pin').count()).toBe(0);
      await page.getByRole('button', { name: 'Run up to this node' }).click();
      await page.getByText(/Execution \w+ succeeded\./).waitFor({ timeout: 15_000 });
      const real = page.getByRole('region', { name: 'Output of Lookup' });
      await real.getByRole('button', { name: 'JSON' }).click();
      await expect
        .poll(
          async () => JSON.parse((await real.locator('pre').textContent()) ?? 'null') as unknown,
        )
        .toEqual([{ source: 'real' }]);
      // That run's output pinned in one click.
      await page
        .getByRole('region', { name: 'Pinned data of Lookup' })
        .getByRole('button', { name: 'Pin the last run’s output' })
        .click();
      await nodeOnCanvas(page, 'Lookup')
        .locator('.wf-node-badge.pin')
        .getByText('pinned 1 item', { exact: true })
        .waitFor();
      expect(
        JSON.parse(await page.getByLabel('Pinned items of Lookup').inputValue()) as unknown,
      ).toEqual([{ source: 'real' }]);
    });

    it('opens every example of the gallery as a new workflow, and exports it unchanged', async () => {
      const dir = join(root, 'examples', 'workflows');
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
      expect(files.length).toBeGreaterThan(0);
      // From an existing workflow, the example opens on a new canvas.
      await page.goto(`${warden.url}/workflows/${workflowId}/edit`);
      await nodeOnCanvas(page, 'Set').waitFor();
      for (const file of files) {
        const example = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
          name: string;
          nodes: unknown[];
        };
        await page.getByRole('button', { name: 'Examples' }).click();
        const gallery = page.getByRole('dialog', { name: 'Examples' });
        await expect.poll(() => gallery.getByRole('listitem').count()).toBe(files.length);
        if (file === files[0]) {
          expect(await axe(page)).toEqual([]);
          await shoot(page, 'gallery');
        }
        const checked = page.waitForResponse((r) => r.url().endsWith('/api/v1/workflows/validate'));
        await gallery
          .getByRole('button', { name: `Open as a new workflow: ${example.name}` })
          .click();
        await page.waitForURL(`${warden.url}/workflows/new`);
        await page.getByText(`Example "${example.name}" is on the canvas`).waitFor();
        expect(await page.locator('.react-flow__node').count()).toBe(example.nodes.length);
        // The server's save rules accept it as it is, and it is editable (not read-only).
        expect(await (await checked).json()).toEqual({ valid: true, problems: [] });
        expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(1);
        await page.getByRole('button', { name: 'Export' }).click();
        expect(JSON.parse(await page.getByLabel('Workflow JSON').inputValue())).toEqual(example);
        await page.getByRole('button', { name: 'Close' }).click();
      }
      // Saved, the last one is a workflow of its own.
      await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
      await page.keyboard.press('Control+s');
      await page.waitForURL(/\/workflows\/\d+\/edit$/);
      const last = JSON.parse(readFileSync(join(dir, files.at(-1)!), 'utf8')) as { name: string };
      const id = Number(/workflows\/(\d+)\/edit/.exec(page.url())![1]);
      expect(id).not.toBe(workflowId);
      expect((await api<{ name: string }>(`/api/v1/workflows/${id}`)).body.name).toBe(last.name);
      // The Workflows page opens the gallery on a new canvas too.
      await page.goto(`${warden.url}/workflows`);
      await page.getByRole('link', { name: 'New from an example' }).click();
      await page
        .getByRole('dialog', { name: 'Examples' })
        .getByRole('button', { name: `Open as a new workflow: ${last.name}` })
        .click();
      await page.getByText(`Example "${last.name}" is on the canvas`).waitFor();
    });

    it('opens the auto-heal workflow read-only', async () => {
      const list = await api<{ workflows: { id: number; name: string }[] }>('/api/v1/workflows');
      const heal = list.body.workflows.find((w) => w.name === 'Auto-heal incidents');
      expect(heal, 'warden start installs the auto-heal workflow').toBeTruthy();
      await page.goto(`${warden.url}/workflows/${heal!.id}/edit`);
      await page.getByText('Read-only: the auto-heal workflow').waitFor();
      await page.locator('.react-flow__node').first().waitFor();
      expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);
      expect(await page.getByRole('navigation', { name: 'Node palette' }).count()).toBe(0);
      await page.locator('.react-flow__node').first().click();
      await page.keyboard.press('Delete');
      expect(await page.locator('.react-flow__node').count()).toBeGreaterThan(1);
      expect(await page.locator('.wf-panel input').first().isDisabled()).toBe(true);
      await shoot(page, 'auto-heal-read-only');
    });

    it('shows workflows read-only to a viewer, with nothing that changes them', async () => {
      const created = await api('/api/v1/users', {
        method: 'POST',
        body: { username: 'watcher', password: 'a long enough password', role: 'viewer' },
      });
      expect(created.status).toBe(201);
      const login = await fetch(`${warden.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'watcher', password: 'a long enough password' }),
      });
      const [name, ...value] = login.headers.getSetCookie()[0]!.split(';')[0]!.split('=');
      const viewer = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      viewer.setDefaultTimeout(8_000);
      try {
        await viewer.addCookies([{ name: name!, value: value.join('='), url: warden.url }]);
        const p = await viewer.newPage();
        await p.goto(`${warden.url}/workflows`);
        await p.getByRole('link', { name: 'Greeter (first)' }).click();
        await p.getByText('Read-only: your role may look but not change workflows.').waitFor();
        await nodeOnCanvas(p, 'Set').click();
        expect(await p.getByLabel(/^values/).isDisabled()).toBe(true);
        for (const button of ['Save', 'Run', 'Import', 'Undo'])
          expect(await p.getByRole('button', { name: button, exact: true }).count()).toBe(0);
        expect(await p.getByRole('link', { name: 'New workflow' }).count()).toBe(0);
        expect(await axe(p)).toEqual([]);
      } finally {
        await viewer.close();
      }
    });

    it('keeps a 200-node canvas responsive (render and drag timed and printed)', async () => {
      const nodes = [
        { id: 'n0', name: 'Start', type: 'manual', parameters: {}, position: [0, 0] },
        ...Array.from({ length: 199 }, (_, i) => ({
          id: `n${i + 1}`,
          name: `Step ${i + 1}`,
          type: 'noOp',
          parameters: {},
          position: [((i + 1) % 20) * 220, Math.floor((i + 1) / 20) * 110],
        })),
      ];
      const connections = Object.fromEntries(
        nodes
          .slice(0, -1)
          .map((n, i) => [n.name, { main: [[{ node: nodes[i + 1]!.name, index: 0 }]] }]),
      );
      const big = { name: 'Two hundred nodes', nodes, connections, settings: {} };
      await page.goto(`${warden.url}/workflows/new`);
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByLabel('Or paste its JSON').fill(JSON.stringify(big));
      const t0 = Date.now();
      await page.getByRole('dialog').getByRole('button', { name: 'Import' }).click();
      await expect.poll(() => page.locator('.react-flow__node').count()).toBe(200);
      const renderMs = Date.now() - t0;
      await page.getByRole('button', { name: 'Zoom to fit' }).click();
      const target = nodeOnCanvas(page, 'Step 45');
      const before = await target.getAttribute('style');
      const box = (await target.boundingBox())!;
      const moves = 20;
      const t1 = Date.now();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 + 150, box.y + box.height / 2 + 80, {
        steps: moves,
      });
      await page.mouse.up();
      const dragMs = Date.now() - t1;
      expect(await target.getAttribute('style')).not.toBe(before);
      const load = (await import('node:os')).loadavg()[0]!.toFixed(2);
      console.log(
        `editor.e2e: 200 nodes: render ${renderMs} ms (budget 2000 ms); drag of one node over ${moves} mouse moves ${dragMs} ms, ${(dragMs / moves).toFixed(1)} ms per move (budget 50 ms per move); load average ${load}`,
      );
      await shoot(page, 'two-hundred-nodes');
    });

    it('shows what changed between versions and restores an old one as a new version', async () => {
      const before = (await api<{ currentVersion: number }>(`/api/v1/workflows/${workflowId}`)).body
        .currentVersion;
      await page.goto(`${warden.url}/workflows/${workflowId}/edit`);
      await nodeOnCanvas(page, 'Set').waitFor();
      await page.getByRole('button', { name: 'Versions' }).click();
      await page.getByLabel('From version').selectOption('1');
      const diff = page.getByRole('list', { name: 'Differences' });
      await diff.getByText('changed name: Greeter → Greeter (first)').waitFor();
      await page.getByLabel('to', { exact: true }).selectOption('2');
      await diff.getByText('changed name: Greeter → Greeter (first)').waitFor();
      await page.getByLabel('to', { exact: true }).selectOption('canvas');
      await page.getByRole('button', { name: 'Restore version 1 onto the canvas' }).click();
      expect(await page.getByLabel('Workflow name').inputValue()).toBe('Greeter');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText(`Saved as version ${before + 1}.`).waitFor();
      const now = await api<{ name: string; currentVersion: number }>(
        `/api/v1/workflows/${workflowId}`,
      );
      expect(now.body).toMatchObject({ name: 'Greeter', currentVersion: before + 1 });
      // Version 1 itself is untouched.
      const v1 = await api<{ definition: { name: string } }>(
        `/api/v1/workflows/${workflowId}/versions/1`,
      );
      expect(v1.body.definition.name).toBe('Greeter');
      await page.getByRole('button', { name: 'Versions' }).click();
      await page.getByRole('dialog').waitFor();
      expect(await axe(page)).toEqual([]);
      await shoot(page, 'versions');
    });

    it("offers stored credentials by name for a webhook's auth and says what the URL requires", async () => {
      const stored = await api('/api/v1/credentials/hook-token', {
        method: 'PUT',
        body: { kind: 'token', value: 'never-shown-to-the-browser' },
      });
      expect(stored.status).toBe(200);
      // Every API answer the page reads is checked for the stored value.
      const bodies: Promise<string>[] = [];
      const seen: string[] = [];
      const onResponse = (r: Response) => {
        // The live-events stream never ends; everything else is read whole.
        if (!r.url().includes('/api/') || r.url().includes('/api/v1/events')) return;
        seen.push(r.url());
        bodies.push(r.text().catch(() => ''));
      };
      page.on('response', onResponse);
      await page.goto(`${warden.url}/workflows/new`);
      await palette(page, 'Webhook').click();
      await page.getByLabel(/^path/).fill('guarded');
      await page.getByLabel(/^auth/).selectOption('headerToken');
      const credential = page.getByLabel(/^credential/);
      const listId = await credential.getAttribute('list');
      await expect
        .poll(() =>
          page
            .locator(`datalist[id="${listId}"] option`)
            .evaluateAll((o) => o.map((x) => x.getAttribute('value'))),
        )
        .toEqual(['hook-token']);
      await credential.fill('hook-token');
      await page
        .getByText(
          'Requires a token header (x-warden-token) checked against credential "hook-token".',
        )
        .waitFor();
      expect(await page.locator('.wf-field-error').count()).toBe(0);
      page.off('response', onResponse);
      expect(seen.some((u) => new URL(u).pathname === '/api/v1/credentials')).toBe(true);
      expect((await Promise.all(bodies)).filter((b) => b.includes('never-shown'))).toEqual([]);
    });
  },
);
