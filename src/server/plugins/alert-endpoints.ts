// Alert endpoint administration (admins only). The token and the HMAC
// secret are in the create (or rotate) answer and nowhere else, ever.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { alertSources } from '../../incidents/alert.ts';
import type { CreateAlertEndpointInput } from '../../incidents/alert-endpoints.ts';
import { endpointUrls } from '../../incidents/alert-endpoints.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';
import { emptyBody, idParams } from '../schemas.ts';

export async function alertEndpointRoutes(app: FastifyInstance, opts: { services: Services }) {
  const { alertEndpoints, config } = opts.services;
  const baseUrl = config.server.publicUrl ?? `http://localhost:${config.server.port}`;
  const admin = { role: 'admin' as const };

  const listSchema = pagedResponse('alertEndpoints', {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      source: { type: 'string', enum: [...alertSources] },
      tokenPrefix: { type: 'string' },
      signed: { type: 'boolean' },
      mapping: { type: ['string', 'null'] },
      serviceLabel: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
      disabledAt: { type: ['string', 'null'], format: 'date-time' },
      urls: {
        type: 'object',
        properties: { withHeader: { type: 'string' }, withTokenInPath: { type: 'string' } },
      },
    },
  });

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/alert-endpoints',
    { config: admin, schema: { querystring: pagedQuery({}), response: { 200: listSchema } } },
    async (request) => {
      const page = pageInMemory(await alertEndpoints.list(), request.query, {
        key: (e) => [e.id],
        shape: ['number'],
      });
      return {
        alertEndpoints: page.items.map((e) => ({ ...e, urls: endpointUrls(baseUrl, e) })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/alert-endpoints/:id',
    { config: admin, schema: { params: idParams } },
    async (request) => {
      const e = await alertEndpoints.get(request.params.id);
      return { ...e, urls: endpointUrls(baseUrl, e) };
    },
  );

  app.post<{ Body: CreateAlertEndpointInput }>(
    '/api/v1/alert-endpoints',
    {
      config: admin,
      schema: {
        body: {
          type: 'object',
          required: ['name', 'source'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 63 },
            source: { type: 'string', enum: [...alertSources] },
            mapping: { type: 'string', minLength: 1, maxLength: 20_000 },
            serviceLabel: { type: 'string', minLength: 1, maxLength: 100 },
            signed: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const created = await alertEndpoints.create(request.body);
      return reply.status(201).send({
        ...created,
        urls: endpointUrls(baseUrl, created.endpoint, created.token),
      });
    },
  );

  app.patch<{
    Params: { id: number };
    Body: { mapping?: string | null; serviceLabel?: string | null; disabled?: boolean };
  }>(
    '/api/v1/alert-endpoints/:id',
    {
      config: admin,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: {
            mapping: { type: ['string', 'null'], maxLength: 20_000 },
            serviceLabel: { type: ['string', 'null'], maxLength: 100 },
            disabled: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => alertEndpoints.update(request.params.id, request.body),
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/alert-endpoints/:id/rotate-token',
    { config: admin, schema: { params: idParams, body: emptyBody } },
    async (request) => {
      const rotated = await alertEndpoints.rotateToken(request.params.id);
      return { ...rotated, urls: endpointUrls(baseUrl, rotated.endpoint, rotated.token) };
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/alert-endpoints/:id',
    { config: admin, schema: { params: idParams } },
    async (request) => alertEndpoints.delete(request.params.id),
  );
}
