// Incident memory: what Warden has learnt. Viewers read and search;
// operators forget.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';

const incidentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    symptoms: { type: 'string' },
    service: { type: ['string', 'null'] },
    logExcerpt: { type: 'string' },
    rootCause: { type: 'string' },
    fix: {
      type: ['object', 'null'],
      properties: {
        action: { type: 'string' },
        parameters: { type: 'object', additionalProperties: true },
      },
    },
    outcome: { type: 'string' },
    verified: { type: 'boolean' },
    fixBlocked: { type: 'boolean' },
    successCount: { type: 'integer' },
    failureCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } },
} as const;

export default async function memoryPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { memory } = opts.services;

  app.get<{ Querystring: { service?: string; limit?: number; offset?: number } }>(
    '/api/v1/memory',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            service: { type: 'string', maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
            offset: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { incidents: { type: 'array', items: incidentSchema } },
          },
        },
      },
    },
    async (request) => ({ incidents: await memory.list(request.query) }),
  );
  app.post<{ Body: { text: string; service?: string; topK?: number } }>(
    '/api/v1/memory/search',
    {
      // A search changes nothing: viewers may run it.
      config: { role: 'viewer' },
      schema: {
        body: {
          type: 'object',
          required: ['text'],
          properties: {
            text: { type: 'string', minLength: 1, maxLength: 10_000 },
            service: { type: 'string', minLength: 1, maxLength: 100 },
            topK: { type: 'integer', minimum: 1, maximum: 20 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              threshold: { type: 'number' },
              matches: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    incident: incidentSchema,
                    score: { type: 'number' },
                    vectorScore: { type: 'number' },
                    textScore: { type: 'number' },
                    rawScore: { type: 'number' },
                    autoApply: { type: 'boolean' },
                    reason: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { text, service, topK } = request.body;
      return {
        threshold: memory.threshold,
        matches: await memory.similar(text, {
          topK: topK ?? 3,
          ...(service ? { service } : {}),
        }),
      };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/memory/:id',
    { schema: { params: idParams, response: { 200: incidentSchema } } },
    async (request) => memory.get(request.params.id),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/v1/memory/:id',
    { schema: { params: idParams, response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      await memory.forget(request.params.id);
      return reply.status(204).send();
    },
  );
}
