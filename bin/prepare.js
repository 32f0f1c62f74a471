#!/usr/bin/env node
// `npm install` and `npm ci` run this (the prepare script): builds dist/ so
// `warden` starts from compiled JavaScript. Skips, saying why, where there is
// nothing to build with: no src/ (a Docker layer that installs first) or no
// TypeScript (an install without dev dependencies). A failing build fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (!existsSync(`${root}src/cli/main.ts`) || !tsc) {
  console.log(`prepare: nothing to build (${tsc ? 'no src/' : 'TypeScript is not installed'})`);
  process.exit(0);
}
for (const args of [[tsc, '-p', 'tsconfig.build.json'], ['bin/copy-assets.js']]) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
