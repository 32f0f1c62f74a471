// Reading the audit log page by page for people: filters on who asked
// (caller kind, id, or "kind:id"), the operation or action name, the
// decision and a time range, newest first, with the last sequence number as
// the cursor. Reading never changes the chain; verification stays in
// audit-log.ts.
import { z } from 'zod';

import type { Queryable } from '../db/db.ts';
import type { StoredRecord } from './audit-log.ts';

export const auditQuerySchema = z
  .object({
    actor: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(200).optional(),
    decision: z.enum(['allowed', 'refused', 'failed']).optional(),
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    /** Records with a smaller sequence number than this (the previous page's nextCursor). */
    cursor: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export type AuditQuery = z.input<typeof auditQuerySchema>;

export type AuditPage = { records: StoredRecord[]; nextCursor: number | null };

export async function listAudit(q: Queryable, query: AuditQuery): Promise<AuditPage> {
  const f = auditQuerySchema.parse(query);
  const { rows } = await q.query<{ seq: string | number; record: StoredRecord; hash: string }>(
    `SELECT seq, record, hash FROM exec_audit
      WHERE ($1::text IS NULL OR record->'caller'->>'kind' = $1 OR record->'caller'->>'id' = $1
             OR (record->'caller'->>'kind') || ':' || (record->'caller'->>'id') = $1)
        AND ($2::text IS NULL OR record->>'operation' = $2 OR record->'input'->>'action' = $2)
        AND ($3::text IS NULL OR record->>'decision' = $3)
        AND ($4::timestamptz IS NULL OR at::timestamptz >= $4)
        AND ($5::timestamptz IS NULL OR at::timestamptz <= $5)
        AND ($6::bigint IS NULL OR seq < $6)
      ORDER BY seq DESC LIMIT $7`,
    [
      f.actor ?? null,
      f.action ?? null,
      f.decision ?? null,
      f.from ?? null,
      f.to ?? null,
      f.cursor ?? null,
      f.limit + 1,
    ],
  );
  const more = rows.length > f.limit;
  const page = rows.slice(0, f.limit);
  return {
    records: page.map((r) => ({ ...r.record, seq: Number(r.seq), hash: r.hash })),
    nextCursor: more ? Number(page.at(-1)!.seq) : null,
  };
}
