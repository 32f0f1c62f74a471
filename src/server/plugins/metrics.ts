// GET /metrics in the Prometheus text format (viewer role: give Prometheus an
// API key as a bearer token), and HTTP request counters for every route.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

import type { Services } from '../../app.ts';
import { LabeledCounter } from '../../metrics/registry.ts';

async function metricsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const requests = new LabeledCounter();
  const seconds = new LabeledCounter();

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not the URL: ids must not explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    seconds.inc({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  opts.services.metrics.register(() => [
    {
      name: 'warden_http_requests_total',
      help: 'HTTP requests by method, route and status.',
      type: 'counter',
      samples: requests.samples(),
    },
    {
      name: 'warden_http_request_duration_seconds_sum',
      help: 'Total seconds spent answering HTTP requests, by method and route.',
      type: 'counter',
      samples: seconds.samples(),
    },
  ]);

  app.get(
    '/metrics',
    { schema: { response: { 200: { type: 'string' } } } },
    async (_request, reply) =>
      reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(await opts.services.metrics.render()),
  );
}

export default fp(metricsPlugin, { name: 'warden-metrics' });
