// GET /api/v1/actions: the action catalogue as people read it (name, what it
// does, risk, typed parameters, the verify probe and the rollback), for the
// console's catalogue page and the resolve-by-hand form. Any role may read
// it: it holds no secret, and knowing what Warden may run is the point.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { actionView } from '../../exec/action-catalogue.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';

export default async function actionsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { catalogue } = opts.services.exec;
  app.get<{ Querystring: PageQuery }>(
    '/api/v1/actions',
    {
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('actions', { type: 'object', additionalProperties: true }) },
      },
    },
    async (request) => {
      const all = (await catalogue.list()).map(actionView);
      const page = pageInMemory(all, request.query, { key: (a) => [a.name], shape: ['string'] });
      return { actions: page.items, nextCursor: page.nextCursor };
    },
  );
}
