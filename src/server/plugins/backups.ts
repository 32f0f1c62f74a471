// POST /api/v1/backups: a backup now, taken by the process that holds the
// database (the embedded one can be copied only by its owner), then the
// backups past the retention deleted. Admin only: a backup holds everything.
// Listing and pruning need no database and stay with the CLI.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';

export const backupInfoSchema = {
  type: 'object',
  required: ['file', 'path', 'kind', 'createdAt', 'bytes', 'sha256'],
  properties: {
    file: { type: 'string' },
    path: { type: 'string' },
    kind: { type: 'string', enum: ['pg_dump', 'pglite'] },
    createdAt: { type: 'string', format: 'date-time' },
    bytes: { type: 'integer' },
    sha256: { type: 'string' },
    database: { type: 'string' },
  },
} as const;

export default async function backupsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { backups } = opts.services;
  app.post(
    '/api/v1/backups',
    {
      config: { role: 'admin' },
      schema: {
        body: { type: 'object', properties: {}, additionalProperties: false },
        response: {
          201: {
            type: 'object',
            required: ['backup', 'removed'],
            properties: {
              backup: backupInfoSchema,
              // Files of the backups deleted as past the retention.
              removed: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const made = await backups.create((message) => request.log.info({ backup: message }));
      const removed = await backups.prune();
      return reply.status(201).send({ backup: made, removed: removed.map((r) => r.file) });
    },
  );
}
