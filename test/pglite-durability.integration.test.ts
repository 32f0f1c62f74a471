// The embedded database flushes what it commits to the disk. PGlite runs
// PostgreSQL with fsync off on a file system with no fsync, so commits reach
// only the operating system's cache; Warden turns fsync on and gives the
// file system a real one (db/durable-fs.ts). These tests count the flushes
// the adapter makes and, with strace, the fsync system calls that reach the
// kernel; a data directory seeded from the template is flushed
// before it is used, and so is a new encryption key, without which the
// database's secrets cannot be read.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { PgliteDb } from '../src/db/pglite-db.ts';
import { PgliteThreadDb } from '../src/db/pglite-thread-db.ts';
import { findProgram, describeUnless } from './helpers/programs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'warden-durability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setting(db: PgliteDb, name: string): Promise<string> {
  const { rows } = await db.query<Record<string, string>>(`SHOW ${name}`);
  return rows[0]![name]!;
}

describe('the embedded database on disk', () => {
  it('flushes each commit that writes, and not a read, and has it all after a reopen', async () => {
    const path = join(dir, 'default');
    const db = await PgliteDb.open({ dataDir: path });
    try {
      expect(await setting(db, 'fsync')).toBe('on');
      expect(await setting(db, 'wal_sync_method')).toBe('fsync');
      await db.exec('CREATE TABLE t (id int PRIMARY KEY, doc jsonb)');

      const before = db.diskFlushCount!;
      for (let i = 0; i < 5; i++) await db.query('INSERT INTO t VALUES ($1, $2)', [i, { i }]);
      const afterWrites = db.diskFlushCount!;
      expect(afterWrites - before).toBeGreaterThanOrEqual(5);

      await db.query('SELECT count(*) FROM t');
      expect(db.diskFlushCount).toBe(afterWrites);

      // One transaction, one flush at its commit, however many rows.
      await db.transaction(async (tx) => {
        for (let i = 5; i < 15; i++) await tx.query('INSERT INTO t VALUES ($1, $2)', [i, { i }]);
      });
      expect(db.diskFlushCount! - afterWrites).toBe(1);

      // A checkpoint flushes the files the writes dirtied.
      const beforeCheckpoint = db.diskFlushCount!;
      await db.exec('CHECKPOINT');
      expect(db.diskFlushCount! - beforeCheckpoint).toBeGreaterThan(1);
    } finally {
      await db.close();
    }
    const reopened = await PgliteDb.open({ dataDir: path });
    try {
      expect((await reopened.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 15 }]);
    } finally {
      await reopened.close();
    }
  });

  it('flushes on its own thread too', async () => {
    const db = await PgliteThreadDb.open({ dataDir: join(dir, 'thread') });
    try {
      const { rows } = await db.query<{ fsync: string }>('SHOW fsync');
      expect(rows[0]!.fsync).toBe('on');
    } finally {
      await db.close();
    }
  });

  it('runs as PGlite does, without flushing, when fsync is off', async () => {
    const db = await PgliteDb.open({ dataDir: join(dir, 'off'), fsync: false });
    try {
      expect(await setting(db, 'fsync')).toBe('off');
      expect(db.diskFlushCount).toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it('has nothing to flush in memory', async () => {
    const db = await PgliteDb.open();
    try {
      expect(await setting(db, 'fsync')).toBe('off');
      expect(db.diskFlushCount).toBeUndefined();
    } finally {
      await db.close();
    }
  });
});

// strace shows what reaches the kernel. It needs ptrace, which a container
// may deny: then the test says so and skips.
const strace = findProgram('strace');
const straceWorks =
  strace !== undefined &&
  spawnSync(strace, ['-f', '--seccomp-bpf', '-e', 'trace=fsync', 'true']).status === 0;
const noStrace = !strace
  ? 'needs strace (apt install strace)'
  : !straceWorks
    ? 'strace cannot trace here (ptrace is not permitted)'
    : undefined;

describeUnless(noStrace, 'flushes that reach the kernel', () => {
  /** Runs body in a child process under strace -y: the calls it made to syscalls, one per line. */
  function traced(body: string, syscalls: string): { lines: string[]; work: string } {
    const work = mkdtempSync(join(dir, 'strace-'));
    const file = join(work, 'run.mts');
    const src = (path: string) => JSON.stringify(join(root, path));
    writeFileSync(
      file,
      [
        `import { mkdirSync } from 'node:fs';`,
        `import { PgliteDb } from ${src('src/db/pglite-db.ts')};`,
        `import { seedFromTemplate, writeTemplate } from ${src('src/db/pglite-template.ts')};`,
        `import { loadEncryptionKey } from ${src('src/secrets/encryption-key.ts')};`,
        `const work = ${JSON.stringify(work)};`,
        `const marker = () => mkdirSync(work + '/marker');`,
        'void PgliteDb; void seedFromTemplate; void writeTemplate; void loadEncryptionKey; void marker;',
        body,
      ].join('\n'),
    );
    const log = join(work, 'strace.log');
    const res = spawnSync(
      strace!,
      ['-f', '--seccomp-bpf', '-qq', '-y', '-e', `trace=${syscalls}`, '-o', log].concat([
        process.execPath,
        '--import',
        'tsx',
        file,
      ]),
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    return { lines: readFileSync(log, 'utf8').split('\n'), work };
  }

  const succeeded = (l: string) => /\bf(data)?sync\(\d+<[^>]*>\)\s+=\s+0/.test(l);

  /** The fsync calls body made before and after it made the directory named "marker". */
  function fsyncCalls(body: string): { before: number; after: number } {
    const { lines } = traced(body, 'fsync,fdatasync,mkdir');
    const at = lines.findIndex((l) => l.includes('/marker"'));
    expect(at).toBeGreaterThan(-1);
    const syncs = (part: string[]) => part.filter(succeeded).length;
    return { before: syncs(lines.slice(0, at)), after: syncs(lines.slice(at)) };
  }

  it('flushes a new encryption key before it takes its name, and the name after', () => {
    const { lines, work } = traced(
      `loadEncryptionKey({ dataDir: work + '/data' });`,
      'fsync,fdatasync,link,linkat',
    );
    const key = join(work, 'data', 'encryption.key');
    const link = lines.findIndex((l) => /\blink(at)?\(/.test(l) && l.includes(`"${key}"`));
    expect(link).toBeGreaterThan(-1);
    const flushes = (l: string, path: string) => succeeded(l) && l.includes(`<${path}>`);
    const keyFlush = lines.findIndex((l) => succeeded(l) && /encryption\.key\.\d+\.new>/.test(l));
    expect(keyFlush).toBeGreaterThan(-1);
    expect(keyFlush).toBeLessThan(link);
    expect(lines.slice(link).some((l) => flushes(l, join(work, 'data')))).toBe(true);
  });

  it('makes an fsync system call for each commit', () => {
    const commits = 40;
    const { after } = fsyncCalls(`
      const db = await PgliteDb.open({ dataDir: work + '/db' });
      await db.exec('CREATE TABLE t (n int)');
      marker();
      for (let i = 0; i < ${commits}; i++) await db.query('INSERT INTO t VALUES ($1)', [i]);
      await db.close();
    `);
    expect(after).toBeGreaterThanOrEqual(commits);
  });

  it('flushes every file of a data directory seeded from the template, and none with sync off', () => {
    const { before, after } = fsyncCalls(`
      // A template of an empty database, made in memory (no flush).
      const db = await PgliteDb.open();
      await db.exec('CHECKPOINT');
      const archive = new Uint8Array(await (await db.pg.dumpDataDir('gzip')).arrayBuffer());
      await db.close();
      writeTemplate(work + '/template', archive, []);
      const seed = (name: string, sync: boolean) => {
        const result = seedFromTemplate(work + '/' + name, work + '/template', [], { sync });
        if (!result.seeded) throw new Error(result.reason);
      };
      seed('unsynced', false);
      marker();
      seed('synced', true);
    `);
    expect(before).toBe(0);
    // A data directory holds about a thousand files and directories.
    expect(after).toBeGreaterThan(500);
  });
});
