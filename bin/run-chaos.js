#!/usr/bin/env node
// Runs the chaos suite (chaos/*.chaos.ts) through tsx; arguments pick
// scenarios by name (e.g. `npm run chaos -- storm-12 postgres-5s`). Slow and
// heavy: real processes, a private PostgreSQL cluster and redis-server.
// Not part of CI.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../chaos/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.chaos.ts'))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', `${dir}${f}`, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  if (res.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
