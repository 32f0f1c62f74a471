// Encrypted credentials: admins may store, list (names only) and delete;
// no route ever returns a stored value.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';

const infoSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    kind: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export default async function credentialsPlugin(
  app: FastifyInstance,
  opts: { services: Services },
) {
  const { credentials } = opts.services;

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/credentials',
    {
      config: { role: 'admin' },
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('credentials', infoSchema) },
      },
    },
    async (request) => {
      const page = pageInMemory(await credentials.list(), request.query, {
        key: (c) => [c.name],
        shape: ['string'],
      });
      return { credentials: page.items, nextCursor: page.nextCursor };
    },
  );

  app.put<{ Params: { name: string }; Body: { kind: string; value: string } }>(
    '/api/v1/credentials/:name',
    {
      config: { role: 'admin' },
      schema: {
        params: nameParams,
        body: {
          type: 'object',
          required: ['kind', 'value'],
          properties: {
            kind: { type: 'string', minLength: 1, maxLength: 50 },
            value: { type: 'string', maxLength: 65536 },
          },
          additionalProperties: false,
        },
        response: { 200: infoSchema },
      },
    },
    async (request) => credentials.set(request.params.name, request.body.kind, request.body.value),
  );

  app.delete<{ Params: { name: string } }>(
    '/api/v1/credentials/:name',
    {
      config: { role: 'admin' },
      schema: { params: nameParams, response: { 204: { type: 'null' } } },
    },
    async (request, reply) => {
      await credentials.delete(request.params.name);
      return reply.status(204).send();
    },
  );
}
