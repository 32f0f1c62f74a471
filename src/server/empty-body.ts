// A request that needs no body may come without one, whatever it says about
// its content type: no body, an empty body labelled application/json, and
// `{}` all mean "nothing to say" (`curl -X POST .../approve` works). A body
// that is there is parsed and checked as before, so a bad one is still a 400.
import type { FastifyInstance } from 'fastify';

export function acceptEmptyBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    return parseJson(request, text, done);
  });
  // A route with a body schema sees an absent body as `{}`: its own schema
  // then says which field is missing, instead of "body must be object".
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined)
      request.body = {};
  });
}
