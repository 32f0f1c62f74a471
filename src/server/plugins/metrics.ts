// GET /metrics in the Prometheus text format (viewer role: give Prometheus an
// API key as a bearer token), and an HTTP request counter and latency
// histogram for every route. The worker's health port registers it too.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

import type { Services } from '../../app.ts';
import { secondsBuckets } from '../../metrics/registry.ts';

async function metricsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { metrics } = opts.services;
  const requests = metrics.counter({
    name: 'warden_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
  });
  const duration = metrics.histogram({
    name: 'warden_http_request_duration_seconds',
    help: 'Seconds spent answering HTTP requests, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [...secondsBuckets],
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not the URL: ids must not explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    { schema: { response: { 200: { type: 'string' } } } },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
}

export default fp(metricsPlugin, { name: 'warden-metrics' });
