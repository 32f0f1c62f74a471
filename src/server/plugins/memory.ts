// Incident memory: what Warden has learnt. Viewers read and search (the
// search says what the gate would do); operators teach it (resolve an
// incident by hand, import runbooks), correct, disable and forget; admins
// re-embed it (reindex).
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { roleAtLeast } from '../../auth/roles.ts';
import { UserError } from '../../errors.ts';
import type { HandResolution, MemoryCorrection } from '../../healing/teaching.ts';
import type { PageQuery } from '../paging.ts';
import { decodeCursor, pagedQuery, pagedResponse, pageLimit, toPage } from '../paging.ts';
import { principalName } from './auth.ts';

const probeSchema = {
  type: 'object',
  required: ['action', 'expect'],
  properties: {
    action: { type: 'string', minLength: 1, maxLength: 64 },
    parameters: { type: 'object', additionalProperties: true },
    expect: { type: 'string', minLength: 1, maxLength: 1000 },
  },
  additionalProperties: false,
} as const;
const fixSchema = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { type: 'string', minLength: 1, maxLength: 64 },
    parameters: { type: 'object', additionalProperties: true },
  },
  additionalProperties: false,
} as const;
const lines = {
  type: 'array',
  maxItems: 50,
  items: { type: 'string', minLength: 1, maxLength: 1000 },
} as const;

const incidentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    symptoms: { type: 'string' },
    service: { type: ['string', 'null'] },
    logExcerpt: { type: 'string' },
    rootCause: { type: 'string' },
    fix: {
      type: ['object', 'null'],
      properties: {
        action: { type: 'string' },
        parameters: { type: 'object', additionalProperties: true },
      },
    },
    outcome: { type: 'string' },
    verified: { type: 'boolean' },
    fixBlocked: { type: 'boolean' },
    successCount: { type: 'integer' },
    failureCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    evidence: { type: 'array', items: { type: 'string' } },
    probes: { type: 'array', items: probeSchema },
    disabled: { type: 'boolean' },
  },
} as const;
const gateSchema = {
  type: 'object',
  properties: {
    decision: { type: 'string' },
    reason: { type: 'string' },
    risk: { type: 'string' },
    evidence: {
      type: 'object',
      properties: {
        status: { type: 'string' },
        confirmed: { type: 'array', items: { type: 'string' } },
        missing: { type: 'array', items: { type: 'string' } },
        contradictions: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } },
} as const;

export default async function memoryPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { memory, healing } = opts.services;

  app.get<{ Querystring: PageQuery & { service?: string } }>(
    '/api/v1/memory',
    {
      schema: {
        querystring: pagedQuery({ service: { type: 'string', maxLength: 100 } }),
        response: { 200: pagedResponse('incidents', incidentSchema) },
      },
    },
    async (request) => {
      const limit = pageLimit(request.query);
      const before = decodeCursor(request.query.cursor, ['string'], ([id]) =>
        /^[0-9]{1,18}$/.test(id),
      );
      const rows = await memory.list({
        ...(request.query.service !== undefined ? { service: request.query.service } : {}),
        beforeId: before?.[0],
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (r) => [r.id]);
      return { incidents: page.items, nextCursor: page.nextCursor };
    },
  );
  app.get(
    '/api/v1/memory/status',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['embedder', 'dimension', 'store', 'incidents', 'stale'],
            properties: {
              embedder: { type: 'string' },
              dimension: { type: 'integer' },
              store: { type: 'string' },
              incidents: { type: 'integer' },
              // Incidents embedded by another embedder than the configured one.
              stale: { type: 'integer' },
            },
          },
        },
      },
    },
    async () => memory.status(),
  );
  app.post<{ Body: { batchSize?: number } }>(
    '/api/v1/memory/reindex',
    {
      // Rebuilds the whole vector collection: an administrator's call.
      config: { role: 'admin' },
      schema: {
        body: {
          type: 'object',
          properties: { batchSize: { type: 'integer', minimum: 1, maximum: 1000 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['reindexed', 'embedder', 'store'],
            properties: {
              reindexed: { type: 'integer' },
              embedder: { type: 'string' },
              store: { type: 'string' },
            },
          },
        },
      },
    },
    async (request) => {
      const r = await memory.reindex({ batchSize: request.body?.batchSize ?? 32 });
      return { ...r, embedder: opts.services.embedder.id, store: opts.services.vectorStore.kind };
    },
  );
  app.post<{
    Body: { text: string; logs?: string; service?: string; topK?: number; runProbes?: boolean };
  }>(
    '/api/v1/memory/search',
    {
      // A search changes nothing: viewers may run it.
      config: { role: 'viewer' },
      schema: {
        body: {
          type: 'object',
          required: ['text'],
          properties: {
            text: { type: 'string', minLength: 1, maxLength: 10_000 },
            logs: { type: 'string', maxLength: 100_000 },
            service: { type: 'string', minLength: 1, maxLength: 100 },
            topK: { type: 'integer', minimum: 1, maximum: 20 },
            runProbes: { type: 'boolean' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              threshold: { type: 'number' },
              matches: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    incident: incidentSchema,
                    score: { type: 'number' },
                    vectorScore: { type: 'number' },
                    textScore: { type: 'number' },
                    rawScore: { type: 'number' },
                    autoApply: { type: 'boolean' },
                    reason: { type: 'string' },
                    gate: gateSchema,
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { text, logs, service, topK, runProbes } = request.body;
      // Probes run read actions on the server: an operator's to ask for.
      if (runProbes && !roleAtLeast(request.principal!.role, 'operator'))
        throw new UserError(
          'forbidden',
          'runProbes runs read actions: it needs the operator role',
          {
            status: 403,
          },
        );
      return {
        threshold: memory.threshold,
        matches: await healing.explain([text, logs].filter(Boolean).join('\n'), {
          topK: topK ?? 3,
          runProbes: runProbes ?? false,
          ...(service ? { service } : {}),
        }),
      };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/memory/:id',
    { schema: { params: idParams, response: { 200: incidentSchema } } },
    async (request) => memory.get(request.params.id),
  );
  app.patch<{ Params: { id: string }; Body: MemoryCorrection }>(
    '/api/v1/memory/:id',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          minProperties: 1,
          properties: {
            title: { type: 'string', minLength: 1, maxLength: 500 },
            rootCause: { type: 'string', maxLength: 2000 },
            fix: fixSchema,
            evidenceLines: lines,
            probes: { type: 'array', maxItems: 10, items: probeSchema },
            disabled: { type: 'boolean' },
          },
          additionalProperties: false,
        },
        response: { 200: incidentSchema },
      },
    },
    async (request) => healing.editMemory(request.params.id, request.body),
  );
  app.post<{ Body: { yaml: string } }>(
    '/api/v1/memory/import',
    {
      schema: {
        body: {
          type: 'object',
          required: ['yaml'],
          properties: { yaml: { type: 'string', minLength: 1, maxLength: 5_000_000 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { imported: { type: 'array', items: incidentSchema } },
          },
        },
      },
    },
    async (request) => ({ imported: await healing.importRunbooks(request.body.yaml) }),
  );
  app.get(
    '/api/v1/memory/export',
    // The runbooks as YAML, the format `POST /api/v1/memory/import` reads.
    { schema: { response: { 200: { type: 'string' } } } },
    async (_request, reply) =>
      reply.type('application/yaml; charset=utf-8').send(await healing.exportRunbooks()),
  );
  app.post<{ Params: { id: number }; Body: Omit<HandResolution, 'by'> }>(
    '/api/v1/incidents/:id/resolve',
    {
      schema: {
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'integer', minimum: 1 } },
        },
        body: {
          type: 'object',
          required: ['action', 'rootCause'],
          properties: {
            action: { type: 'string', minLength: 1, maxLength: 64 },
            parameters: { type: 'object', additionalProperties: true },
            rootCause: { type: 'string', minLength: 1, maxLength: 2000 },
            evidence: lines,
            probes: { type: 'array', maxItems: 10, items: probeSchema },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              incident: { type: 'object', additionalProperties: true },
              memory: incidentSchema,
            },
          },
        },
      },
    },
    async (request) =>
      healing.resolveByHand(request.params.id, {
        ...request.body,
        by: principalName(request.principal),
      }),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/v1/memory/:id',
    { schema: { params: idParams, response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      await memory.forget(request.params.id);
      return reply.status(204).send();
    },
  );
}
