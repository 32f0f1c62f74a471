// Executions API: list with filters, one with its steps, cancel, retry, and
// mark a needs_attention execution as done (a person checked its side effect).
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { ExecutionStatus } from '../../engine/execution-store.ts';
import { executionStatuses } from '../../engine/execution-store.ts';
import type { PageQuery } from '../paging.ts';
import { decodeCursor, pagedQuery, pagedResponse, pageLimit, toPage } from '../paging.ts';
import { emptyBody } from '../schemas.ts';
import { principalName } from './auth.ts';

// A created_at as PostgreSQL prints a timestamptz (the cursor keeps its microseconds).
const timestampPattern = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d(:\d\d){0,2}|Z)$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const errorSchema = {
  type: ['object', 'null'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, node: { type: 'string' } },
} as const;

const anyJson = {} as const;

const executionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    workflowId: { type: 'integer' },
    workflowVersion: { type: 'integer' },
    status: { type: 'string' },
    mode: { type: 'string' },
    triggerNode: { type: 'string' },
    parentExecutionId: { type: ['string', 'null'] },
    retryOf: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    cancelRequested: { type: 'boolean' },
    error: errorSchema,
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    resumeAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const stepSchema = {
  type: 'object',
  properties: {
    nodeName: { type: 'string' },
    status: { type: 'string' },
    attempts: { type: 'integer' },
    input: anyJson,
    output: anyJson,
    truncated: { type: 'boolean' },
    error: errorSchema,
    worker: { type: ['string', 'null'] },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    durationMs: { type: ['integer', 'null'] },
  },
} as const;

const executionParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
  additionalProperties: false,
} as const;

export default async function executionsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { engine } = opts.services;
  type Id = { Params: { id: string } };

  app.get<{
    Querystring: PageQuery & { workflowId?: number; status?: ExecutionStatus; mode?: string };
  }>(
    '/api/v1/executions',
    {
      schema: {
        querystring: pagedQuery({
          workflowId: { type: 'integer', minimum: 1 },
          status: { type: 'string', enum: [...executionStatuses] },
          mode: { type: 'string', maxLength: 50 },
        }),
        response: { 200: pagedResponse('executions', executionSchema) },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      const limit = pageLimit(request.query);
      const after = decodeCursor(
        cursor,
        ['string', 'string'],
        ([at, id]) => timestampPattern.test(at) && uuidPattern.test(id),
      );
      const rows = await engine.executions.listWithKeys({ ...filter, after, limit: limit + 1 });
      const page = toPage(rows, limit, (r) => r.key);
      return { executions: page.items.map((r) => r.execution), nextCursor: page.nextCursor };
    },
  );

  app.get<Id>(
    '/api/v1/executions/:id',
    {
      schema: {
        params: executionParams,
        response: {
          200: {
            type: 'object',
            properties: {
              ...executionSchema.properties,
              triggerData: anyJson,
              result: anyJson,
              steps: { type: 'array', items: stepSchema },
            },
          },
        },
      },
    },
    async (request) => {
      const ex = await engine.executions.get(request.params.id);
      return { ...ex, steps: await engine.executions.steps(ex.id) };
    },
  );

  app.post<Id>(
    '/api/v1/executions/:id/cancel',
    { schema: { params: executionParams, body: emptyBody, response: { 200: executionSchema } } },
    async (request) => engine.cancel(request.params.id),
  );

  app.post<Id>(
    '/api/v1/executions/:id/retry',
    {
      schema: {
        params: executionParams,
        body: emptyBody,
        response: {
          202: {
            type: 'object',
            properties: { executionId: { type: 'string' }, status: { type: 'string' } },
          },
        },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send({ executionId: await engine.retry(request.params.id), status: 'queued' }),
  );

  app.post<Id & { Body: { reason: string } }>(
    '/api/v1/executions/:id/mark-done',
    {
      schema: {
        params: executionParams,
        body: {
          type: 'object',
          required: ['reason'],
          properties: { reason: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { ...executionSchema.properties, result: anyJson } },
        },
      },
    },
    async (request) =>
      engine.executions.markDone(request.params.id, {
        by: principalName(request.principal),
        reason: request.body.reason.trim(),
      }),
  );
}
