// One place maps errors to HTTP: user errors to 4xx, dependency failures to
// 503, bugs to 500. Every answer carries a stable code and the request id.
import type { FastifyError, FastifyInstance } from 'fastify';

import { maskDeep, maskUrlsInText } from '../config/mask.ts';
import { OperationalError, UserError } from '../errors.ts';

export type ErrorBody = {
  error: { code: string; message: string; requestId: string; details?: unknown };
};

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    const requestId = String(request.id);
    if (err instanceof UserError) {
      request.log.info({ code: err.code }, err.message);
      if (err.status === 429 && err.details?.retryAfter)
        reply.header('retry-after', String(err.details.retryAfter));
      return reply.status(err.status).send({
        error: {
          code: err.code,
          message: maskUrlsInText(err.message),
          requestId,
          details: maskDeep(err.details),
        },
      });
    }
    if (err instanceof OperationalError) {
      request.log.warn({ code: err.code, err }, err.message);
      // A dependency's error may quote its URL; the answer never carries the credentials in it.
      return reply
        .status(503)
        .send({ error: { code: err.code, message: maskUrlsInText(err.message), requestId } });
    }
    const fe = err as FastifyError;
    // Fastify's own client errors: schema validation, body too large, bad JSON.
    if (fe.validation) {
      const where = fe.validationContext ?? 'request';
      return reply.status(400).send({
        error: {
          code: 'invalid_request',
          message: `${where} ${fe.message.replace(/^(body|querystring|params|headers)\s*/, '')}`,
          requestId,
          details: fe.validation,
        },
      });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = (fe.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
      request.log.info({ code }, fe.message);
      return reply.status(fe.statusCode).send({ error: { code, message: fe.message, requestId } });
    }
    request.log.error({ err }, 'unexpected error');
    return reply.status(500).send({
      error: {
        code: 'internal_error',
        message: 'an unexpected error occurred; see the server log',
        requestId,
      },
    });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: {
        code: 'route_not_found',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        requestId: String(request.id),
      },
    });
  });
}
