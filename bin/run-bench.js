#!/usr/bin/env node
// Runs every bench/*.bench.ts (or those whose name contains an argument) one
// after another through tsx, with the output as it comes. Not part of CI.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../bench/', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmarks match ${filters.join(' ')}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${f}`], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
