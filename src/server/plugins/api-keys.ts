// API key administration: admins only. The secret is in the create answer
// and nowhere else, ever.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { Role } from '../../auth/roles.ts';
import { UserError } from '../../errors.ts';
import { roleAtLeast } from '../../auth/roles.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';
import { idParams, roleSchema } from '../schemas.ts';

const apiKeySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    role: roleSchema,
    userId: { type: ['integer', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export default async function apiKeysPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { apiKeys } = opts.services;

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/api-keys',
    {
      config: { role: 'admin' },
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('apiKeys', apiKeySchema) },
      },
    },
    async (request) => {
      const page = pageInMemory(await apiKeys.list(), request.query, {
        key: (k) => [k.id],
        shape: ['number'],
      });
      return { apiKeys: page.items, nextCursor: page.nextCursor };
    },
  );

  app.post<{ Body: { name: string; role: Role } }>(
    '/api/v1/api-keys',
    {
      config: { role: 'admin' },
      schema: {
        body: {
          type: 'object',
          required: ['name', 'role'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, role: roleSchema },
          additionalProperties: false,
        },
        response: {
          201: { type: 'object', properties: { apiKey: apiKeySchema, secret: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const p = request.principal!;
      if (!roleAtLeast(p.role, request.body.role)) {
        throw new UserError(
          'forbidden',
          `you cannot create a key with more rights (${request.body.role}) than your own`,
          { status: 403 },
        );
      }
      const { key, secret } = await apiKeys.create({
        name: request.body.name,
        role: request.body.role,
        ...(p.userId != null ? { userId: p.userId } : {}),
      });
      return reply.status(201).send({ apiKey: key, secret });
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/api-keys/:id',
    { config: { role: 'admin' }, schema: { params: idParams, response: { 200: apiKeySchema } } },
    async (request) => apiKeys.revoke(request.params.id),
  );
}
