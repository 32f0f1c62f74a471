// What the workflow editor needs beyond CRUD: checking a draft with exactly
// the rules a save applies (so errors show while typing, not on save),
// reading the saved versions (the list, and the immutable version an
// execution ran on, so an execution opens on the canvas it actually used),
// test runs (pinned data, up to a node) and the gallery of example workflows.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { Item } from '../../engine/expressions.ts';
import { WorkflowInvalidError } from '../../engine/workflow-model.ts';
import type { PageQuery } from '../paging.ts';
import {
  decodeCursor,
  pagedQuery,
  pagedResponse,
  pageInMemory,
  pageLimit,
  toPage,
} from '../paging.ts';
import { idParams } from '../schemas.ts';
import { workflowBody } from './workflows.ts';

/** examples/ of the package, from src/server/plugins or dist/server/plugins alike. */
export const examplesRoot = fileURLToPath(new URL('../../../examples/', import.meta.url));

export type WorkflowExample = {
  file: string;
  name: string;
  description: string;
  definition: Record<string, unknown>;
};

/**
 * The example workflows (examples/workflows/*.json), each with the line
 * examples/README.md gives it. Read on each call: a few small files, and an
 * edited example shows without a restart. A missing folder is no examples.
 */
export function readExamples(root = examplesRoot): WorkflowExample[] {
  let files: string[];
  try {
    files = readdirSync(`${root}workflows`)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  let readme = '';
  try {
    readme = readFileSync(`${root}README.md`, 'utf8');
  } catch {
    // No README: the examples are listed without their lines.
  }
  return files.map((file) => {
    const definition = JSON.parse(readFileSync(`${root}workflows/${file}`, 'utf8')) as Record<
      string,
      unknown
    >;
    const row = readme
      .split('\n')
      .find((l) => l.startsWith('|') && l.includes(`workflows/${file}`));
    const description = row?.split('|')[2]?.trim() ?? '';
    return {
      file,
      name: typeof definition.name === 'string' ? definition.name : file,
      description,
      definition,
    };
  });
}

const problemSchema = {
  type: 'object',
  properties: {
    node: { type: 'string' },
    field: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const startedSchema = {
  type: 'object',
  properties: { executionId: { type: 'string' }, status: { type: 'string' } },
} as const;

export default async function workflowEditorPlugin(
  app: FastifyInstance,
  opts: { services: Services; examplesRoot?: string },
) {
  const { engine } = opts.services;

  app.post<{
    Params: { id: number };
    Body: { items?: Item[]; triggerNode?: string; destinationNode?: string } | undefined;
  }>(
    '/api/v1/workflows/:id/test-run',
    {
      // Running is a change (operator, the editing role), as for /run.
      config: { role: 'operator' },
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
            triggerNode: { type: 'string', minLength: 1, maxLength: 200 },
            /** Run only this node and its ancestors. */
            destinationNode: { type: 'string', minLength: 1, maxLength: 200 },
          },
          additionalProperties: false,
        },
        response: { 202: startedSchema },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const executionId = await engine.testRun(request.params.id, body.items, {
        triggerNode: body.triggerNode,
        destinationNode: body.destinationNode,
      });
      return reply.status(202).send({ executionId, status: 'queued' });
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/workflow-examples',
    {
      schema: {
        querystring: pagedQuery({}),
        response: {
          200: pagedResponse('examples', {
            type: 'object',
            properties: {
              file: { type: 'string' },
              name: { type: 'string' },
              description: { type: 'string' },
              definition: { type: 'object', additionalProperties: true },
            },
          }),
        },
      },
    },
    async (request) => {
      const page = pageInMemory(readExamples(opts.examplesRoot), request.query, {
        key: (e) => [e.file],
        shape: ['string'],
      });
      return { examples: page.items, nextCursor: page.nextCursor };
    },
  );

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
