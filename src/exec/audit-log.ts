// The audit log: every execution decision, appended to the database
// (exec_audit, which a trigger keeps append-only) and to a JSONL file. Each
// record carries the hash of the one before it; a record's hash is
// sha256(previous hash + canonical JSON of the record), so editing,
// removing or reordering any record breaks the chain from there on. With a
// key (audit-anchor.ts) each record also carries an HMAC over every field,
// and the head is checkpointed outside the database, so a rewrite that
// recomputes the hashes, or the removal of the newest records, is found too.
// Appends hold one connection: the lock is taken inside the transaction.
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';

import type { Db, Queryable } from '../db/db.ts';
import { lockForTransaction } from '../db/db.ts';
import { UserError } from '../errors.ts';
import type { ChainEvent, Checkpoint, Head } from './audit-anchor.ts';
import {
  CheckpointFile,
  liveCheckpoints,
  macMatches,
  macOf,
  readPendingReanchor,
} from './audit-anchor.ts';

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

export type StoredRecord = AuditRecord & {
  hash: string;
  /** HMAC-SHA256 over the record and its hash, when the log has a key. */
  mac?: string;
};

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

/** The MAC of a record: over its canonical JSON with the hash, so seq, at and prevHash count too. */
export function recordMac(key: Buffer, record: AuditRecord, hash: string): string {
  return macOf(key, canonicalJson({ ...record, hash }));
}

export type CheckOptions = {
  /** Check each record's MAC. Records before the first that has one are older than the key and pass on their hashes; after it, every record needs one. */
  key?: Buffer;
};

/** Checks a chain of records in order; names the first one that is broken. */
export function checkChain(
  records: Iterable<StoredRecord>,
  options: CheckOptions = {},
): ChainCheck {
  let prev = genesisHash;
  let n = 0;
  let anchored = false;
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
    const { hash, mac, ...body } = r;
    if (hashRecord(body) !== hash) return fail('its content does not match its hash');
    if (options.key) {
      if (mac === undefined) {
        if (anchored) return fail('it has no MAC, though the records before it have one');
      } else if (!macMatches(mac, recordMac(options.key, body, hash)))
        return fail('its MAC does not match: it was written or rewritten without the audit key');
      else anchored = true;
    }
    prev = hash;
  }
  return { ok: true, records: n };
}

/**
 * Checks that a chain still holds every checkpointed head since the last
 * re-anchor: a chain that ends before one lost its newest records.
 */
export function checkAnchors(
  records: readonly StoredRecord[],
  checkpoints: readonly Checkpoint[],
): ChainCheck {
  const n = records.length;
  const live = liveCheckpoints(checkpoints);
  if (!live.ok) return { ok: false, records: n, brokenSeq: live.seq, reason: live.reason };
  for (const cp of live.live) {
    const r = records[cp.seq - 1];
    if (!r)
      return {
        ok: false,
        records: n,
        brokenSeq: n + 1,
        reason: `the chain ends at record ${n}, but a checkpoint of ${cp.at} anchors record ${cp.seq}: newer records were removed`,
      };
    if (r.mac !== cp.mac)
      return {
        ok: false,
        records: n,
        brokenSeq: cp.seq,
        reason: `it is not the record its checkpoint of ${cp.at} anchors`,
      };
  }
  return { ok: true, records: n };
}

export type AuditLogOptions = {
  /** JSONL file written alongside the database. */
  file: string;
  /** Key for each record's HMAC; kept outside the database. Unset: hashes only. */
  macKey?: Buffer;
  /** Append-only file of head checkpoints, outside the database (beside the key). */
  checkpointFile?: string;
  /** A checkpoint every this many records. @default 1 */
  checkpointEvery?: number;
  /** Where an offline restore leaves word of itself, for the next start to re-anchor. */
  pendingFile?: string;
};

const stamp = () => new Date().toISOString().replace(/[-:.]/g, '');

export class AuditLog {
  private readonly checkpoints: CheckpointFile | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: AuditLogOptions,
  ) {
    this.checkpoints =
      options.checkpointFile && options.macKey
        ? new CheckpointFile(options.checkpointFile)
        : undefined;
  }

  get file(): string {
    return this.options.file;
  }

  get checkpointFile(): string | undefined {
    return this.checkpoints?.path;
  }

  async append(entry: AuditEntry): Promise<StoredRecord> {
    // One connection: the lock lives and dies with the transaction, so no
    // caller holds a connection while it waits for another (a pool of 2
    // serves any number of concurrent appends).
    return this.db.transaction(async (tx) => {
      await lockForTransaction(tx, 'warden:audit');
      return this.appendIn(tx, entry);
    });
  }

  private async appendIn(
    tx: Queryable,
    entry: AuditEntry,
    reanchor?: { event: ChainEvent; prior: Head | null },
  ): Promise<StoredRecord> {
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
    const key = this.options.macKey;
    const mac = key ? recordMac(key, record, hash) : undefined;
    // The hash has its own column; the MAC travels in the record's JSON.
    const row = mac ? { ...record, mac } : record;
    const stored: StoredRecord = { ...row, hash };
    await tx.query(
      'INSERT INTO exec_audit (seq, at, record, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)',
      [record.seq, record.at, JSON.stringify(row), record.prevHash, hash],
    );
    // Written under the lock, before the commit, so the file keeps the
    // database's order across processes. A failed commit after this leaves
    // one extra line, which verify reports.
    mkdirSync(dirname(this.options.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.options.file, `${canonicalJson(stored)}\n`, { mode: 0o600 });
    if (this.checkpoints && stored.mac) {
      const every = this.options.checkpointEvery ?? 1;
      if (reanchor || record.seq % every === 0)
        this.checkpoints.append({ seq: record.seq, mac: stored.mac, at: record.at, ...reanchor });
    }
    return stored;
  }

  /**
   * Records the chain event an offline restore left behind, once, then
   * forgets it. Writing that file takes the data directory, which holds the
   * key anyway, so it grants nothing new.
   */
  async reanchorIfPending(): Promise<StoredRecord | undefined> {
    const path = this.options.pendingFile;
    if (!path || !existsSync(path) || !this.checkpoints) return undefined;
    const pending = readPendingReanchor(path);
    const { record } = await this.reanchor(pending.event, pending.details);
    rmSync(path, { force: true });
    return record;
  }

  /**
   * Records a legitimate break in the chain's history (a restore from a
   * backup, a move to another database) as a record of its own that names
   * the head before it, and re-anchors there. The JSONL file is set aside
   * and rewritten from the database, which is now the chain of record.
   */
  async reanchor(
    event: ChainEvent,
    details: Record<string, unknown> = {},
  ): Promise<{ record: StoredRecord; previousFile?: string }> {
    if (!this.checkpoints)
      throw new UserError(
        'audit_not_anchored',
        'the audit log has no key and no checkpoint file; there is nothing to re-anchor',
      );
    const checkpoints = this.checkpoints;
    return this.db.transaction(async (tx) => {
      await lockForTransaction(tx, 'warden:audit');
      const last = checkpoints.last();
      const prior = last ? { seq: last.seq, mac: last.mac } : null;
      // The old file is kept whole, as it was before the event.
      let previousFile: string | undefined;
      if (existsSync(this.options.file)) {
        previousFile = `${this.options.file}.before-${event.replace('chain.', '')}-${stamp()}`;
        renameSync(this.options.file, previousFile);
      }
      const record = await this.appendIn(
        tx,
        {
          caller: { kind: 'cli' },
          operation: event,
          input: { ...details, prior, priorAt: last?.at ?? null },
          decision: 'allowed',
          rule: event,
        },
        { event, prior },
      );
      const lines: string[] = [];
      for await (const r of this.records(tx)) lines.push(canonicalJson(r));
      writeFileSync(this.options.file, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
      return { record, previousFile };
    });
  }

  /**
   * The records in order. The seq, at and prev_hash columns are what the
   * record is checked with: a column that says otherwise than the JSON
   * breaks the record's hash.
   */
  async *records(q: Queryable = this.db): AsyncGenerator<StoredRecord> {
    let after = 0;
    for (;;) {
      const { rows } = await q.query<{
        seq: number;
        at: string;
        prev_hash: string;
        record: StoredRecord;
        hash: string;
      }>(
        'SELECT seq, at, prev_hash, record, hash FROM exec_audit WHERE seq > $1 ORDER BY seq LIMIT 500',
        [after],
      );
      for (const r of rows)
        yield {
          ...r.record,
          seq: Number(r.seq),
          at: r.at,
          prevHash: r.prev_hash,
          hash: r.hash,
        };
      if (rows.length < 500) return;
      after = Number(rows.at(-1)!.seq);
    }
  }

  private async databaseRecords(): Promise<StoredRecord[]> {
    const all: StoredRecord[] = [];
    for await (const r of this.records()) all.push(r);
    return all;
  }

  private readCheckpoints(): Checkpoint[] | ChainCheck {
    if (!this.checkpoints) return [];
    const r = this.checkpoints.read();
    if (r.ok) return r.checkpoints;
    return {
      ok: false,
      records: 0,
      brokenSeq: 0,
      reason: `line ${r.line} of the checkpoint file ${this.checkpoints.path} is not a checkpoint`,
    };
  }

  private anchored(records: StoredRecord[], own: ChainCheck): ChainCheck {
    if (!own.ok) return own;
    const cps = this.readCheckpoints();
    return Array.isArray(cps) ? checkAnchors(records, cps) : cps;
  }

  /** Checks the database's chain: hashes, MACs, and that it reaches the last checkpoint. */
  async verifyDatabase(): Promise<ChainCheck> {
    const rows = await this.databaseRecords();
    return this.anchored(rows, checkChain(rows, { key: this.options.macKey }));
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

  /** Checks the JSONL file on its own (hashes and MACs); a line that is not JSON is a broken record. */
  verifyFile(): ChainCheck {
    const records = this.fileRecords();
    return Array.isArray(records) ? checkChain(records, { key: this.options.macKey }) : records;
  }

  /**
   * Checks both chains, then that they hold the same records: a chain that
   * is whole but shorter, or that forked, is broken where they part.
   */
  async verify(): Promise<{ ok: boolean; database: ChainCheck; file: ChainCheck }> {
    const key = this.options.macKey;
    const rows = await this.databaseRecords();
    const database = this.anchored(rows, checkChain(rows, { key }));
    const lines = this.fileRecords();
    let file = Array.isArray(lines) ? checkChain(lines, { key }) : lines;
    if (database.ok && file.ok && Array.isArray(lines)) {
      const n = Math.max(rows.length, lines.length);
      for (let i = 0; i < n; i++) {
        if (rows[i]?.hash === lines[i]?.hash && rows[i]?.mac === lines[i]?.mac) continue;
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
    if (file.ok && Array.isArray(lines)) file = this.anchored(lines, file);
    return { ok: database.ok && file.ok, database, file };
  }
}
