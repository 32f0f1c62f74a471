#!/usr/bin/env node
// `npm install` and `npm ci` run this (the prepare script): builds dist/ so
// `warden` starts from compiled JavaScript, and the console into web/dist so
// `npm start` serves it with no separate step, and the prepared embedded
// database a first start unpacks (bin/build-pglite-template.js). Skips, saying why, where there is
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
const steps = [
  [tsc, '-p', 'tsconfig.build.json'],
  ['bin/copy-assets.js'],
  ['bin/build-pglite-template.js'],
];
// Vite's package exports do not include its bin, so look for it in place.
const vite = `${root}node_modules/vite/bin/vite.js`;
if (existsSync(vite) && existsSync(`${root}web/vite.config.ts`))
  steps.push([vite, 'build', '--logLevel', 'warn', '--config', 'web/vite.config.ts']);
else console.log('prepare: the console is not built (Vite is not installed)');
for (const args of steps) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
