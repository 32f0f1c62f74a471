// What an operator does to an incident by hand: acknowledge, add a note,
// reopen. Writes, so the auth layer asks for the operator role; a viewer
// gets 403 before anything is read. Resolving by hand (which teaches
// incident memory) is the memory plugin's route.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { IncidentActions } from '../../incidents/incident-actions.ts';
import { emptyBody, idParams } from '../schemas.ts';
import { principalName } from './auth.ts';

export default async function incidentActionsPlugin(
  app: FastifyInstance,
  opts: { services: Services },
) {
  const actions = new IncidentActions(opts.services.db);

  app.post<{ Params: { id: number } }>(
    '/api/v1/incidents/:id/acknowledge',
    { schema: { params: idParams, body: emptyBody } },
    async (request, reply) =>
      reply
        .status(201)
        .send(await actions.acknowledge(request.params.id, principalName(request.principal))),
  );

  app.post<{ Params: { id: number }; Body: { text: string } }>(
    '/api/v1/incidents/:id/notes',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['text'],
          properties: { text: { type: 'string', minLength: 1, maxLength: 4000 } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await actions.addNote(request.params.id, {
          text: request.body.text,
          actor: principalName(request.principal),
        }),
      ),
  );

  app.post<{ Params: { id: number }; Body: { reason?: string } | undefined }>(
    '/api/v1/incidents/:id/reopen',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          properties: { reason: { type: 'string', maxLength: 2000 } },
          additionalProperties: false,
        },
      },
    },
    async (request) =>
      actions.reopen(request.params.id, {
        actor: principalName(request.principal),
        ...(request.body?.reason !== undefined ? { reason: request.body.reason } : {}),
      }),
  );
}
