// Liveness and readiness: public, cheap, no secrets in the answer. /readyz
// says which dependency is down, never where it lives: no URLs, hosts or
// credentials (publicChecks).
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { publicChecks } from '../../health.ts';

export default async function healthPlugin(app: FastifyInstance, opts: { services: Services }) {
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    const { ready, checks } = await opts.services.health.run();
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', checks: publicChecks(checks) });
  });
}
