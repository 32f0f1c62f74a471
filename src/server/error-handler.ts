// One place maps errors to HTTP: user errors to 4xx, dependency failures to
// 503, bugs to 500. Every answer carries a stable code and the request id.
import type { FastifyError, FastifyInstance } from 'fastify';

import { maskDeep, maskUrlsInText } from '../config/mask.ts';
import { errorBody } from '../error-body.ts';
import { OperationalError, UserError } from '../errors.ts';

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    const requestId = String(request.id);
    if (err instanceof UserError) {
      request.log.info({ code: err.code }, err.message);
      if (err.status === 429 && err.details?.retryAfter)
        reply.header('retry-after', String(err.details.retryAfter));
      return reply
        .status(err.status)
        .send(errorBody(err.code, maskUrlsInText(err.message), requestId, maskDeep(err.details)));
    }
    if (err instanceof OperationalError) {
      request.log.warn({ code: err.code, err }, err.message);
      // A dependency's error may quote its URL; the answer never carries the credentials in it.
      return reply.status(503).send(errorBody(err.code, maskUrlsInText(err.message), requestId));
    }
    const fe = err as FastifyError;
    // Fastify's own client errors: schema validation, body too large, bad JSON.
    if (fe.validation) {
      const where = fe.validationContext ?? 'request';
      return reply
        .status(400)
        .send(
          errorBody(
            'invalid_request',
            `${where} ${fe.message.replace(/^(body|querystring|params|headers)\s*/, '')}`,
            requestId,
            fe.validation,
          ),
        );
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = (fe.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
      request.log.info({ code }, fe.message);
      return reply.status(fe.statusCode).send(errorBody(code, fe.message, requestId));
    }
    request.log.error({ err }, 'unexpected error');
    return reply
      .status(500)
      .send(
        errorBody('internal_error', 'an unexpected error occurred; see the server log', requestId),
      );
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(
        errorBody(
          'route_not_found',
          `no route ${request.method} ${request.url.split('?')[0]}`,
          String(request.id),
        ),
      );
  });
}
