// /webhook/<path> for GET and POST: public routes (each workflow's webhook
// node carries its own auth), raw bodies kept for HMAC signatures.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return null;
  const text = raw.toString('utf8');
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(text));
  return text;
}

export default async function webhooksPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { webhooks, config } = opts.services;
  // This plugin is encapsulated: the raw parser applies to its routes only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: config.server.bodyLimit },
    (_request, body, done) => done(null, body),
  );

  const schema = {
    params: {
      type: 'object',
      required: ['*'],
      properties: { '*': { type: 'string', minLength: 1, maxLength: 500 } },
    },
  } as const;

  // One route per method, so each has its own operation in the OpenAPI document.
  for (const method of ['GET', 'POST'] as const) {
    app.route<{ Params: { '*': string }; Querystring: Record<string, unknown> }>({
      method,
      url: '/webhook/*',
      config: { public: true },
      schema,
      handler: async (request, reply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const answer = await webhooks.handle({
          method: request.method,
          path: request.params['*'].replace(/\/+$/, ''),
          headers: request.headers,
          query: request.query ?? {},
          body: parseBody(raw, request.headers['content-type']),
          rawBody: raw,
        });
        for (const [k, v] of Object.entries(answer.headers)) reply.header(k, v);
        return reply.status(answer.status).send(answer.body);
      },
    });
  }
}
