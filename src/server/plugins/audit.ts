// The audit log over HTTP, admin only (it shows every command and query
// anyone ran): GET /api/v1/audit lists records newest first with filters
// and a cursor; GET /api/v1/audit/verify checks the hash chain and POST
// /api/v1/audit/anchor records a restore or a move, so `warden audit verify`
// and `warden audit anchor` work beside a running Warden.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { UserError } from '../../errors.ts';
import { auditQuerySchema, listAudit } from '../../exec/audit-query.ts';

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

  app.get(
    '/api/v1/audit',
    {
      config: { role: 'admin' },
      // The query is checked by auditQuerySchema (zod), which names the bad filter.
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['records', 'nextCursor'],
            properties: {
              records: { type: 'array', items: { type: 'object', additionalProperties: true } },
              nextCursor: { type: ['integer', 'null'] },
            },
          },
        },
      },
    },
    async (request) => {
      const parsed = auditQuerySchema.safeParse(request.query);
      if (!parsed.success)
        throw new UserError(
          'invalid_request',
          `querystring ${parsed.error.issues
            .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
            .join('; ')}`,
          { details: { issues: parsed.error.issues } },
        );
      return listAudit(opts.services.db, parsed.data);
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
