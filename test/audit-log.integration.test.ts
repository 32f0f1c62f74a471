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
import { PostgresDb } from '../src/db/postgres-db.ts';
import { deriveAuditKey } from '../src/exec/audit-anchor.ts';
import type { StoredRecord } from '../src/exec/audit-log.ts';
import { AuditLog, canonicalJson, genesisHash, hashRecord } from '../src/exec/audit-log.ts';
import type { TestExec } from './helpers/exec.ts';
import { loadEncryptionKey } from '../src/secrets/encryption-key.ts';
import { makeTestExec } from './helpers/exec.ts';
import { createTestDatabase } from './helpers/servers.ts';

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

// An attacker with write access to the database (past the trigger) and to the
// JSONL file, but without the audit key, who knows the hash algorithm.
describe('audit chain anchoring', () => {
  let exec: TestExec;
  let sql: pg.Client;
  let original: string;
  beforeAll(async () => {
    exec = await makeTestExec();
    for (let i = 1; i <= 5; i++)
      await exec.audit.append({
        caller: { kind: 'mcp', id: 'test' },
        operation: 'execute_command',
        input: `command ${i}`,
        decision: 'allowed',
        rule: `rule.${i}`,
        exitCode: 0,
      });
    original = readFileSync(exec.audit.file, 'utf8');
    sql = new pg.Client({ connectionString: exec.dbUrl });
    await sql.connect();
    await sql.query('ALTER TABLE exec_audit DISABLE TRIGGER USER');
  });
  afterAll(async () => {
    await sql?.end();
    await exec?.dispose();
  });

  const records = async () => {
    const all: StoredRecord[] = [];
    for await (const r of exec.audit.records()) all.push(r);
    return all;
  };
  // Puts the database and the file back as they were written.
  const reset = async (rows: StoredRecord[]) => {
    await sql.query('DELETE FROM exec_audit');
    for (const r of rows) {
      const { hash, ...rest } = r;
      await sql.query(
        'INSERT INTO exec_audit (seq, at, record, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)',
        [r.seq, r.at, JSON.stringify(rest), r.prevHash, hash],
      );
    }
    writeFileSync(exec.audit.file, original);
  };
  // Rewrites the chain from record `from` on, recomputing every hash, in the database and the file.
  const rewrite = async (
    rows: StoredRecord[],
    from: number,
    opts: { stripMacs?: boolean } = {},
  ) => {
    let prev = from > 1 ? rows[from - 2]!.hash : genesisHash;
    const out = rows.map((r) => ({ ...r }));
    for (const r of out.slice(from - 1)) {
      const { hash: _h, mac, ...body } = r;
      body.prevHash = prev;
      const hash = hashRecord(body);
      Object.assign(r, body, { hash }, opts.stripMacs ? { mac: undefined } : { mac });
      prev = hash;
    }
    await sql.query('DELETE FROM exec_audit');
    for (const r of out) {
      const { hash, ...rest } = r;
      await sql.query(
        'INSERT INTO exec_audit (seq, at, record, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)',
        [r.seq, r.at, JSON.stringify(rest), r.prevHash, hash],
      );
    }
    writeFileSync(exec.audit.file, out.map((r) => `${canonicalJson(r)}\n`).join(''));
  };

  it('deleting the newest records in the database and the file is detected', async () => {
    const rows = await records();
    expect(rows.every((r) => typeof r.mac === 'string')).toBe(true);
    try {
      await sql.query('DELETE FROM exec_audit WHERE seq >= 4');
      writeFileSync(exec.audit.file, `${original.trim().split('\n').slice(0, 3).join('\n')}\n`);
      const v = await exec.audit.verify();
      expect(v.ok).toBe(false);
      expect(v.database).toMatchObject({
        ok: false,
        brokenSeq: 4,
        reason: /newer records were removed/,
      });
      expect(v.file).toMatchObject({
        ok: false,
        brokenSeq: 4,
        reason: /newer records were removed/,
      });
    } finally {
      await reset(rows);
    }
    expect((await exec.audit.verify()).ok).toBe(true);
  });

  it('rewriting a record and recomputing every later hash in the database and the file is detected', async () => {
    const rows = await records();
    try {
      const edited = rows.map((r) => (r.seq === 2 ? { ...r, decision: 'refused' as const } : r));
      await rewrite(edited, 2);
      const v = await exec.audit.verify();
      expect(v.database).toMatchObject({ ok: false, brokenSeq: 2, reason: /MAC does not match/ });
      expect(v.file).toMatchObject({ ok: false, brokenSeq: 2, reason: /MAC does not match/ });
      // Stripping every MAC makes the chain look older than the key: the checkpoints still see it.
      await rewrite(edited, 1, { stripMacs: true });
      const stripped = await exec.audit.verify();
      expect(stripped.database).toMatchObject({ ok: false, reason: /checkpoint/ });
      expect(stripped.ok).toBe(false);
    } finally {
      await reset(rows);
    }
  });

  it('a tampered `at` is detected, in the column alone or recomputed in the record', async () => {
    const rows = await records();
    try {
      await sql.query(`UPDATE exec_audit SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 3`);
      expect(await exec.audit.verifyDatabase()).toMatchObject({ ok: false, brokenSeq: 3 });
      await rewrite(
        rows.map((r) => (r.seq === 3 ? { ...r, at: '2020-01-01T00:00:00.000Z' } : r)),
        3,
      );
      const v = await exec.audit.verify();
      expect(v.database).toMatchObject({ ok: false, brokenSeq: 3, reason: /MAC/ });
      expect(v.file).toMatchObject({ ok: false, brokenSeq: 3, reason: /MAC/ });
    } finally {
      await reset(rows);
    }
  });

  it('a tampered prev_hash is detected', async () => {
    const rows = await records();
    try {
      await sql.query(`UPDATE exec_audit SET prev_hash = $1 WHERE seq = 2`, [genesisHash]);
      expect(await exec.audit.verifyDatabase()).toMatchObject({ ok: false, brokenSeq: 2 });
      await sql.query(
        `UPDATE exec_audit SET record = jsonb_set(record, '{prevHash}', to_jsonb($1::text)) WHERE seq = 2`,
        [genesisHash],
      );
      expect(await exec.audit.verifyDatabase()).toMatchObject({ ok: false, brokenSeq: 2 });
    } finally {
      await reset(rows);
    }
    expect((await exec.audit.verify()).ok).toBe(true);
  });

  it('a restore to an older point reads as a chain.restored event, not tampering', async () => {
    const rows = await records();
    try {
      // What restoring a backup taken after record 3 does to the table.
      await sql.query('DELETE FROM exec_audit WHERE seq >= 4');
      expect((await exec.audit.verify()).ok).toBe(false);
      const { record, previousFile } = await exec.audit.reanchor('chain.restored', {
        backup: 'warden-20260101T000000000Z.pgdump',
      });
      expect(record).toMatchObject({
        seq: 4,
        operation: 'chain.restored',
        input: { prior: { seq: 5, mac: rows[4]!.mac } },
      });
      // The old file is set aside whole, with the two records the restore took back.
      const aside = readFileSync(previousFile!, 'utf8').trim().split('\n');
      expect(aside).toHaveLength(5);
      expect(aside[4]).toContain(rows[4]!.hash);
      expect(await exec.audit.verify()).toMatchObject({
        ok: true,
        database: { ok: true, records: 4 },
        file: { ok: true, records: 4 },
      });
      await exec.audit.append({
        caller: { kind: 'cli' },
        operation: 'execute_command',
        input: 'after the restore',
        decision: 'allowed',
        rule: 'after',
      });
      expect((await exec.audit.verify()).ok).toBe(true);
      // Deleting the newest record after the re-anchor is caught again.
      await sql.query('DELETE FROM exec_audit WHERE seq = 5');
      expect(await exec.audit.verifyDatabase()).toMatchObject({ ok: false, brokenSeq: 5 });
    } finally {
      await sql.query('DELETE FROM exec_audit WHERE seq >= 4');
    }
  });

  it('a move to another database reads as a chain.migrated event, not tampering', async () => {
    const target = await createTestDatabase();
    const db = new PostgresDb({ url: target.url, max: 2 });
    try {
      await migrate(db);
      const moved = new AuditLog(db, {
        file: exec.audit.file,
        macKey: deriveAuditKey(loadEncryptionKey({ dataDir: exec.dir })),
        checkpointFile: exec.audit.checkpointFile,
      });
      expect((await moved.verify()).ok).toBe(false);
      await moved.reanchor('chain.migrated', { from: 'pglite' });
      expect(await moved.verify()).toMatchObject({ ok: true, database: { records: 1 } });
    } finally {
      await db.close();
      await target.drop();
    }
  });
  it('`warden audit anchor --event restored` records a restore the CLI did not see, and verify passes', () => {
    const warden = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [fileURLToPath(new URL('../bin/warden.js', import.meta.url)), ...args],
        {
          cwd: exec.dir,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: exec.dbUrl,
            WARDEN_DATA_DIR: exec.dir,
            WARDEN_AUDIT_FILE: exec.audit.file,
            LOG_LEVEL: 'silent',
          },
        },
      );
    // The earlier tests left this table behind the checkpoints (they last anchored another database).
    const before = warden('audit', 'verify');
    expect(before.status).toBe(2);
    expect(before.stdout).toMatch(/^database: BROKEN at record \d+: .*checkpoint/m);
    const anchored = warden('audit', 'anchor', '--event', 'restored', '--note', 'restored by hand');
    expect(anchored.status, anchored.stderr).toBe(0);
    expect(anchored.stdout).toMatch(/^recorded chain\.restored as record \d+/);
    const after = warden('audit', 'verify');
    expect(after.status, after.stdout).toBe(0);
    expect(warden('audit', 'anchor', '--event', 'rewritten').stderr).toMatch(
      /--event takes 'restored' or 'migrated'/,
    );
  }, 60_000);
});

describe('audit appends under a small pool', () => {
  it('twenty concurrent appends through a pool of two all land, in one chain', async () => {
    const target = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'warden-audit-pool-'));
    const setup = new PostgresDb({ url: target.url, max: 2 });
    try {
      await migrate(setup);
      const log = new AuditLog(setup, { file: join(dir, 'audit.jsonl') });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          log.append({
            caller: { kind: 'mcp', id: `c${i}` },
            operation: 'execute_command',
            input: `command ${i}`,
            decision: 'allowed',
            rule: 'r',
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await log.verify()).toMatchObject({ ok: true, database: { records: 20 } });
    } finally {
      await setup.close();
      await target.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
