// Built-in monitors: viewers read (with each one's recent checks), operators change.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { PageQuery } from '../paging.ts';
import {
  decodeCursor,
  pagedQuery,
  pagedResponse,
  pageInMemory,
  pageLimit,
  toPage,
} from '../paging.ts';
import { emptyBody, idParams } from '../schemas.ts';

const checkSchema = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['http', 'tcp', 'action'] },
    url: { type: 'string' },
    method: { type: 'string' },
    expectStatus: { type: 'array', items: { type: 'string' } },
    keyword: { type: 'string' },
    maxLatencyMs: { type: 'integer' },
    host: { type: 'string' },
    port: { type: 'integer' },
    action: { type: 'string' },
    params: { type: 'object', additionalProperties: true },
  },
} as const;

const monitorSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    service: { type: 'string' },
    severity: { type: 'string' },
    spec: checkSchema,
    intervalMs: { type: 'integer' },
    timeoutMs: { type: 'integer' },
    retries: { type: 'integer' },
    enabled: { type: 'boolean' },
    state: { type: 'string', enum: ['pending', 'up', 'down'] },
    failures: { type: 'integer' },
    lastCheckedAt: { type: ['string', 'null'], format: 'date-time' },
    lastChangeAt: { type: ['string', 'null'], format: 'date-time' },
    lastResult: {
      type: ['object', 'null'],
      properties: {
        ok: { type: 'boolean' },
        latencyMs: { type: 'number' },
        detail: { type: 'string' },
      },
    },
  },
} as const;

// The body is validated in full by the service (zod), which names the field.
const inputSchema = { type: 'object', additionalProperties: true } as const;

export default async function monitorsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { monitors } = opts.services;

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/monitors',
    {
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('monitors', monitorSchema) },
      },
    },
    async (request) => {
      const page = pageInMemory(await monitors.list(), request.query, {
        key: (m) => [m.name, m.id],
        shape: ['string', 'number'],
      });
      return { monitors: page.items, nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: { id: number } }>(
    '/api/v1/monitors/:id',
    { schema: { params: idParams, response: { 200: monitorSchema } } },
    async (request) => monitors.get(request.params.id),
  );
  app.post(
    '/api/v1/monitors',
    { schema: { body: inputSchema, response: { 201: monitorSchema } } },
    async (request, reply) => reply.status(201).send(await monitors.create(request.body)),
  );
  app.patch<{ Params: { id: number } }>(
    '/api/v1/monitors/:id',
    { schema: { params: idParams, body: inputSchema, response: { 200: monitorSchema } } },
    async (request) => monitors.update(request.params.id, request.body),
  );
  app.delete<{ Params: { id: number } }>(
    '/api/v1/monitors/:id',
    { schema: { params: idParams, response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      await monitors.remove(request.params.id);
      return reply.status(204).send();
    },
  );
  app.get<{ Params: { id: number }; Querystring: PageQuery }>(
    '/api/v1/monitors/:id/checks',
    {
      schema: {
        params: idParams,
        querystring: pagedQuery({}),
        response: {
          200: pagedResponse('checks', {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              at: { type: 'string', format: 'date-time' },
              ok: { type: 'boolean' },
              latencyMs: { type: 'number' },
              detail: { type: 'string' },
            },
          }),
        },
      },
    },
    async (request) => {
      const { id } = await monitors.get(request.params.id);
      const limit = pageLimit(request.query);
      const before = decodeCursor(request.query.cursor, ['number']);
      const rows = await monitors.checks(id, { beforeId: before?.[0], limit: limit + 1 });
      const page = toPage(rows, limit, (c) => [c.id]);
      return { checks: page.items, nextCursor: page.nextCursor };
    },
  );
  app.post<{ Params: { id: number } }>(
    '/api/v1/monitors/:id/check',
    { schema: { params: idParams, body: emptyBody, response: { 200: monitorSchema } } },
    async (request) => monitors.checkNow(request.params.id),
  );
}
