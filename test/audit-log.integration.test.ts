// The audit log on a real PostgreSQL: hash-chained, append-only by trigger,
// and verify names the first broken record in the database and the file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate } from '../src/db/migrate.ts';
import { PgliteDb } from '../src/db/pglite-db.ts';
import { AuditLog } from '../src/exec/audit-log.ts';
import type { TestExec } from './helpers/exec.ts';
import { makeTestExec } from './helpers/exec.ts';

describe('audit log', () => {
  let exec: TestExec;
  beforeAll(async () => {
    exec = await makeTestExec();
    for (const [i, decision] of (['allowed', 'refused', 'allowed', 'failed'] as const).entries())
      await exec.audit.append({
        caller: { kind: 'mcp', id: 'test' },
        operation: 'execute_command',
        input: `command ${i}\0with NUL`,
        decision,
        rule: `rule.${i}`,
        exitCode: decision === 'allowed' ? 0 : null,
      });
  });
  afterAll(() => exec?.dispose());

  it('chains each record to the one before and verifies', async () => {
    const records = [];
    for await (const r of exec.audit.records()) records.push(r);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(records[1]!.prevHash).toBe(records[0]!.hash);
    expect(await exec.audit.verify()).toMatchObject({
      ok: true,
      database: { ok: true, records: 4 },
      file: { ok: true, records: 4 },
    });
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database', async () => {
    await expect(exec.db.query(`UPDATE exec_audit SET at = 'x' WHERE seq = 2`)).rejects.toThrow(
      /append-only/,
    );
    await expect(exec.db.query('DELETE FROM exec_audit WHERE seq = 4')).rejects.toThrow(
      /append-only/,
    );
    await expect(exec.db.query('TRUNCATE exec_audit')).rejects.toThrow(/append-only/);
    expect((await exec.audit.verifyDatabase()).ok).toBe(true);
  });

  it('names the first broken record when the file is edited', () => {
    const file = exec.audit.file;
    const original = readFileSync(file, 'utf8');
    try {
      const lines = original.trim().split('\n');
      lines[2] = lines[2]!.replace('"rule.2"', '"rule.harmless"');
      writeFileSync(file, `${lines.join('\n')}\n`);
      expect(exec.audit.verifyFile()).toMatchObject({ ok: false, brokenSeq: 3, reason: /content/ });
      writeFileSync(file, `${[lines[0], lines[1], lines[3]].join('\n')}\n`);
      expect(exec.audit.verifyFile()).toMatchObject({ ok: false, brokenSeq: 4 });
    } finally {
      writeFileSync(file, original);
    }
  });

  it('`warden audit verify` exits 2 and names the record when the file is edited', () => {
    const file = exec.audit.file;
    const original = readFileSync(file, 'utf8');
    const verify = () =>
      spawnSync(
        process.execPath,
        [fileURLToPath(new URL('../bin/warden.js', import.meta.url)), 'audit', 'verify'],
        {
          cwd: exec.dir,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: exec.dbUrl,
            WARDEN_DATA_DIR: exec.dir,
            WARDEN_AUDIT_FILE: file,
            LOG_LEVEL: 'silent',
          },
        },
      );
    try {
      const good = verify();
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toBe('database: ok, 4 record(s)\nfile: ok, 4 record(s)\n');
      writeFileSync(file, original.replace('"rule.1"', '"rule.x"'));
      const bad = verify();
      expect(bad.status).toBe(2);
      expect(bad.stdout).toMatch(/^file: BROKEN at record 2: /m);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('names where the file stops matching the database when it loses its tail', async () => {
    const file = exec.audit.file;
    const original = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, `${original.trim().split('\n').slice(0, 3).join('\n')}\n`);
      expect(exec.audit.verifyFile()).toMatchObject({ ok: true, records: 3 });
      expect(await exec.audit.verify()).toMatchObject({
        ok: false,
        database: { ok: true },
        file: { ok: false, brokenSeq: 4, reason: /file ends here/ },
      });
    } finally {
      writeFileSync(file, original);
    }
  });

  it('names the first broken record when a superuser edits the table past the trigger', async () => {
    const c = new pg.Client({ connectionString: exec.dbUrl });
    await c.connect();
    try {
      await c.query('ALTER TABLE exec_audit DISABLE TRIGGER USER');
      await c.query(
        `UPDATE exec_audit SET record = jsonb_set(record, '{decision}', '"allowed"') WHERE seq = 2`,
      );
    } finally {
      await c.end();
    }
    expect(await exec.audit.verifyDatabase()).toMatchObject({ ok: false, brokenSeq: 2 });
  });
});

describe('audit log on embedded PGlite', () => {
  it('chains, refuses UPDATE and verifies', async () => {
    const db = await PgliteDb.open();
    const dir = mkdtempSync(join(tmpdir(), 'warden-audit-pglite-'));
    try {
      await migrate(db);
      const log = new AuditLog(db, { file: join(dir, 'audit.jsonl') });
      for (const rule of ['a', 'b', 'c'])
        await log.append({
          caller: { kind: 'agent' },
          operation: 'run_action',
          input: { rule },
          decision: 'allowed',
          rule,
        });
      await expect(db.query('DELETE FROM exec_audit')).rejects.toThrow(/append-only/);
      expect(await log.verify()).toMatchObject({
        ok: true,
        database: { records: 3 },
        file: { records: 3 },
      });
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
