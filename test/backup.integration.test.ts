// Database backups on the real PostgreSQL (pg_dump and pg_restore as child
// processes) and on an embedded PGlite data directory: a restore brings the
// data back, a damaged backup is refused before anything changes, rotation
// keeps seven days and always the newest, and the schedule takes one backup
// per period.
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServices } from '../src/app.ts';
import { diagnose } from '../src/cli/doctor.ts';
import { BackupService, libpqEnv } from '../src/backup/backup-service.ts';
import { tarEntries } from '../src/db/tar.ts';
import { createLogger } from '../src/log.ts';
import { runWarden } from './helpers/cli.ts';
import { describeUnless, missingPrograms, programs } from './helpers/programs.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices, testConfig } from './helpers/services.ts';
import { webhookSetRespond } from './helpers/workflows.ts';

const workflowNames = async (s: TestServices) =>
  (await s.engine.workflows.list()).map((w) => w.name).sort();

// pg_dump and pg_restore come from postgresql-client; without them these skip.
const needsPgTools = missingPrograms([programs.pgDump, programs.pgRestore]);

describeUnless(needsPgTools, 'backups of PostgreSQL', () => {
  let s: TestServices;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-backups-'));
    s = await makeTestServices('postgres', { WARDEN_BACKUP_DIR: dir });
  });
  afterAll(async () => {
    await s?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores the database as it was when the backup was taken, with progress on the way', async () => {
    await s.engine.createWorkflow({ ...webhookSetRespond('kept'), name: 'kept' });
    const lines: string[] = [];
    const b = await s.backups.create((m) => lines.push(m));
    expect(b.kind).toBe('pg_dump');
    expect(b.bytes).toBeGreaterThan(0);
    expect(lines.some((l) => /dumping contents of table "public\.workflows"/.test(l))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([b.file, `${b.file}.json`]);

    const later = await s.engine.createWorkflow({ ...webhookSetRespond('later'), name: 'later' });
    await s.engine.deleteWorkflow(
      (await s.engine.workflows.list()).find((w) => w.name === 'kept')!.id,
    );
    expect(await workflowNames(s)).toEqual(['later']);

    await s.backups.restore(b.file, (m) => lines.push(m));
    expect(await workflowNames(s)).toEqual(['kept']);
    expect(later.id).toBeGreaterThan(0);
    // Triggers came back after the data: the incident count is not doubled.
    const { rows } = await s.db.query<{ kept: string; counted: string }>(
      'SELECT (SELECT incidents FROM memory_corpus)::text AS kept, (SELECT count(*) FROM memory_incidents)::text AS counted',
    );
    expect(rows[0]!.kept).toBe(rows[0]!.counted);
  });

  it('writes pg_dump files and their sidecars 0600 in a 0700 directory, even one that was open', async () => {
    chmodSync(dir, 0o755);
    const b = await s.backups.create();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(b.path).mode & 0o777).toBe(0o600);
    expect(statSync(`${b.path}.json`).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged backup before changing anything, and names the problem', async () => {
    const b = await s.backups.create();
    const bytes = readFileSync(b.path);
    const i = bytes.length - 10;
    bytes.writeUInt8(bytes.readUInt8(i) ^ 0xff, i);
    writeFileSync(b.path, bytes);
    await s.engine.createWorkflow({ ...webhookSetRespond('after'), name: 'after' });
    await expect(s.backups.restore(b.file)).rejects.toMatchObject({
      code: 'backup_corrupt',
      message: expect.stringContaining(`backup ${b.file} does not match its checksum`),
    });
    expect(await workflowNames(s)).toContain('after');
    await expect(s.backups.restore('warden-20200101T000000000Z.pgdump')).rejects.toMatchObject({
      code: 'backup_not_found',
    });
  });

  it('says how to install pg_dump when it is missing, and leaves no half backup', async () => {
    const missing = new BackupService(s.db, {
      settings: { ...s.config.backup, pgDump: 'warden-no-such-pg-dump' },
      database: s.config.database,
    });
    const before = readdirSync(dir).sort();
    await expect(missing.create()).rejects.toMatchObject({
      code: 'backup_tool_missing',
      message: expect.stringContaining('apt install postgresql-client'),
    });
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('passes the password to pg_dump in its environment, never on its command line', () => {
    expect(
      libpqEnv('postgresql://ops:s%40cret@db.example.com:6543/warden?sslmode=require'),
    ).toEqual({
      PGHOST: 'db.example.com',
      PGPORT: '6543',
      PGUSER: 'ops',
      PGPASSWORD: 's@cret',
      PGDATABASE: 'warden',
      PGSSLMODE: 'require',
    });
  });

  it('backs up and lists from the command line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'warden-backup-cli-'));
    try {
      const env = { DATABASE_URL: s.config.database.url!, WARDEN_BACKUP_DIR: dir };
      const made = await runWarden(['backup', 'create', '--json'], { cwd, env });
      expect(made.code).toBe(0);
      const { backup } = JSON.parse(made.stdout) as { backup: { file: string } };
      expect(made.stderr).toContain('dumping contents of table');
      const listed = await runWarden(['backup', 'list', '--json'], { cwd, env });
      expect((JSON.parse(listed.stdout) as { file: string }[])[0]!.file).toBe(backup.file);
      const unconfirmed = await runWarden(['backup', 'restore', backup.file], { cwd, env });
      expect(unconfirmed.code).not.toBe(0);
      expect(unconfirmed.stderr).toContain('run again with --yes');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
  it('a restore from the command line is recorded in the audit chain, which still verifies', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'warden-backup-audit-'));
    const decision = (rule: string) =>
      s.exec.audit.append({
        caller: { kind: 'cli' },
        operation: 'execute_command',
        input: rule,
        decision: 'allowed',
        rule,
      });
    try {
      const env = {
        DATABASE_URL: s.config.database.url!,
        WARDEN_BACKUP_DIR: dir,
        WARDEN_DATA_DIR: s.dataDir,
      };
      await decision('before the backup');
      const b = await s.backups.create();
      await decision('after the backup');
      const restored = await runWarden(['backup', 'restore', b.file, '--yes', '--json'], {
        cwd,
        env,
      });
      expect(restored.code, restored.stderr).toBe(0);
      expect(JSON.parse(restored.stdout)).toMatchObject({ auditSeq: expect.any(Number) });
      const ops = [];
      for await (const r of s.exec.audit.records()) ops.push(r.operation);
      expect(ops.at(-1)).toBe('chain.restored');
      expect(await s.exec.audit.verify()).toMatchObject({ ok: true });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 60_000);
});

describeUnless(needsPgTools, 'rotation and the schedule', () => {
  let s: TestServices;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-rotation-'));
    s = await makeTestServices('postgres', { WARDEN_BACKUP_DIR: dir });
  });
  afterAll(async () => {
    await s?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const at = (iso: string) =>
    new BackupService(s.db, {
      settings: s.config.backup,
      database: s.config.database,
      now: () => new Date(iso),
    });

  it('keeps seven days of backups, and always the newest one', async () => {
    const old = await at('2026-11-01T03:00:00Z').create();
    // Only one backup, however old: it stays.
    expect(await at('2026-11-26T03:00:00Z').prune()).toEqual([]);
    const days = ['2026-11-15', '2026-11-18', '2026-11-20', '2026-11-25'];
    for (const d of days) await at(`${d}T03:00:00Z`).create();
    const removed = await at('2026-11-26T03:00:00Z').prune();
    expect(removed.map((r) => r.file).sort()).toEqual(
      [old.file, 'warden-20261115T030000000Z.pgdump', 'warden-20261118T030000000Z.pgdump'].sort(),
    );
    expect((await at('2026-11-26T03:00:00Z').list()).map((b) => b.file)).toEqual([
      'warden-20261125T030000000Z.pgdump',
      'warden-20261120T030000000Z.pgdump',
    ]);
  });

  it('takes a scheduled backup once per period', async () => {
    // The newest backup is from 2026-11-25 03:00; a day later one is due.
    expect(await at('2026-11-25T20:00:00Z').runScheduled()).toBeUndefined();
    const taken = await at('2026-11-26T03:30:00Z').runScheduled();
    expect(taken?.file).toBe('warden-20261126T033000000Z.pgdump');
    expect(await at('2026-11-26T04:00:00Z').runScheduled()).toBeUndefined();
  });
});

describeUnless(needsPgTools, 'backups of another database', () => {
  // Regression: after a move from the embedded database to PostgreSQL with
  // the same data directory, the schedule saw the old tarball as a recent
  // backup, took no pg_dump, and doctor said "ok".
  it('neither satisfy the schedule nor doctor: only backups of the database in use count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-moved-'));
    const s = await makeTestServices('postgres', {
      WARDEN_BACKUP_DIR: dir,
      LLM_RETRIES: '0',
      OLLAMA_URL: 'http://127.0.0.1:1',
    });
    try {
      const now = new Date();
      const foreign = (file: string, kind: string, database: string) => {
        writeFileSync(join(dir, file), 'old backup');
        writeFileSync(
          join(dir, `${file}.json`),
          JSON.stringify({ kind, createdAt: now.toISOString(), bytes: 10, sha256: 'x', database }),
        );
      };
      const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('.', '');
      foreign(`warden-${stamp(now)}.pglite.tar.gz`, 'pglite', `pglite:${dir}`);
      foreign(
        `warden-${stamp(new Date(now.getTime() - 1000))}.pgdump`,
        'pg_dump',
        'postgres://elsewhere:5432/other',
      );
      expect(await s.backups.list()).toHaveLength(2);
      expect(await s.backups.listOfThisDatabase()).toEqual([]);
      const doctor = (await diagnose(s)).find((f) => f.check === 'backups');
      expect(doctor).toMatchObject({ status: 'warn' });
      expect(doctor!.detail).toContain('no backup of this database');
      expect(doctor!.detail).toContain('2 of another database');

      const taken = await s.backups.runScheduled();
      expect(taken).toMatchObject({ kind: 'pg_dump', database: s.backups.database });
      expect(s.backups.database).toMatch(/^postgres:\/\/127\.0\.0\.1:5432\/\S+$/);
      expect(s.backups.database).not.toContain('postgres@');
      const sidecar = JSON.parse(readFileSync(`${taken!.path}.json`, 'utf8')) as {
        database: string;
      };
      expect(sidecar.database).toBe(s.backups.database);
      expect(await s.backups.runScheduled()).toBeUndefined();
      expect((await diagnose(s)).find((f) => f.check === 'backups')).toMatchObject({
        status: 'ok',
      });
    } finally {
      await s.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Waits (up to 20 s) for the first file to appear in a backup directory. */
async function waitForBackup(dir: string): Promise<void> {
  const until = Date.now() + 20_000;
  while (readdirSync(dir).length === 0 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
}

/**
 * Runs fn with test services on PostgreSQL whose backups go to a new
 * directory, then stops the schedule, disposes of them and removes it.
 */
async function withScheduledBackups(
  fn: (s: TestServices, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-schedule-'));
  const s = await makeTestServices('postgres', { WARDEN_BACKUP_DIR: dir });
  try {
    await fn(s, dir);
  } finally {
    await s.backups.stop();
    await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

describeUnless(needsPgTools, 'the schedule', () => {
  it('takes the first backup after its delay, not at start, and stop waits for one under way', () =>
    withScheduledBackups(async (s, dir) => {
      s.backups.startSchedule(60_000, 300);
      expect(await s.backups.list()).toEqual([]);
      await waitForBackup(dir);
      await s.backups.stop();
      expect(await s.backups.list()).toHaveLength(1);
      expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
    }));

  it('puts a scheduled backup off while the process is busy, then takes it once quiet', () =>
    withScheduledBackups(async (s, dir) => {
      let busy = true;
      let looks = 0;
      s.backups.startSchedule(60_000, 50, {
        busy: async () => (looks++, busy),
        retryMs: 30,
        maxDeferMs: 60_000,
      });
      await new Promise((r) => setTimeout(r, 400));
      expect(looks).toBeGreaterThan(3); // it keeps looking...
      expect(readdirSync(dir)).toEqual([]); // ...and takes nothing while busy
      busy = false;
      await waitForBackup(dir);
      await s.backups.stop();
      expect(await s.backups.list()).toHaveLength(1);
    }));

  it('takes a scheduled backup anyway once the process has been busy for longer than the limit', () =>
    withScheduledBackups(async (s, dir) => {
      s.backups.startSchedule(60_000, 50, {
        busy: async () => true,
        retryMs: 30,
        maxDeferMs: 200,
      });
      await waitForBackup(dir);
      await s.backups.stop();
      expect(await s.backups.list()).toHaveLength(1);
    }));
});

// On PostgreSQL: a pg_dump of a fresh schema takes a fraction of a second,
// where the embedded database's gzipped data directory took most of this
// test's time (it sat near its 30 s limit on a busy machine).
describeUnless(needsPgTools, 'warden doctor', () => {
  it('warns while there is no backup, and names the newest once there is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-doctor-backups-'));
    const s = await makeTestServices('postgres', {
      WARDEN_BACKUP_DIR: dir,
      LLM_RETRIES: '0',
      OLLAMA_URL: 'http://127.0.0.1:1',
    });
    try {
      const before = (await diagnose(s)).find((f) => f.check === 'backups');
      expect(before).toMatchObject({
        status: 'warn',
        detail: expect.stringContaining('no backup'),
      });
      expect(before!.fix).toContain('warden backup create');
      const b = await s.backups.create();
      const after = (await diagnose(s)).find((f) => f.check === 'backups');
      expect(after).toMatchObject({ status: 'ok' });
      expect(after!.detail).toContain(`newest ${b.file}`);
    } finally {
      await s.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(['false', 'true'])(
  'backups of the embedded database (WARDEN_PGLITE_THREAD=%s)',
  (thread) => {
    it('restores a data directory while Warden is stopped, and refuses while it runs', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'warden-embedded-backup-'));
      const open = () =>
        createServices(
          testConfig({ WARDEN_DATA_DIR: dataDir, WARDEN_PGLITE_THREAD: thread }),
          createLogger({ level: 'silent' }),
        );
      try {
        let s = await open();
        const decision = (rule: string) =>
          s.exec.audit.append({
            caller: { kind: 'cli' },
            operation: 'execute_command',
            input: rule,
            decision: 'allowed',
            rule,
          });
        await s.engine.createWorkflow({ ...webhookSetRespond('kept'), name: 'kept' });
        await decision('before');
        const b = await s.backups.create();
        expect(b.kind).toBe('pglite');
        await s.engine.createWorkflow({ ...webhookSetRespond('later'), name: 'later' });
        await decision('after');
        // The command line, as a person runs it: refused while Warden runs.
        const cwd = dataDir;
        const env = { WARDEN_DATA_DIR: dataDir };
        const refused = await runWarden(['backup', 'restore', b.file, '--yes'], { cwd, env });
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain(`Another Warden process (pid ${process.pid})`);
        await s.close();

        const restored = await runWarden(['backup', 'restore', b.file, '--yes', '--json'], {
          cwd,
          env,
        });
        expect(restored.code).toBe(0);
        expect(restored.stderr).toContain('switching the data directory');
        s = await open();
        try {
          expect((await s.engine.workflows.list()).map((w) => w.name)).toEqual(['kept']);
          // The record the restore took back is not read as tampering: the chain says it was restored.
          expect(await s.exec.audit.verify()).toMatchObject({ ok: true, database: { records: 2 } });
          const ops = [];
          for await (const r of s.exec.audit.records()) ops.push(r.operation);
          expect(ops).toEqual(['execute_command', 'chain.restored']);
        } finally {
          await s.close();
        }
        // The replaced data directory is kept next to the new one.
        expect(readdirSync(dataDir).some((n) => n.startsWith('pglite.before-restore-'))).toBe(true);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      // Two CLI processes and three database opens: slow on a loaded machine.
    }, 90_000);
  },
);

describe('an embedded backup under way', () => {
  it('holds only the WAL since a checkpoint, and queries go on while it is compressed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-embedded-backup-'));
    const s = await createServices(
      testConfig({ WARDEN_DATA_DIR: dataDir }),
      createLogger({ level: 'silent' }),
    );
    try {
      // About 40 MB of WAL, more than two segments of 16 MB.
      await s.db.exec(`CREATE TABLE filler (v text);
        INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 40000)`);
      const segments = (names: string[]) =>
        names.filter((n) => /^\/?pg_wal\/[0-9A-F]{24}$/.test(n)).length;
      expect(
        segments(readdirSync(join(dataDir, 'pglite', 'pg_wal')).map((n) => `pg_wal/${n}`)),
      ).toBeGreaterThanOrEqual(3);
      const order: string[] = [];
      let query: Promise<void> | undefined;
      const b = await s.backups.create((m) => {
        if (m === 'compressing the archive')
          query = s.db.query('SELECT count(*) FROM filler').then(() => void order.push('query'));
      });
      order.push('backup written');
      await query;
      // Issued once the files were read, the query did not wait for the compression.
      expect(order).toEqual(['query', 'backup written']);
      const names = [...tarEntries(gunzipSync(readFileSync(b.path)))].map((e) => e.name);
      expect(names.some((n) => n.endsWith('PG_VERSION'))).toBe(true);
      expect(segments(names)).toBeGreaterThanOrEqual(1);
      expect(segments(names)).toBeLessThanOrEqual(2);
    } finally {
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a damaged embedded backup', () => {
  let dataDir: string;
  let s: Awaited<ReturnType<typeof createServices>>;
  let good: Awaited<ReturnType<BackupService['create']>>;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warden-damaged-backup-'));
    s = await createServices(
      testConfig({ WARDEN_DATA_DIR: dataDir }),
      createLogger({ level: 'silent' }),
    );
    await s.engine.createWorkflow({ ...webhookSetRespond('kept'), name: 'kept' });
    good = await s.backups.create();
    expect(statSync(good.path).mode & 0o777).toBe(0o600);
    await s.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // The sidecar is rewritten to match, as when a copy was cut short before it was checksummed.
  const damage = (name: string, bytes: Buffer) => {
    const path = join(s.backups.dir, name);
    writeFileSync(path, bytes, { mode: 0o600 });
    const sidecar = {
      kind: 'pglite',
      createdAt: new Date(Date.UTC(2021, 0, 1)).toISOString(),
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    writeFileSync(`${path}.json`, JSON.stringify(sidecar), { mode: 0o600 });
  };

  it.each([
    [
      'truncated',
      'warden-20210101T000000001Z.pglite.tar.gz',
      () => readFileSync(good.path).subarray(0, 2000),
    ],
    [
      'not a data directory',
      'warden-20210101T000000002Z.pglite.tar.gz',
      () => gzipSync(Buffer.alloc(4096, 7)),
    ],
  ])(
    'a %s archive gives a clear error, changes nothing and leaves no restoring directory',
    async (_what, name, bytes) => {
      damage(name, bytes());
      const restorer = new BackupService(undefined, {
        settings: s.config.backup,
        database: s.config.database,
      });
      const err = await restorer.restore(name).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({
        code: 'backup_damaged',
        message: expect.stringMatching(
          new RegExp(`^backup ${name.replace(/\./g, '\\.')} is damaged: `),
        ),
      });
      expect((err as Error).message).not.toMatch(/\n\s+at /);
      expect(readdirSync(dataDir).filter((n) => n.startsWith('pglite.restoring-'))).toEqual([]);
      expect(readdirSync(dataDir).filter((n) => n.startsWith('pglite.before-restore-'))).toEqual(
        [],
      );
      const again = await createServices(
        testConfig({ WARDEN_DATA_DIR: dataDir }),
        createLogger({ level: 'silent' }),
      );
      try {
        expect((await again.engine.workflows.list()).map((w) => w.name)).toEqual(['kept']);
      } finally {
        await again.close();
      }
    },
  );
});
