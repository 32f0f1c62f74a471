#!/usr/bin/env node
// Entry point. Runs the compiled JavaScript in dist/ (built by `npm install`
// through the prepare script, or `npm run build`) when it is at least as new
// as every source file, because compiling TypeScript at each run costs
// seconds; otherwise runs src/ through tsx, and says so on a terminal.
// WARDEN_FROM_SOURCE=1 always runs the source.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src/cli/main.ts`;
const compiled = `${root}dist/cli/main.js`;
const stamp = `${root}dist/.build-stamp`;

/** Newest modification time of the files the build reads (tests excluded). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function staleReason() {
  if (!existsSync(source)) return undefined; // an installed package: dist/ only
  if (process.env.WARDEN_FROM_SOURCE === '1') return 'WARDEN_FROM_SOURCE=1';
  if (!existsSync(compiled) || !existsSync(stamp)) return 'dist/ is not built';
  const built = statSync(stamp).mtimeMs;
  const newest = Math.max(newestSource(`${root}src`), statSync(`${root}package.json`).mtimeMs);
  return newest > built ? 'src/ changed since the last build' : undefined;
}

const reason = staleReason();
if (reason === undefined) {
  await import(compiled);
} else {
  if (process.stderr.isTTY && reason !== 'WARDEN_FROM_SOURCE=1')
    process.stderr.write(
      `warden: ${reason}; running the TypeScript source (slower start; \`npm run build\` fixes it)\n`,
    );
  const { register } = await import('tsx/esm/api');
  register();
  await import(source);
}
