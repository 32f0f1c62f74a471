// What the console's browser tests share: a console built from today's
// source, finding Debian's Chromium (or the one CHROMIUM_PATH names),
// axe-core's serious and critical findings in a page, and screenshots into
// test-artifacts/console/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Page } from 'playwright-core';
import { expect } from 'vitest';

import { waitFor } from './wait.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The newest modification time of a file under dir, leaving out dist and node_modules. */
function newestUnder(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const path = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the console unless web/dist is newer than every source file: the
 * tests drive what the source builds today, not a stale bundle, without a
 * build per test file (npm install's prepare script builds it once).
 */
export function ensureConsoleBuilt(): void {
  const index = join(repoRoot, 'web/dist/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestUnder(join(repoRoot, 'web'))) return;
  const built = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (built.status !== 0) throw new Error(`the console does not build:\n${built.stderr}`);
}
export const artefacts = join(repoRoot, 'test-artifacts', 'console');

export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

export const noChromium = 'no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)';

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

type AxeResult = {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
};

/** axe-core in the page; the serious and critical violations, in words. */
export async function axe(page: Page): Promise<string[]> {
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

/** The whole page, and what fits the window. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(artefacts, { recursive: true });
  await page.screenshot({ path: join(artefacts, `${name}.png`), fullPage: true });
  await page.screenshot({ path: join(artefacts, `${name}-window.png`) });
}

export type SessionHeaders = { 'content-type': string; cookie: string; 'x-csrf-token': string };

/** Logs in through the API: the session cookie and CSRF token as request headers. */
export async function loginHeaders(
  url: string,
  username: string,
  password: string,
): Promise<SessionHeaders> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken };
}

/**
 * Creates the admin from the setup link the fresh Warden printed, then the
 * operator olga and the viewer vera, all with one password; returns the
 * admin's request headers.
 */
export async function setUpUsers(
  warden: { url: string; output(): string },
  password: string,
): Promise<SessionHeaders> {
  // The link may be printed a moment after /healthz first answers.
  await waitFor(() => /setup\?token=\S+/.test(warden.output()), 'the setup link is printed');
  const token = /setup\?token=(\S+)/.exec(warden.output())?.[1];
  const setup = await fetch(`${warden.url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, username: 'admin', password }),
  });
  expect(setup.status, await setup.clone().text()).toBeLessThan(300);
  const admin = await loginHeaders(warden.url, 'admin', password);
  for (const [username, role] of [
    ['olga', 'operator'],
    ['vera', 'viewer'],
  ]) {
    const res = await fetch(`${warden.url}/api/v1/users`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username, password, role }),
    });
    expect(res.status).toBe(201);
  }
  return admin;
}
