// The audit log: every execution decision, appended to the database
// (exec_audit, which a trigger keeps append-only) and to a JSONL file. Each
// record carries the hash of the one before it; a record's hash is
// sha256(previous hash + canonical JSON of the record), so editing,
// removing or reordering any record breaks the chain from there on.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { Db } from '../db/db.ts';

export const genesisHash = '0'.repeat(64);

export type Caller = {
  /** Who asked: an MCP client, an API key, the agent, a workflow, the CLI, a monitor, the healing pipeline. */
  kind: 'mcp' | 'api_key' | 'agent' | 'workflow' | 'cli' | 'monitor' | 'healing';
  /** Which one: MCP client name, key id, workflow id, monitor name, incident id. */
  id?: string;
};

export type AuditEntry = {
  caller: Caller;
  /** The tool or entry point: execute_command, run_action, query_postgres, ... */
  operation: string;
  /** What was asked, as given (command line, action and params, SQL). */
  input: unknown;
  /** The argv that ran, when one did. */
  argv?: readonly string[];
  decision: 'allowed' | 'refused' | 'failed';
  /** The rule that decided. */
  rule: string;
  exitCode?: number | null;
  durationMs?: number;
  /** sha256 of stdout + NUL + stderr (or of the result). */
  outputDigest?: string;
};

export type AuditRecord = Required<
  Pick<AuditEntry, 'caller' | 'operation' | 'decision' | 'rule'>
> & {
  seq: number;
  at: string;
  prevHash: string;
  input: unknown;
  argv: string[] | null;
  exitCode: number | null;
  durationMs: number | null;
  outputDigest: string | null;
};

export type StoredRecord = AuditRecord & { hash: string };

export type ChainCheck =
  { ok: true; records: number } | { ok: false; records: number; brokenSeq: number; reason: string };

/** JSON with object keys sorted at every depth: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashRecord(record: AuditRecord): string {
  return createHash('sha256').update(record.prevHash).update(canonicalJson(record)).digest('hex');
}

export function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

// PostgreSQL text and jsonb refuse NUL; hostile input carries it. Strings are
// kept readable but made storable, and long ones cut.
function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    const s = value
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replaceAll('\0', '\\u0000');
    return s.length > 4096 ? `${s.slice(0, 4096)}...(${s.length} chars)` : s;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value ?? null;
  if (Array.isArray(value)) return value.slice(0, 256).map((v) => storable(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .slice(0, 128)
      .map(([k, v]) => [storable(k) as string, storable(v, depth + 1)]),
  );
}

/** Checks a chain of records in order; names the first one that is broken. */
export function checkChain(records: Iterable<StoredRecord>): ChainCheck {
  let prev = genesisHash;
  let n = 0;
  for (const r of records) {
    n++;
    const seq = typeof r.seq === 'number' ? r.seq : n;
    const fail = (reason: string): ChainCheck => ({
      ok: false,
      records: n,
      brokenSeq: seq,
      reason,
    });
    if (r.seq !== n) return fail(`expected record ${n}, found ${String(r.seq)}`);
    if (r.prevHash !== prev) return fail('its prevHash is not the hash of the record before it');
    const { hash, ...body } = r;
    if (hashRecord(body) !== hash) return fail('its content does not match its hash');
    prev = hash;
  }
  return { ok: true, records: n };
}

export type AuditLogOptions = {
  /** JSONL file written alongside the database. */
  file: string;
};

export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly options: AuditLogOptions,
  ) {}

  get file(): string {
    return this.options.file;
  }

  async append(entry: AuditEntry): Promise<StoredRecord> {
    return this.db.withLock('warden:audit', async () => {
      const stored = await this.db.transaction(async (tx) => {
        const last = await tx.query<{ seq: number; hash: string }>(
          'SELECT seq, hash FROM exec_audit ORDER BY seq DESC LIMIT 1',
        );
        const record: AuditRecord = {
          seq: Number(last.rows[0]?.seq ?? 0) + 1,
          at: new Date().toISOString(),
          prevHash: last.rows[0]?.hash ?? genesisHash,
          caller: storable(entry.caller) as Caller,
          operation: entry.operation,
          input: storable(entry.input),
          argv: entry.argv ? (storable([...entry.argv]) as string[]) : null,
          decision: entry.decision,
          rule: storable(entry.rule) as string,
          exitCode: entry.exitCode ?? null,
          durationMs: entry.durationMs ?? null,
          outputDigest: entry.outputDigest ?? null,
        };
        const hash = hashRecord(record);
        await tx.query(
          'INSERT INTO exec_audit (seq, at, record, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)',
          [record.seq, record.at, JSON.stringify(record), record.prevHash, hash],
        );
        return { ...record, hash };
      });
      mkdirSync(dirname(this.options.file), { recursive: true, mode: 0o700 });
      appendFileSync(this.options.file, `${canonicalJson(stored)}\n`, { mode: 0o600 });
      return stored;
    });
  }

  async *records(): AsyncGenerator<StoredRecord> {
    let after = 0;
    for (;;) {
      const { rows } = await this.db.query<{ seq: number; record: AuditRecord; hash: string }>(
        'SELECT seq, record, hash FROM exec_audit WHERE seq > $1 ORDER BY seq LIMIT 500',
        [after],
      );
      for (const r of rows) yield { ...r.record, hash: r.hash };
      if (rows.length < 500) return;
      after = Number(rows.at(-1)!.seq);
    }
  }

  private async databaseRecords(): Promise<StoredRecord[]> {
    const all: StoredRecord[] = [];
    for await (const r of this.records()) all.push(r);
    return all;
  }

  async verifyDatabase(): Promise<ChainCheck> {
    return checkChain(await this.databaseRecords());
  }

  private fileRecords(): StoredRecord[] | ChainCheck {
    if (!existsSync(this.options.file)) return [];
    const lines = readFileSync(this.options.file, 'utf8').split('\n').filter(Boolean);
    const records: StoredRecord[] = [];
    for (const [i, line] of lines.entries()) {
      try {
        records.push(JSON.parse(line) as StoredRecord);
      } catch {
        const prior = checkChain(records);
        if (!prior.ok) return prior;
        return { ok: false, records: i + 1, brokenSeq: i + 1, reason: 'line is not valid JSON' };
      }
    }
    return records;
  }

  /** Checks the JSONL file; a line that is not JSON is a broken record. */
  verifyFile(): ChainCheck {
    const records = this.fileRecords();
    return Array.isArray(records) ? checkChain(records) : records;
  }

  /**
   * Checks both chains, then that they hold the same records: a chain that
   * is whole but shorter, or that forked, is broken where they part.
   */
  async verify(): Promise<{ ok: boolean; database: ChainCheck; file: ChainCheck }> {
    const rows = await this.databaseRecords();
    const database = checkChain(rows);
    const lines = this.fileRecords();
    let file = Array.isArray(lines) ? checkChain(lines) : lines;
    if (database.ok && file.ok && Array.isArray(lines)) {
      const n = Math.max(rows.length, lines.length);
      for (let i = 0; i < n; i++) {
        if (rows[i]?.hash === lines[i]?.hash) continue;
        file = {
          ok: false,
          records: lines.length,
          brokenSeq: i + 1,
          reason: !lines[i]
            ? 'the file ends here but the database goes on'
            : !rows[i]
              ? 'the database ends here but the file goes on'
              : 'the file and the database differ here',
        };
        break;
      }
    }
    return { ok: database.ok && file.ok, database, file };
  }
}
