// What the workflow editor needs beyond CRUD: checking a draft with exactly
// the rules a save applies (so errors show while typing, not on save), and
// reading the saved versions (the list, and the immutable version an
// execution ran on, so an execution opens on the canvas it actually used).
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { WorkflowInvalidError } from '../../engine/workflow-model.ts';
import type { PageQuery } from '../paging.ts';
import { decodeCursor, pagedQuery, pagedResponse, pageLimit, toPage } from '../paging.ts';
import { idParams } from '../schemas.ts';
import { workflowBody } from './workflows.ts';

const problemSchema = {
  type: 'object',
  properties: {
    node: { type: 'string' },
    field: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

export default async function workflowEditorPlugin(
  app: FastifyInstance,
  opts: { services: Services },
) {
  const { engine } = opts.services;

  app.post<{ Body: unknown }>(
    '/api/v1/workflows/validate',
    {
      // Checking changes nothing: anyone who may read workflows may check a draft.
      config: { role: 'viewer' },
      schema: {
        body: workflowBody,
        response: {
          200: {
            type: 'object',
            properties: {
              valid: { type: 'boolean' },
              problems: { type: 'array', items: problemSchema },
            },
          },
        },
      },
    },
    async (request) => {
      try {
        engine.validate(request.body);
        return { valid: true, problems: [] };
      } catch (err) {
        if (err instanceof WorkflowInvalidError) return { valid: false, problems: err.problems };
        throw err;
      }
    },
  );

  app.get<{ Params: { id: number }; Querystring: PageQuery }>(
    '/api/v1/workflows/:id/versions',
    {
      schema: {
        params: idParams,
        querystring: pagedQuery({}),
        response: {
          200: pagedResponse('versions', {
            type: 'object',
            properties: {
              version: { type: 'integer' },
              name: { type: 'string' },
              nodes: { type: 'integer' },
              createdAt: { type: 'string', format: 'date-time' },
            },
          }),
        },
      },
    },
    async (request) => {
      const limit = pageLimit(request.query);
      const before = decodeCursor(request.query.cursor, ['number']);
      const rows = await engine.workflows.listVersions(request.params.id, {
        beforeVersion: before?.[0],
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (v) => [v.version]);
      return { versions: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: number; version: number } }>(
    '/api/v1/workflows/:id/versions/:version',
    {
      schema: {
        params: {
          type: 'object',
          required: ['id', 'version'],
          properties: {
            id: { type: 'integer', minimum: 1 },
            version: { type: 'integer', minimum: 1 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              workflowId: { type: 'integer' },
              version: { type: 'integer' },
              definition: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    async (request) => {
      const { id, version } = request.params;
      return { workflowId: id, version, definition: await engine.workflows.version(id, version) };
    },
  );
}
