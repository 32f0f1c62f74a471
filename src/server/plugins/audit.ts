// GET /api/v1/audit/verify: the audit hash chain check, so `warden audit
// verify` works beside a running Warden (admin only: it reads every record).
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';

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
}
