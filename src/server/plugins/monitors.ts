// Built-in monitors: viewers read (with each one's recent checks), operators change.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { idParams } from '../schemas.ts';

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

  app.get(
    '/api/v1/monitors',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { monitors: { type: 'array', items: monitorSchema } },
          },
        },
      },
    },
    async () => ({ monitors: await monitors.list() }),
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
  app.get<{ Params: { id: number }; Querystring: { limit?: number } }>(
    '/api/v1/monitors/:id/checks',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 50, default: 50 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { id } = await monitors.get(request.params.id);
      const checks = await monitors.recentChecks({
        monitorIds: [id],
        ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
      });
      return { checks: checks.get(id) ?? [] };
    },
  );
  app.post<{ Params: { id: number } }>(
    '/api/v1/monitors/:id/check',
    { schema: { params: idParams, response: { 200: monitorSchema } } },
    async (request) => monitors.checkNow(request.params.id),
  );
}
