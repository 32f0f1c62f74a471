// Database backups on the real PostgreSQL (pg_dump and pg_restore as child
// processes) and on an embedded PGlite data directory: a restore brings the
// data back, a damaged backup is refused before anything changes, rotation
// keeps seven days and always the newest, and the schedule takes one backup
// per period.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServices } from '../src/app.ts';
import { diagnose } from '../src/cli/doctor.ts';
import { BackupService, libpqEnv } from '../src/backup/backup-service.ts';
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

describeUnless(needsPgTools, 'the schedule', () => {
  it('takes the first backup after its delay, not at start, and stop waits for one under way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-schedule-'));
    const s = await makeTestServices('postgres', { WARDEN_BACKUP_DIR: dir });
    try {
      s.backups.startSchedule(60_000, 300);
      expect(await s.backups.list()).toEqual([]);
      const until = Date.now() + 20_000;
      while (readdirSync(dir).length === 0 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      await s.backups.stop();
      expect(await s.backups.list()).toHaveLength(1);
      expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
    } finally {
      await s.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
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

describe('backups of the embedded database', () => {
  it('restores a data directory while Warden is stopped, and refuses while it runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-embedded-backup-'));
    const open = () =>
      createServices(testConfig({ WARDEN_DATA_DIR: dataDir }), createLogger({ level: 'silent' }));
    try {
      let s = await open();
      await s.engine.createWorkflow({ ...webhookSetRespond('kept'), name: 'kept' });
      const b = await s.backups.create();
      expect(b.kind).toBe('pglite');
      await s.engine.createWorkflow({ ...webhookSetRespond('later'), name: 'later' });
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
      } finally {
        await s.close();
      }
      // The replaced data directory is kept next to the new one.
      expect(readdirSync(dataDir).some((n) => n.startsWith('pglite.before-restore-'))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
