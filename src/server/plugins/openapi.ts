// The OpenAPI 3.1 document, generated from the JSON schemas every route
// already declares (they are the one schema language of the HTTP API), and
// a browsable reference that Warden serves from its own files, so it works
// with no network. Both are public: they describe the API, not its data.
// Registered before the feature plugins, since the generator sees only the
// routes declared after it.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

import { wardenVersion } from '../../version.ts';
import { sessionCookie } from './auth.ts';

/** Where the document and the reference are served. */
export const openApiPath = '/api/v1/openapi.json';
export const referencePath = '/api/v1/docs';

/** One tag per feature, named for the first path segment after /api/v1. */
const tags: Record<string, string> = {
  auth: 'Log in and out, and who is calling.',
  setup: 'The one-time set-up of the first admin.',
  users: 'User administration (admin).',
  'api-keys': 'API key administration (admin).',
  credentials: 'Encrypted credentials that workflows use (admin).',
  monitors: 'Built-in HTTP, TCP and action monitors, and their checks.',
  incidents: 'Incidents, their timeline, approvals, notes and attachments.',
  approvals: 'Requests for a human decision on a dangerous action.',
  alerts: 'Alert intake and the stored alerts.',
  'alert-endpoints': 'Credentials of alert senders (admin).',
  'maintenance-windows': 'Windows in which alerts open no incident.',
  memory: 'Incident memory: remembered fixes and runbooks.',
  workflows: 'Workflows, their versions and manual runs.',
  'node-types': 'The node types the editor offers.',
  executions: 'Workflow executions and their steps.',
  webhooks: 'Workflow webhook triggers.',
  audit: 'The hash-chained audit log (admin).',
  actions: 'The action catalogue.',
  settings: 'Settings and notification channels (admin).',
  dashboard: 'The console dashboard.',
  events: 'The live change stream (server-sent events).',
  console: 'What the web console needs beyond the API.',
  health: 'Liveness, readiness and metrics.',
  openapi: 'This document.',
};

/** The tag of a route, from its path. */
export function tagOf(url: string): string {
  if (url.startsWith('/webhook') || url.startsWith('/hooks/')) return 'webhooks';
  if (['/healthz', '/readyz', '/metrics'].includes(url)) return 'health';
  if (url === '/setup') return 'setup';
  const segment = /^\/api\/v1\/([^/]+)/.exec(url)?.[1] ?? '';
  if (segment === 'notifications') return 'settings';
  if (segment === 'openapi.json') return 'openapi';
  return segment in tags ? segment : 'console';
}

/** A stable, unique operation id from the method and the path: getIncidentsByIdAttachments. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '/')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s.startsWith(':') ? `by-${s.slice(1)}` : s === '*' ? 'any-path' : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter((w) => w !== '');
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

const errorBody = {
  type: 'object' as const,
  required: ['error'],
  properties: {
    error: {
      type: 'object' as const,
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string' as const, description: 'Stable, machine-readable.' },
        message: { type: 'string' as const, description: 'What was wrong, for people.' },
        requestId: {
          type: 'string' as const,
          description: 'Also in the x-request-id header and the log.',
        },
        details: { description: 'More about the error, when there is more to say.' },
      },
    },
  },
};

type Operation = { responses?: Record<string, unknown> };

async function openApiPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Warden HTTP API',
        version: wardenVersion,
        description:
          'Every list takes `limit` and `cursor` and answers its items with `nextCursor` (null on the last page). ' +
          'Every error answers `{"error": {"code", "message", "requestId"}}`.',
      },
      tags: Object.entries(tags).map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: `Authorization: Bearer wdn_...`.',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: sessionCookie,
            description:
              'The browser session from POST /api/v1/auth/login; a request that changes state also sends the X-CSRF-Token the login answered.',
          },
        },
        schemas: { Error: errorBody },
        responses: {
          Error: {
            description:
              'An error: a 4xx for bad input, 503 for a failed dependency, 500 for a bug.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    transform: ({ schema, url, route }) => {
      const method = [route.method].flat()[0] ?? 'GET';
      const publicRoute = (route as RouteOptions).config?.public === true;
      // A trailing wildcard is the rest of the path: OpenAPI calls it {path}.
      const wildcard = url.endsWith('/*');
      const params = schema?.params as
        { properties?: Record<string, unknown>; required?: string[] } | undefined;
      return {
        url: wildcard ? `${url.slice(0, -1)}{path}` : url,
        schema: {
          ...schema,
          ...(wildcard && params?.properties?.['*']
            ? {
                params: {
                  ...params,
                  required: ['path'],
                  properties: { path: params.properties['*'] },
                },
              }
            : {}),
          operationId: operationIdOf(method, url),
          tags: [tagOf(url)],
          // The console's single-page app is not the API.
          ...(url === '/*' ? { hide: true } : {}),
          ...(publicRoute ? { security: [] } : {}),
        },
      };
    },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const { openapiObject } = documentObject;
      // Every operation may answer the one error shape.
      for (const item of Object.values(openapiObject.paths ?? {}))
        for (const op of Object.values(item ?? {}) as Operation[]) {
          if (typeof op !== 'object' || op === null || !op.responses) continue;
          op.responses['4XX'] ??= { $ref: '#/components/responses/Error' };
          op.responses['5XX'] ??= { $ref: '#/components/responses/Error' };
        }
      return openapiObject;
    },
  });

  app.get(
    openApiPath,
    {
      config: { public: true },
      schema: {
        description: 'This OpenAPI 3.1 document.',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  );

  // The reference's own routes (page, assets, its copy of the document) are
  // public and left out of the document: they are not the API.
  await app.register(async (ui) => {
    ui.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await ui.register(swaggerUi, {
      routePrefix: referencePath,
      staticCSP: true,
      uiConfig: { deepLinking: true, validatorUrl: null },
      theme: { title: 'Warden API reference' },
      // The top bar names Warden and leads back to the console.
      logo: {
        type: 'image/svg+xml',
        content: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="0" y="28" font-family="sans-serif" font-size="24" fill="#fff">Warden</text></svg>',
        ),
        href: '/',
        target: '_self',
      },
    });
  });
}

export default fp(openApiPlugin, { name: 'warden-openapi' });
