// Workflows API: CRUD (every save a new version), activation, manual runs,
// and the node types the editor offers.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { describeNodeType } from '../../engine/node-types.ts';
import { webhookExposures, webhookWarnings } from '../../engine/webhook-exposure.ts';
import type { Workflow } from '../../engine/workflow-store.ts';
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

const workflowSummary = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    active: { type: 'boolean' },
    currentVersion: { type: 'integer' },
    activeVersion: { type: ['integer', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const workflowSchema = {
  type: 'object',
  properties: {
    ...workflowSummary.properties,
    definition: { type: 'object', additionalProperties: true },
    // Each webhook trigger and its authentication; auth 'none' is flagged in warnings.
    webhooks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          node: { type: 'string' },
          method: { type: 'string' },
          path: { type: 'string' },
          auth: { type: 'string', enum: ['none', 'headerToken', 'hmac'] },
        },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** A workflow as the API shows it: with its webhooks, and a warning for each that anyone may call. */
function view(wf: Workflow) {
  return {
    ...wf,
    webhooks: webhookExposures(wf.definition),
    warnings: webhookWarnings(wf.definition),
  };
}

export const workflowBody = {
  type: 'object',
  required: ['name', 'nodes'],
  properties: {
    name: { type: 'string' },
    nodes: { type: 'array', maxItems: 500, items: { type: 'object', additionalProperties: true } },
    connections: { type: 'object', additionalProperties: true },
    settings: { type: 'object', additionalProperties: true },
    /** On update: the version the client loaded; a newer saved version answers 409. */
    expectedVersion: { type: 'integer', minimum: 1 },
  },
  additionalProperties: true,
} as const;

const startedSchema = {
  type: 'object',
  properties: { executionId: { type: 'string' }, status: { type: 'string' } },
} as const;

export default async function workflowsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { engine } = opts.services;
  type Id = { Params: { id: number } };

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/node-types',
    {
      schema: {
        querystring: pagedQuery({}),
        response: {
          200: pagedResponse('nodeTypes', { type: 'object', additionalProperties: true }),
        },
      },
    },
    async (request) => {
      const page = pageInMemory(engine.registry.list().map(describeNodeType), request.query, {
        key: (t) => [t.type],
        shape: ['string'],
      });
      return { nodeTypes: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/workflows',
    {
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('workflows', workflowSummary) },
      },
    },
    async (request) => {
      const limit = pageLimit(request.query);
      const after = decodeCursor(request.query.cursor, ['number']);
      const rows = await engine.workflows.list({ afterId: after?.[0], limit: limit + 1 });
      const page = toPage(rows, limit, (w) => [w.id]);
      return { workflows: page.items, nextCursor: page.nextCursor };
    },
  );

  app.post<{ Body: unknown }>(
    '/api/v1/workflows',
    { schema: { body: workflowBody, response: { 201: workflowSchema } } },
    async (request, reply) =>
      reply.status(201).send(view(await engine.createWorkflow(request.body))),
  );

  app.get<Id>(
    '/api/v1/workflows/:id',
    { schema: { params: idParams, response: { 200: workflowSchema } } },
    async (request) => view(await engine.workflows.get(request.params.id)),
  );

  app.put<Id & { Body: unknown }>(
    '/api/v1/workflows/:id',
    { schema: { params: idParams, body: workflowBody, response: { 200: workflowSchema } } },
    async (request) => {
      const body = request.body as { expectedVersion?: number };
      return view(
        await engine.updateWorkflow(request.params.id, request.body, {
          expectedVersion: body.expectedVersion,
        }),
      );
    },
  );

  app.delete<Id>(
    '/api/v1/workflows/:id',
    { schema: { params: idParams, response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      await engine.deleteWorkflow(request.params.id);
      return reply.status(204).send();
    },
  );

  for (const action of ['activate', 'deactivate'] as const) {
    app.post<Id>(
      `/api/v1/workflows/:id/${action}`,
      { schema: { params: idParams, body: emptyBody, response: { 200: workflowSchema } } },
      async (request) => {
        const wf = view(await engine.setActive(request.params.id, action === 'activate'));
        if (wf.active && wf.warnings.length > 0)
          request.log.warn(
            { event: 'workflow.webhook_unauthenticated', workflowId: wf.id, warnings: wf.warnings },
            `workflow ${wf.id} activated with a webhook anyone may call`,
          );
        return wf;
      },
    );
  }

  app.post<Id & { Body: { items?: Record<string, unknown>[]; triggerNode?: string } | undefined }>(
    '/api/v1/workflows/:id/run',
    {
      schema: {
        params: idParams,
        body: {
          type: ['object', 'null'],
          properties: {
            items: {
              type: 'array',
              maxItems: 10_000,
              items: { type: 'object', additionalProperties: true },
            },
            triggerNode: { type: 'string', maxLength: 200 },
          },
          additionalProperties: false,
        },
        response: { 202: startedSchema },
      },
    },
    async (request, reply) => {
      const executionId = await engine.runManual(request.params.id, request.body?.items, {
        triggerNode: request.body?.triggerNode,
      });
      return reply.status(202).send({ executionId, status: 'queued' });
    },
  );
}
