// User administration: admins only.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { Role } from '../../auth/roles.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';
import { emptyBody, roleSchema, userSchema } from '../schemas.ts';

export default async function usersPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { users } = opts.services;

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/users',
    {
      config: { role: 'admin' },
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('users', userSchema) },
      },
    },
    async (request) => {
      const page = pageInMemory(await users.list(), request.query, {
        key: (u) => [u.id],
        shape: ['number'],
      });
      return { users: page.items, nextCursor: page.nextCursor };
    },
  );

  app.post<{ Body: { username: string; password: string; role: Role } }>(
    '/api/v1/users',
    {
      config: { role: 'admin' },
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password', 'role'],
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
            role: roleSchema,
          },
          additionalProperties: false,
        },
        response: { 201: userSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await users.create(request.body)),
  );

  app.post<{ Params: { username: string } }>(
    '/api/v1/users/:username/disable',
    {
      config: { role: 'admin' },
      schema: {
        body: emptyBody,
        params: {
          type: 'object',
          required: ['username'],
          properties: { username: { type: 'string', maxLength: 64 } },
        },
        response: { 200: userSchema },
      },
    },
    async (request) => users.disable(request.params.username),
  );
}
