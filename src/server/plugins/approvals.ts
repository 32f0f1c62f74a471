// Approvals: list requests; approve or reject an incident's pending one.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { ApprovalStatus } from '../../approvals/approval-service.ts';
import type { PageQuery } from '../paging.ts';
import { decodeCursor, pagedQuery, pagedResponse, pageLimit, toPage } from '../paging.ts';
import { idParams } from '../schemas.ts';
import { principalName } from './auth.ts';

const approvalSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    incidentId: { type: 'integer' },
    executionId: { type: ['string', 'null'] },
    action: { type: 'string' },
    parameters: { type: 'object', additionalProperties: true },
    risk: { type: 'string' },
    reason: { type: 'string' },
    proposal: {},
    status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired'] },
    requestedAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    decidedAt: { type: ['string', 'null'], format: 'date-time' },
    decidedBy: { type: ['string', 'null'] },
    comment: { type: ['string', 'null'] },
  },
} as const;

const decisionBody = {
  type: 'object',
  properties: { comment: { type: 'string', maxLength: 2000 } },
  additionalProperties: false,
} as const;

export default async function approvalsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { approvals } = opts.services;

  app.get<{ Querystring: PageQuery & { status?: ApprovalStatus; incidentId?: number } }>(
    '/api/v1/approvals',
    {
      schema: {
        querystring: pagedQuery({
          status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired'] },
          incidentId: { type: 'integer', minimum: 1 },
        }),
        response: { 200: pagedResponse('approvals', approvalSchema) },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      const limit = pageLimit(request.query);
      const before = decodeCursor(cursor, ['number']);
      const rows = await approvals.list({ ...filter, beforeId: before?.[0], limit: limit + 1 });
      const page = toPage(rows, limit, (a) => [a.id]);
      return { approvals: page.items, nextCursor: page.nextCursor };
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: number }; Body: { comment?: string } | undefined }>(
      `/api/v1/incidents/:id/${decision}`,
      { schema: { params: idParams, body: decisionBody, response: { 200: approvalSchema } } },
      async (request) =>
        approvals.decide(
          request.params.id,
          decision,
          principalName(request.principal),
          request.body?.comment,
        ),
    );
  }
}
