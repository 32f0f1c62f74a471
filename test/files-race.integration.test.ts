// The files MCP server against a concurrent writer inside its root: a child
// process swaps a directory of the root for a symlink to an outside
// directory (holding a secret and look-alike names) and back, in a tight
// loop, while thousands of reads, lists, stats, trees, searches, writes,
// edits, mkdirs and moves run through the SDK client. Not one may read,
// list, describe or create anything outside: the counts are printed.
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createFilesServer } from '../src/mcp/files-server.ts';

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

const SECRET = 'OUTSIDE-SECRET-7f3a';
const OPS = 2000;

// Swaps root/sub for a symlink to the outside directory and back until killed;
// prints how many swaps it made.
const swapper = `
const fs = require('node:fs');
const [sub, held, outside] = process.argv.slice(1);
let swaps = 0;
process.on('SIGTERM', () => { process.stdout.write(String(swaps)); process.exit(0); });
process.stdout.write('ready\\n');
let strays = 0;
// The server may make sub again (mkdir -p) while it is away: set that aside, put ours back.
const settle = () => {
  if (!fs.existsSync(held)) return;
  try { fs.renameSync(sub, sub + '.stray-' + strays++); } catch {}
  try { fs.renameSync(held, sub); } catch {}
};
const tick = () => {
  for (let k = 0; k < 50; k++) {
    settle();
    try {
      fs.renameSync(sub, held);
      fs.symlinkSync(outside, sub);
      fs.unlinkSync(sub);
      fs.renameSync(held, sub);
      swaps++;
    } catch {}
  }
  setImmediate(tick);
};
tick();
`;

/** Every path under a directory, with file contents, to compare before and after. */
function snapshot(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const rel = `${prefix}${name}`;
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(`${rel}/`, ...snapshot(p, `${rel}/`));
    else out.push(`${rel}=${readFileSync(p, 'utf8')}`);
  }
  return out;
}

describe('files MCP server under a concurrent directory swap', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-race-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  const sub = join(root, 'sub');
  let client: Client;

  beforeAll(async () => {
    mkdirSync(join(sub, 'inner'), { recursive: true });
    mkdirSync(join(outside, 'inner'), { recursive: true });
    writeFileSync(join(sub, 'f.txt'), 'inside');
    writeFileSync(join(sub, 'e.txt'), 'a');
    writeFileSync(join(sub, 'inner', 'g.txt'), 'inside-inner');
    // The outside holds the same names, so an escape would succeed quietly.
    writeFileSync(join(outside, 'f.txt'), SECRET);
    writeFileSync(join(outside, 'e.txt'), 'a');
    writeFileSync(join(outside, 'secret.txt'), SECRET);
    writeFileSync(join(outside, 'inner', 'g.txt'), SECRET);
    const server = createFilesServer({ roots: [root], write: true, version: 't' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'race-test', version: '1' });
    await client.connect(clientSide);
  });
  afterAll(async () => {
    await client?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('makes 0 escapes in thousands of operations while a directory is swapped for a symlink', async () => {
    const before = snapshot(outside);
    const child = spawn(process.execPath, ['-e', swapper, sub, join(root, 'sub.held'), outside], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));

    const counts: Record<string, { ok: number; refused: number; escapes: number }> = {};
    const reasons: Record<string, number> = {};
    const tally = (op: string, r: ToolResult, escaped: boolean) => {
      const c = (counts[op] ??= { ok: 0, refused: 0, escapes: 0 });
      if (escaped) c.escapes++;
      else if (r.isError) {
        c.refused++;
        const text = r.content.map((x) => x.text).join('');
        const why = /leads outside/.test(text)
          ? 'led outside (refused)'
          : (/"error":\s*"(\w+)"/.exec(text)?.[1] ?? 'other');
        reasons[why] = (reasons[why] ?? 0) + 1;
      } else c.ok++;
    };
    const call = async (name: string, args: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as ToolResult;
    const body = (r: ToolResult) => r.content.map((c) => c.text).join('\n');

    try {
      for (let i = 0; i < OPS; i++) {
        switch (i % 10) {
          case 0: {
            const r = await call('read_text_file', { path: 'sub/f.txt' });
            tally('read', r, body(r).includes(SECRET));
            break;
          }
          case 1: {
            const r = await call('list_directory', { path: 'sub' });
            tally('list', r, body(r).includes('secret.txt'));
            break;
          }
          case 2: {
            const r = await call('get_file_info', { path: 'sub/f.txt' });
            const info = r.isError
              ? undefined
              : (JSON.parse(body(r)) as { path: string; size: number });
            tally('stat', r, !!info && (!info.path.startsWith(`${root}/`) || info.size !== 6));
            break;
          }
          case 3: {
            const r = await call('write_file', { path: `sub/w-${i}.txt`, content: 'written' });
            tally('write', r, false);
            break;
          }
          case 4: {
            const r = await call('create_directory', { path: `sub/inner/d-${i}` });
            tally('mkdir', r, false);
            break;
          }
          case 5: {
            const r = await call('edit_file', {
              path: 'sub/e.txt',
              edits: [{ oldText: 'a', newText: 'a' }],
            });
            tally('edit', r, false);
            break;
          }
          case 6: {
            const r = await call('directory_tree', { path: '.' });
            tally('tree', r, body(r).includes('secret.txt'));
            break;
          }
          case 7: {
            const r = await call('search_files', { path: '.', pattern: 'secret' });
            tally('search', r, body(r).includes('secret.txt'));
            break;
          }
          case 8: {
            // From the root (steady) into the swapped directory.
            writeFileSync(join(root, `r-${i}.txt`), 'moved');
            const r = await call('move_file', {
              source: `r-${i}.txt`,
              destination: `sub/m-${i}.txt`,
            });
            tally('move', r, false);
            break;
          }
          default: {
            const r = await call('read_text_file', { path: 'sub/inner/g.txt' });
            tally('read-deep', r, body(r).includes(SECRET));
          }
        }
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      // Put the tree back: the swapper may have stopped mid-swap, and the
      // server may have made `sub` again (mkdir -p) while it was away.
      const held = join(root, 'sub.held');
      const st = lstatSync(sub, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) unlinkSync(sub);
      else if (st && existsSync(held)) renameSync(sub, `${sub}.stray-final`);
      if (existsSync(held)) renameSync(held, sub);
    }
    const swaps = Number(out.replace('ready\n', ''));
    const after = snapshot(outside);
    const created = after.filter((p) => !before.includes(p));
    console.log(
      `files race: ${OPS} operations, ${swaps} swaps, ${created.length} entries created outside`,
    );
    for (const [op, c] of Object.entries(counts))
      console.log(`  ${op}: ${c.ok} ok, ${c.refused} refused, ${c.escapes} escapes`);
    console.log(`  refusals: ${JSON.stringify(reasons)}`);

    expect(swaps).toBeGreaterThan(0);
    expect(created).toEqual([]);
    expect(after).toEqual(before);
    expect(Object.values(counts).reduce((n, c) => n + c.escapes, 0)).toBe(0);
    // Operations did go through while the swaps ran.
    expect(Object.values(counts).reduce((n, c) => n + c.ok, 0)).toBeGreaterThan(0);
    // What was written landed inside the root.
    const inside = readdirSync(root)
      .filter((n) => n.startsWith('sub'))
      .flatMap((d) => readdirSync(join(root, d)));
    expect(inside.some((n) => /^[wm]-\d+\.txt$/.test(n))).toBe(true);
    expect(inside.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
