// Anchors the audit chain outside the database. A hash chain alone can be
// rewritten by anyone who can write the table (recompute every later hash);
// a keyed MAC over every field (seq, at, prevHash, the body and the hash)
// cannot be recomputed without the key, which lives on the host, not in the
// database. Checkpoints of the head (seq and MAC), appended to a file beside
// the key, let verify tell that the newest records were removed. A legitimate
// restore or move re-anchors: a checkpoint line that names the head before it.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { z } from 'zod';

import { UserError } from '../errors.ts';

/** Chain events that re-anchor the chain; not tampering, but recorded like any decision. */
export const chainEvents = ['chain.restored', 'chain.migrated'] as const;
export type ChainEvent = (typeof chainEvents)[number];

export type Head = { seq: number; mac: string };

export type Checkpoint = Head & {
  at: string;
  /** Set on a re-anchor: the event and the head the chain had before it. */
  event?: ChainEvent;
  prior?: Head | null;
};

/** The audit MAC key, derived from the secrets key so every process that shares one agrees. */
export function deriveAuditKey(secretsKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), 'warden audit mac v1', 32));
}

/** HMAC-SHA256 over the canonical text of a record with its hash: every field counts. */
export function macOf(key: Buffer, canonicalRecordWithHash: string): string {
  return createHmac('sha256', key)
    .update('warden-audit-v1\0')
    .update(canonicalRecordWithHash)
    .digest('hex');
}

export function macMatches(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The checkpoint file: one JSON line per checkpoint, appended, never rewritten. */
export class CheckpointFile {
  constructor(readonly path: string) {}

  append(cp: Checkpoint): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, `${JSON.stringify(cp)}\n`, { mode: 0o600 });
  }

  /** The checkpoints in order; a line that does not parse is reported with its number. */
  read(): { ok: true; checkpoints: Checkpoint[] } | { ok: false; line: number } {
    if (!existsSync(this.path)) return { ok: true, checkpoints: [] };
    const checkpoints: Checkpoint[] = [];
    const lines = readFileSync(this.path, 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        const cp = JSON.parse(line) as Checkpoint;
        if (typeof cp.seq !== 'number' || typeof cp.mac !== 'string')
          return { ok: false, line: i + 1 };
        checkpoints.push(cp);
      } catch {
        return { ok: false, line: i + 1 };
      }
    }
    return { ok: true, checkpoints };
  }

  last(): Checkpoint | undefined {
    const r = this.read();
    return r.ok ? r.checkpoints.at(-1) : undefined;
  }
}

/**
 * The checkpoints a chain must still hold: those from the last re-anchor on.
 * Each re-anchor must name, as its prior head, the checkpoint just before it;
 * returns the reason when one does not.
 */
export function liveCheckpoints(
  all: readonly Checkpoint[],
): { ok: true; live: Checkpoint[] } | { ok: false; seq: number; reason: string } {
  let start = 0;
  for (const [i, cp] of all.entries()) {
    if (!cp.event) continue;
    const before = i > 0 ? all[i - 1]! : undefined;
    const prior = cp.prior ?? undefined;
    const same =
      (before === undefined && prior === undefined) ||
      (before !== undefined &&
        prior !== undefined &&
        before.seq === prior.seq &&
        before.mac === prior.mac);
    if (!same)
      return {
        ok: false,
        seq: cp.seq,
        reason: `the ${cp.event} checkpoint does not name the head before it`,
      };
    start = i;
  }
  return { ok: true, live: all.slice(start) };
}

/** The pending-event file's name in the data directory. */
export const auditPendingFile = 'audit.reanchor-pending.json';

const pendingSchema = z.object({
  event: z.enum(chainEvents),
  details: z.record(z.unknown()),
});

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** What an offline operation (an embedded restore) leaves for the next start: a chain event to record. */
export type PendingReanchor = { event: ChainEvent; details: Record<string, unknown> };

/** The pending event an offline restore left, checked; a clear error names a file that is not one. */
export function readPendingReanchor(path: string): PendingReanchor {
  const parsed = pendingSchema.safeParse(safeJson(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new UserError(
      'audit_pending_invalid',
      `${path} is not a pending audit event (${parsed.error.issues[0]?.message ?? 'unreadable'}); remove it, then run \`warden audit anchor --event restored\` if a restore happened`,
    );
  return parsed.data;
}

/** Leaves word of a chain event for the next process that opens the audit log (owner-only file). */
export function writePendingReanchor(path: string, pending: PendingReanchor): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(pending)}\n`, { mode: 0o600 });
}
