// Images on incidents: POST /api/v1/incidents/:id/attachments takes
// `{ data: base64, filename? }` (operator; PNG or JPEG by their bytes, at
// most 5 MB) and the vision role describes it onto the timeline; GET lists
// them and GET .../:attachmentId serves the bytes (any role), always as
// the type the bytes proved, never sniffed, never with the sender's name
// in a header.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { IncidentAttachments, maxAttachmentBytes } from '../../incidents/incident-attachments.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';
import { idParams } from '../schemas.ts';
import { principalName } from './auth.ts';

/** Base64 of the largest image, plus room for line breaks and the JSON around it. */
const maxBase64 = Math.ceil(maxAttachmentBytes / 3) * 4 + 65_536;

export default async function incidentAttachmentsPlugin(
  app: FastifyInstance,
  opts: { services: Services },
) {
  const { db, incidents, llm, logger } = opts.services;
  const attachments = new IncidentAttachments({ db, incidents, llm, logger });
  app.addHook('onClose', async () => attachments.settle());

  app.post<{ Params: { id: number }; Body: { data: string; filename?: string } }>(
    '/api/v1/incidents/:id/attachments',
    {
      bodyLimit: maxBase64 + 4096,
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['data'],
          properties: {
            data: { type: 'string', minLength: 1, maxLength: maxBase64 },
            filename: { type: 'string', maxLength: 200 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const attachment = await attachments.add(request.params.id, {
        data: request.body.data,
        actor: principalName(request.principal),
        ...(request.body.filename !== undefined ? { filename: request.body.filename } : {}),
      });
      return reply.status(201).send({ attachment, describing: true });
    },
  );

  app.get<{ Params: { id: number }; Querystring: PageQuery }>(
    '/api/v1/incidents/:id/attachments',
    {
      schema: {
        params: idParams,
        querystring: pagedQuery({}),
        response: {
          200: pagedResponse('attachments', { type: 'object', additionalProperties: true }),
        },
      },
    },
    async (request) => {
      const page = pageInMemory(await attachments.list(request.params.id), request.query, {
        key: (a) => [a.id],
        shape: ['number'],
      });
      return { attachments: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: number; attachmentId: number } }>(
    '/api/v1/incidents/:id/attachments/:attachmentId',
    {
      schema: {
        params: {
          type: 'object',
          required: ['id', 'attachmentId'],
          properties: {
            id: { type: 'integer', minimum: 1 },
            attachmentId: { type: 'integer', minimum: 1 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { attachment, data } = await attachments.read(
        request.params.id,
        request.params.attachmentId,
      );
      const ext = attachment.mediaType === 'image/png' ? 'png' : 'jpg';
      return reply
        .type(attachment.mediaType)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, max-age=3600')
        .header('content-disposition', `inline; filename="attachment-${attachment.id}.${ext}"`)
        .send(data);
    },
  );
}
