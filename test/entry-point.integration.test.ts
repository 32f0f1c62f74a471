// bin/warden.js runs dist/ when it is at least as new as src/, the source
// through tsx otherwise; bin/prepare.js (npm install's prepare script) skips
// with a reason where there is nothing to build. Checked on a small copy of
// the layout, so the real dist/ is never touched.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;

const run = (script: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(dir, script), '--version'], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-entry-'));
  mkdirSync(join(dir, 'bin'));
  cpSync(join(root, 'bin/warden.js'), join(dir, 'bin/warden.js'));
  cpSync(join(root, 'bin/build-state.js'), join(dir, 'bin/build-state.js'));
  cpSync(join(root, 'bin/prepare.js'), join(dir, 'bin/prepare.js'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  writeFileSync(
    join(dir, 'src/cli/main.ts'),
    "const from: string = 'source';\nconsole.log(from);\n",
  );
  mkdirSync(join(dir, 'dist/cli'), { recursive: true });
  writeFileSync(join(dir, 'dist/cli/main.js'), "console.log('dist');\n");
  const past = new Date(Date.now() - 60_000);
  for (const f of ['package.json', 'src/cli/main.ts']) utimesSync(join(dir, f), past, past);
  writeFileSync(join(dir, 'dist/.build-stamp'), 'built\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('bin/warden.js', () => {
  it('runs the compiled dist/ when it is newer than every source file', () => {
    expect(run('bin/warden.js').stdout).toBe('dist\n');
  });

  it('runs the source through tsx when a source file changed after the build', () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'src/cli/main.ts'), later, later);
    expect(run('bin/warden.js').stdout).toBe('source\n');
  });

  it('runs the source when dist/ was never built, and when asked to', () => {
    expect(run('bin/warden.js', { WARDEN_FROM_SOURCE: '1' }).stdout).toBe('source\n');
    rmSync(join(dir, 'dist'), { recursive: true });
    expect(run('bin/warden.js').stdout).toBe('source\n');
  });

  it('runs dist/ in an installed package, which has no src/', () => {
    rmSync(join(dir, 'src'), { recursive: true });
    expect(run('bin/warden.js').stdout).toBe('dist\n');
  });
});

describe('bin/prepare.js', () => {
  it('skips, saying why, when there is no source to build', () => {
    rmSync(join(dir, 'src'), { recursive: true });
    const r = run('bin/prepare.js');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('prepare: nothing to build (no src/)');
  });
});
