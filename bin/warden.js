#!/usr/bin/env node
// Entry point. Runs the compiled JavaScript in dist/ (built by `npm install`
// through the prepare script, or `npm run build`) when it is at least as new
// as every source file, because compiling TypeScript at each run costs
// seconds; otherwise runs src/ through tsx, and says so on a terminal.
// WARDEN_FROM_SOURCE=1 always runs the source.
import { fileURLToPath } from 'node:url';

import { staleReason } from './build-state.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src/cli/main.ts`;
const compiled = `${root}dist/cli/main.js`;

const reason = staleReason(root);
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
