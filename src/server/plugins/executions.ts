// Executions API: list with filters, one with its steps, cancel, retry, and
// mark a needs_attention execution as done (a person checked its side effect).
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { ExecutionStatus } from '../../engine/execution-store.ts';
import { executionStatuses } from '../../engine/execution-store.ts';
import { principalName } from './auth.ts';

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
    Querystring: {
      workflowId?: number;
      status?: ExecutionStatus;
      mode?: string;
      before?: string;
      limit?: number;
    };
  }>(
    '/api/v1/executions',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            workflowId: { type: 'integer', minimum: 1 },
            status: { type: 'string', enum: [...executionStatuses] },
            mode: { type: 'string', maxLength: 50 },
            before: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { executions: { type: 'array', items: executionSchema } },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return {
        executions: await engine.executions.list({
          ...q,
          before: q.before ? new Date(q.before) : undefined,
        }),
      };
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
    { schema: { params: executionParams, response: { 200: executionSchema } } },
    async (request) => engine.cancel(request.params.id),
  );

  app.post<Id>(
    '/api/v1/executions/:id/retry',
    {
      schema: {
        params: executionParams,
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
