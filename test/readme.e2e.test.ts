// The README is executable documentation: its quick start and every ```sh
// block run, in order, in a fresh copy of the repository's tracked files, as
// a newcomer would type them. Conventions the README follows:
// - a block whose first line has `# not run in tests: <why>` is skipped;
// - a block with `# with Warden stopped` runs with Warden stopped; every
//   other block after the quick start runs beside the Warden it started;
// - `wdn_alert_...` is the token the previous block printed, as the reader
//   would paste it, and localhost:5678 is the free port the test gave
//   Warden (WARDEN_PORT), so tests can run side by side.
// What differs from a real clone: `npm install` is replaced by linking this
// checkout's node_modules (the registry is not the thing under test), and
// `npx warden` runs the copy's bin/warden.js directly, which is what npx
// resolves it to inside the checkout, without npx's own start-up cost.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { freePort } from './helpers/cli.ts';
import { describeUnless, missingPrograms } from './helpers/programs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The ```sh blocks of a Markdown text, dedented, in order. */
export function shellBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  for (const m of markdown.matchAll(/^( *)```sh\n([\s\S]*?)^\1```/gm)) {
    const indent = m[1]!.length;
    blocks.push(
      m[2]!
        .split('\n')
        .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
        .join('\n')
        .trim(),
    );
  }
  return blocks;
}

const blocks = shellBlocks(readme);
const needs = missingPrograms([
  { name: 'curl', apt: 'curl' },
  { name: 'bash', apt: 'bash' },
]);

describeUnless(needs, 'the README, run as written', () => {
  let clone: string;
  let port: number;
  let env: Record<string, string>;
  let warden: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    clone = mkdtempSync(join(tmpdir(), 'warden-readme-'));
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(root, f)));
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(root, f), join(clone, f), { preserveTimestamps: true });
    }
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
    if (existsSync(join(root, 'dist')))
      cpSync(join(root, 'dist'), join(clone, 'dist'), {
        recursive: true,
        preserveTimestamps: true,
      });
    // `npx warden ...` -> the copy's bin/warden.js; anything else -> the real npx.
    const shims = join(clone, '.test-bin');
    mkdirSync(shims);
    const realNpx = execFileSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(shims, 'npx'),
      `#!/usr/bin/env bash\nif [ "$1" = warden ]; then shift; exec "${process.execPath}" "${clone}/bin/warden.js" "$@"; fi\nexec "${realNpx}" "$@"\n`,
    );
    chmodSync(join(shims, 'npx'), 0o755);
    port = await freePort();
    env = {
      PATH: `${shims}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: clone,
      WARDEN_PORT: String(port),
      WARDEN_HOST: '127.0.0.1',
      // No model server answers here: the demo is the no-model path.
      OLLAMA_URL: 'http://127.0.0.1:9',
      LLM_RETRIES: '0',
      LOG_LEVEL: 'warn',
    };
  }, 120_000);

  afterAll(async () => {
    await stop();
    rmSync(clone, { recursive: true, force: true });
  });

  async function start(): Promise<void> {
    if (warden) return;
    // The quick start's `npm start`, in its own process group so npm and
    // Warden stop together.
    const child = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: 'pipe' });
    child.stdout!.on('data', (d: Buffer) => (log += d));
    child.stderr!.on('data', (d: Buffer) => (log += d));
    warden = child;
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${log}`);
      if (Date.now() > deadline) throw new Error(`npm start did not answer /healthz:\n${log}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function stop(): Promise<void> {
    const child = warden;
    if (!child) return;
    warden = undefined;
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGINT');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    await exited;
    // npm exits first; wait for the data directory's lock to be let go.
    for (let i = 0; i < 100 && existsSync(join(clone, 'data', 'control.json')); i++)
      await new Promise((r) => setTimeout(r, 100));
    clearTimeout(timer);
  }

  it('has a quick start and the blocks it promises', () => {
    expect(blocks[0]).toBe('npm install && npm start');
    expect(blocks.length).toBeGreaterThan(4);
  });

  it('runs every block in order, as a reader would', async () => {
    let lastOutput = '';
    const ran: string[] = [];
    for (const block of blocks) {
      if (/^[^\n]*# not run in tests:/.test(block)) continue;
      if (block === 'npm install && npm start') {
        await start();
        ran.push('quick start');
        continue;
      }
      if (block.includes('# with Warden stopped')) await stop();
      else await start();
      const token = /^token:\s+(\S+)$/m.exec(lastOutput)?.[1];
      const script = (token ? block.replaceAll('wdn_alert_...', token) : block).replaceAll(
        'localhost:5678',
        `127.0.0.1:${port}`,
      );
      const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
        cwd: clone,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, `${block}\n${r.stdout}\n${r.stderr}`).toBe(0);
      lastOutput = r.stdout;
      ran.push(`${block}\n${r.stdout}`);
    }
    const all = ran.join('\n');
    // The demo did what the README says: the alert opened an incident that
    // the CLI shows through the running Warden.
    expect(all).toContain('"outcome":"opened"');
    expect(all).toContain('incident 1: disk /var is 97% full on web-1');
  }, 300_000);
});
