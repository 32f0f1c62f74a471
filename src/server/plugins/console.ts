// The web console: the built single-page app under web/dist, served from the
// same origin as the API so the session cookie and CSRF token just work. Any
// GET that is not an API, hook or health path and names no file gets
// index.html (the app routes in the browser); API paths keep their JSON 404.
// It also hands a logged-in page its CSRF token after a reload, since the
// token is otherwise only in the login answer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { UserError } from '../../errors.ts';
import { sessionCookie } from './auth.ts';

/** web/dist, from src/server/plugins or dist/server/plugins alike. */
export const consoleRoot = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Paths the browser app never owns: their unknown routes answer JSON 404s. */
const serverPrefixes = [
  '/api/',
  '/hooks/',
  '/mcp',
  '/metrics',
  '/healthz',
  '/readyz',
  '/setup',
  '/webhook',
];

const csp = [
  "default-src 'self'",
  "script-src 'self'",
  // React sets inline style attributes for bar widths; no inline scripts.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const notBuiltPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Warden</title></head>
<body><main><h1>Warden</h1><p>The web console is not built. Run <code>npm run build:web</code>
(or <code>npm install</code>, which builds it) and reload.</p></main></body></html>`;

export type ConsolePluginOptions = {
  services: Services;
  /** Folder of the built app. @default web/dist in the package */
  root?: string;
};

export default async function consolePlugin(app: FastifyInstance, opts: ConsolePluginOptions) {
  const { sessions } = opts.services;
  const root = opts.root ?? consoleRoot;

  // The build writes .br and .gz beside each asset; they go to browsers that accept them.
  await app.register(fastifyStatic, { root, serve: false, preCompressed: true });

  app.get(
    '/api/v1/console/session',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              kind: { type: 'string' },
              role: { type: 'string' },
              username: { type: ['string', 'null'] },
              csrfToken: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    async (request) => {
      const p = request.principal!;
      if (p.kind !== 'session')
        return { kind: p.kind, role: p.role, username: p.keyName, csrfToken: null };
      const session = await sessions.get(request.cookies[sessionCookie] ?? '');
      return {
        kind: p.kind,
        role: p.role,
        username: p.username,
        csrfToken: session?.csrfToken ?? null,
      };
    },
  );

  app.get<{ Params: { '*': string } }>(
    '/*',
    { config: { public: true } },
    async (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (serverPrefixes.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p)))
        throw new UserError('route_not_found', `no route GET ${path}`, { status: 404 });
      const wanted = request.params['*'];
      // No way out of the build folder, however the path is spelled.
      if (wanted.split(/[\\/]/).some((part) => part === '..') || wanted.includes('\0'))
        throw new UserError('not_found', `no file /${wanted}`, { status: 404 });
      reply.header('content-security-policy', csp);
      // A path naming a file is that file or a 404, never the app.
      if (/\.\w+$/.test(wanted)) {
        if (!existsSync(join(root, wanted)))
          throw new UserError('not_found', `no file /${wanted}`, { status: 404 });
        // Hashed build files never change; index.html must always be fetched again.
        if (wanted.startsWith('assets/')) {
          reply.header('cache-control', 'public, max-age=31536000, immutable');
          return reply.sendFile(wanted, { cacheControl: false });
        }
        return reply.sendFile(wanted);
      }
      if (!existsSync(join(root, 'index.html')))
        return reply.status(503).type('text/html; charset=utf-8').send(notBuiltPage);
      reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html', { cacheControl: false });
    },
  );
}
