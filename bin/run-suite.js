#!/usr/bin/env node
// Runs the scripts of one folder through tsx, one after another, with their
// output as it comes. None is part of CI:
//   bench  bench/*.bench.ts: speed and memory; arguments pick files by name,
//          and those starting with -- go to each script (e.g. --json)
//   eval   eval/*.eval.ts: quality on fixed sets; arguments pick files by name
//   chaos  chaos/*.chaos.ts: fault injection on real processes (slow and
//          heavy); arguments go to the suite, which picks scenarios by name
//          (e.g. `npm run chaos -- storm-12 postgres-5s`)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { staleReason } from './build-state.js';

const suites = { bench: 'benchmarks', eval: 'evaluations', chaos: 'chaos scripts' };
const [suite, ...args] = process.argv.slice(2);
if (!suite || !(suite in suites)) {
  console.error(`usage: run-suite.js ${Object.keys(suites).join('|')} [name ...]`);
  process.exit(2);
}
const dir = fileURLToPath(new URL(`../${suite}/`, import.meta.url));
const flags = suite === 'bench' ? args.filter((a) => a.startsWith('--')) : [];
const filters = suite === 'chaos' ? [] : args.filter((a) => !flags.includes(a));
const passed = suite === 'chaos' ? args : flags;
// With --json, standard output carries only the scripts' JSON.
const say = flags.includes('--json') ? console.error : console.log;
const files = readdirSync(dir)
  .filter((f) => f.endsWith(`.${suite}.ts`))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no ${suites[suite]} match ${filters.join(' ')}`);
  process.exit(2);
}
// Warden as the benchmarks start it runs dist/ only when it is the source's
// build: build first rather than measure the source through tsx.
if (suite === 'bench') {
  const stale = staleReason(fileURLToPath(new URL('../', import.meta.url)));
  if (stale !== undefined && stale !== 'WARDEN_FROM_SOURCE=1') {
    console.error(`${stale}: building first (npm run build)`);
    const built = spawnSync('npm', ['run', '--silent', 'build'], {
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (built.status !== 0) process.exit(built.status ?? 1);
  }
}
let failed = 0;
let status = 0;
for (const f of files) {
  say(`\n== ${f}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${f}`, ...passed], {
    stdio: 'inherit',
  });
  if (res.status !== 0) failed++;
  status = res.status ?? 1;
}
// One script: its own exit status (a bench's refusal is not a crash); several: 1 if any failed.
process.exit(files.length === 1 ? status : failed > 0 ? 1 : 0);
