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
