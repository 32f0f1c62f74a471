// The ustar writer and reader: what one writes the other reads back entry for entry, long
// names included (through the prefix field), and GNU tar agrees where it is
// installed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { readTreeSync, tarEntries, tarOf } from './tar.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'warden-tar-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const archive = (dir: string) => Buffer.concat([...tarOf(readTreeSync(dir))]);

describe('tarOf(readTreeSync(dir))', () => {
  it('writes directories and files that read back as they were, long names included', async () => {
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    mkdirSync(join(root, 'base', '1'), { recursive: true });
    mkdirSync(join(root, long), { recursive: true });
    writeFileSync(join(root, 'PG_VERSION'), '17\n');
    writeFileSync(join(root, 'empty'), '');
    const big = Buffer.alloc(3000, 7);
    big.write('start');
    writeFileSync(join(root, 'base', '1', '1259'), big);
    writeFileSync(join(root, long, 'f'.repeat(50)), 'deep');

    const tar = archive(root);
    expect(tar.length % 512).toBe(0);
    const entries = [...tarEntries(tar)].map((e) => ({
      name: e.name,
      type: e.type,
      data: e.data.toString('latin1'),
    }));
    expect(entries).toEqual([
      { name: '/PG_VERSION', type: 'file', data: '17\n' },
      { name: '/base', type: 'dir', data: '' },
      { name: '/base/1', type: 'dir', data: '' },
      { name: '/base/1/1259', type: 'file', data: big.toString('latin1') },
      { name: `/${'d'.repeat(60)}`, type: 'dir', data: '' },
      { name: `/${long}`, type: 'dir', data: '' },
      { name: `/${long}/${'f'.repeat(50)}`, type: 'file', data: 'deep' },
      { name: '/empty', type: 'file', data: '' },
    ]);

    const gnuTar = spawnSync('tar', ['--version']);
    if (gnuTar.status !== 0) return; // no tar program here: the reader above is the check
    const file = join(tmpdir(), `warden-tar-${process.pid}.tar`);
    writeFileSync(file, tar);
    try {
      // -P: the names are "/"-prefixed, as PGlite writes them.
      const listed = spawnSync('tar', ['-tPf', file], { encoding: 'utf8' });
      expect({ code: listed.status, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(listed.stdout.split('\n').filter(Boolean)).toEqual(entries.map((e) => e.name));
    } finally {
      rmSync(file, { force: true });
    }
  });
});
