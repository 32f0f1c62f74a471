// Authentication and authorisation for every route. A route is public only
// when it says so (`config: { public: true }`); every other route needs an
// API key (Authorization: Bearer) or a browser session cookie, and cookie
// requests that change state must carry the session's CSRF token.
// Reads need `viewer`, writes `operator`, unless the route names a role.
import { timingSafeEqual } from 'node:crypto';
import { userInfo } from 'node:os';

import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

import type { Services } from '../../app.ts';
import type { Role } from '../../auth/roles.ts';
import { roleAtLeast } from '../../auth/roles.ts';
import { UserError } from '../../errors.ts';

export type Principal =
  | { kind: 'session'; role: Role; userId: number; username: string }
  | {
      kind: 'api_key';
      role: Role;
      keyId: number;
      keyName: string;
      userId: number | null;
      /** Who the records name instead of the key: the CLI on this machine as its user. */
      actor?: string;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answer without credentials. @default false */
    public?: boolean;
    /** Least role needed. @default 'viewer' for GET/HEAD, 'operator' otherwise */
    role?: Role;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export const sessionCookie = 'warden_session';

let ownUser: string | undefined;
function localUser(): string {
  ownUser ??= userInfo().username;
  return ownUser;
}
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

function equalTokens(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function principalName(p: Principal | undefined): string {
  if (!p) return 'anonymous';
  if (p.kind === 'session') return `user:${p.username}`;
  return p.actor ?? `api_key:${p.keyName}`;
}

async function authenticate(
  services: Services,
  request: FastifyRequest,
  controlToken: string | undefined,
): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m)
      throw new UserError('unauthorized', 'the Authorization header must be "Bearer <api key>"', {
        status: 401,
      });
    // The local control token (an owner-only file in the data directory, valid
    // while this process runs) is the CLI on this machine, as admin.
    // Only this process's owner can read that file, so records name the CLI
    // as that user, exactly as when the CLI opens the database itself.
    if (controlToken !== undefined && equalTokens(m[1]!, controlToken))
      return {
        kind: 'api_key',
        role: 'admin',
        keyId: 0,
        keyName: 'local-cli',
        userId: null,
        actor: `cli:${localUser()}`,
      };
    const key = await services.apiKeys.verify(m[1]!);
    if (!key)
      throw new UserError('unauthorized', 'the API key is unknown or revoked', { status: 401 });
    return {
      kind: 'api_key',
      role: key.role,
      keyId: key.id,
      keyName: key.name,
      userId: key.userId,
    };
  }
  const sid = request.cookies[sessionCookie];
  if (!sid) return undefined;
  const session = await services.sessions.get(sid);
  if (!session)
    throw new UserError('unauthorized', 'the session has expired; log in again', { status: 401 });
  if (!safeMethods.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !equalTokens(sent, session.csrfToken)) {
      throw new UserError(
        'csrf_failed',
        'missing or wrong X-CSRF-Token header for a cookie-authenticated request',
        {
          status: 403,
        },
      );
    }
  }
  return {
    kind: 'session',
    role: session.user.role,
    userId: session.userId,
    username: session.user.username,
  };
}

async function authPlugin(
  app: FastifyInstance,
  opts: { services: Services; controlToken?: string | undefined },
) {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const config = request.routeOptions.config;
    // Unknown routes fall through to the 404 handler.
    if (!request.routeOptions.url || config.public) return;
    const principal = await authenticate(opts.services, request, opts.controlToken);
    if (!principal) {
      throw new UserError(
        'unauthorized',
        'authentication required: send "Authorization: Bearer <api key>" or log in',
        {
          status: 401,
        },
      );
    }
    const needed = config.role ?? (safeMethods.has(request.method) ? 'viewer' : 'operator');
    if (!roleAtLeast(principal.role, needed)) {
      throw new UserError(
        'forbidden',
        `this needs the ${needed} role; you have ${principal.role}`,
        { status: 403 },
      );
    }
    request.principal = principal;
  });
}

export default fp(authPlugin, { name: 'warden-auth' });
