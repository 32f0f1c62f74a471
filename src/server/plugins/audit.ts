// The audit log over HTTP, admin only (it shows every command and query
// anyone ran): GET /api/v1/audit lists records newest first with filters
// and a cursor; GET /api/v1/audit/verify checks the hash chain and POST
// /api/v1/audit/anchor records a restore or a move, so `warden audit verify`
// and `warden audit anchor` work beside a running Warden.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { UserError } from '../../errors.ts';
import { auditQuerySchema, listAudit } from '../../exec/audit-query.ts';
import type { PageQuery } from '../paging.ts';
import { decodeCursor, encodeCursor, pagedQuery, pagedResponse } from '../paging.ts';

type AuditHttpQuery = PageQuery & {
  actor?: string;
  action?: string;
  decision?: 'allowed' | 'refused' | 'failed';
  from?: string;
  to?: string;
};

export default async function auditPlugin(app: FastifyInstance, opts: { services: Services }) {
  app.get(
    '/api/v1/audit/verify',
    {
      config: { role: 'admin' },
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['ok', 'database', 'file'],
            properties: {
              ok: { type: 'boolean' },
              // Each side's check: records seen, where it broke and why.
              database: { type: 'object', additionalProperties: true },
              file: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    async () => opts.services.exec.audit.verify(),
  );

  app.get<{ Querystring: AuditHttpQuery }>(
    '/api/v1/audit',
    {
      config: { role: 'admin' },
      schema: {
        querystring: pagedQuery({
          actor: {
            type: 'string',
            minLength: 1,
            maxLength: 200,
            description: 'a caller kind (mcp, cli, healing, …), id, or kind:id',
          },
          action: {
            type: 'string',
            minLength: 1,
            maxLength: 200,
            description: 'the operation or the action name',
          },
          decision: { type: 'string', enum: ['allowed', 'refused', 'failed'] },
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
        }),
        response: {
          200: pagedResponse('records', { type: 'object', additionalProperties: true }),
        },
      },
    },
    async (request) => {
      const { cursor, ...filters } = request.query;
      // The cursor is the last record's sequence number, opaque to callers like every list's.
      const before = decodeCursor(cursor, ['number'], ([seq]) => seq >= 1);
      const parsed = auditQuerySchema.safeParse({ ...filters, cursor: before?.[0] });
      if (!parsed.success)
        throw new UserError(
          'invalid_request',
          `querystring ${parsed.error.issues
            .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
            .join('; ')}`,
          { details: { issues: parsed.error.issues } },
        );
      const page = await listAudit(opts.services.db, parsed.data);
      return {
        records: page.records,
        nextCursor: page.nextCursor === null ? null : encodeCursor([page.nextCursor]),
      };
    },
  );

  app.post<{ Body: { event: 'chain.restored' | 'chain.migrated'; note?: string } }>(
    '/api/v1/audit/anchor',
    {
      // A legitimate break in the chain (a restore, a move to another
      // database), recorded and re-anchored: `warden audit anchor`.
      config: { role: 'admin' },
      schema: {
        body: {
          type: 'object',
          required: ['event'],
          properties: {
            event: { type: 'string', enum: ['chain.restored', 'chain.migrated'] },
            note: { type: 'string', minLength: 1, maxLength: 500 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['record'],
            properties: {
              record: { type: 'object', additionalProperties: true },
              previousFile: { type: 'string' },
            },
          },
        },
      },
    },
    async (request) =>
      opts.services.exec.audit.reanchor(
        request.body.event,
        request.body.note ? { note: request.body.note } : {},
      ),
  );
}
