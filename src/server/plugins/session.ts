// Browser login: a rate-limited password check that sets an httpOnly,
// SameSite=Strict session cookie (Secure under TLS) and returns the CSRF
// token. Each failure writes one log line for Fail2Ban (deploy/fail2ban).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Services } from '../../app.ts';
import { UserError } from '../../errors.ts';
import { emptyBody, userSchema } from '../schemas.ts';
import { sessionCookie } from './auth.ts';

const credentialsBody = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
  additionalProperties: false,
} as const;

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  session: { id: string; expiresAt: Date },
) {
  reply.setCookie(sessionCookie, session.id, {
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    path: '/',
    expires: session.expiresAt,
  });
}

export default async function sessionPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { users, sessions, loginLimiter } = opts.services;

  app.post<{ Body: { username: string; password: string } }>(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: {
        body: credentialsBody,
        response: {
          200: { type: 'object', properties: { user: userSchema, csrfToken: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const wait = loginLimiter.retryAfter(request.ip, username);
      if (wait > 0) {
        // Log the refusal too: Fail2Ban should keep counting a client that keeps trying.
        request.log.warn(
          { event: 'auth.failure', user: username, reason: 'rate_limited' },
          `authentication failure from ${request.ip}`,
        );
        throw new UserError('too_many_attempts', `too many failed logins; try again in ${wait} s`, {
          status: 429,
          details: { retryAfter: wait },
        });
      }
      const user = await users.authenticate(username, password);
      if (!user) {
        loginLimiter.fail(request.ip, username);
        request.log.warn(
          { event: 'auth.failure', user: username },
          `authentication failure from ${request.ip}`,
        );
        throw new UserError('invalid_credentials', 'wrong username or password', { status: 401 });
      }
      loginLimiter.succeed(request.ip, username);
      const session = await sessions.create(user.id);
      setSessionCookie(request, reply, session);
      request.log.info({ event: 'auth.login', user: user.username }, 'login');
      return { user, csrfToken: session.csrfToken };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { role: 'viewer' },
      schema: { body: emptyBody, response: { 204: { type: 'null' } } },
    },
    async (request, reply) => {
      const sid = request.cookies[sessionCookie];
      if (sid) await sessions.destroy(sid);
      reply.clearCookie(sessionCookie, { path: '/' });
      return reply.status(204).send();
    },
  );

  const meSchema = {
    type: 'object',
    properties: {
      kind: { type: 'string' },
      role: { type: 'string' },
      user: {
        type: 'object',
        properties: { id: { type: 'integer' }, username: { type: 'string' } },
      },
      apiKey: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } },
    },
  } as const;

  app.get('/api/v1/auth/me', { schema: { response: { 200: meSchema } } }, async (request) => {
    const p = request.principal!;
    return p.kind === 'session'
      ? { kind: p.kind, role: p.role, user: { id: p.userId, username: p.username } }
      : { kind: p.kind, role: p.role, apiKey: { id: p.keyId, name: p.keyName } };
  });
}
