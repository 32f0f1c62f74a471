// The OpenAPI document: fetched from a listening Warden over HTTP without
// credentials, valid for a standard OpenAPI 3.1 validator, and complete:
// every route the app registers is in it with its method, except the few
// that are deliberately not the API (listed here). The browsable reference
// is served from Warden's own files.
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

/** Routes that are not the API, left out of the document on purpose. */
const excluded = [
  // The console's single-page app and its files.
  'GET /*',
  // The reference page and its assets (the document itself is in).
  /^GET \/api\/v1\/docs(\/.*)?$/,
];

type Document = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { operationId?: string; tags?: string[]; security?: unknown[] }>
  >;
  components: { securitySchemes: Record<string, unknown>; responses: Record<string, unknown> };
};

let services: TestServices;
let app: FastifyInstance;
let base: string;
const routes: { method: string; url: string }[] = [];

beforeAll(async () => {
  services = await makeTestServices('pglite');
  app = await buildServer(services, {
    onRoute: (r) => {
      for (const method of [r.method].flat())
        if (method !== 'HEAD' && method !== 'OPTIONS') routes.push({ method, url: r.url });
    },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  // fetch keeps connections alive; the test is done with them.
  app?.server.closeAllConnections();
  await app?.close();
  await services?.dispose();
});

function isExcluded(route: string): boolean {
  return excluded.some((e) => (typeof e === 'string' ? e === route : e.test(route)));
}

/** Fastify's /a/:id/b as OpenAPI writes it: /a/{id}/b; a trailing wildcard is {path}. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}');

describe('the OpenAPI document', () => {
  it('is served without credentials and passes an OpenAPI 3.1 validator', async () => {
    const res = await fetch(`${base}/api/v1/openapi.json`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const doc = (await res.json()) as Document;
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has every registered route with its method, an operation id and a tag', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Document;
    const missing: string[] = [];
    const ids = new Set<string>();
    for (const r of routes) {
      const name = `${r.method} ${r.url}`;
      if (isExcluded(name)) continue;
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      if (!op) {
        missing.push(name);
        continue;
      }
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(op.operationId!), `${name}: operation id used twice`).toBe(false);
      ids.add(op.operationId!);
      expect(op.tags?.length, name).toBe(1);
    }
    expect(missing).toEqual([]);
    // The exclusions are real routes, not stale names.
    expect(routes.some((r) => r.url === '/*')).toBe(true);
    expect(routes.some((r) => r.url.startsWith('/api/v1/docs'))).toBe(true);
    expect(ids.size).toBeGreaterThan(60);
  });

  it('names both ways in (API key and session cookie), marks public routes, and has the error response', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Document;
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'session']);
    expect(doc.components.securitySchemes.session).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'warden_session',
    });
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.paths['/api/v1/auth/login']!.post!.security).toEqual([]);
    expect(doc.paths['/api/v1/workflows']!.get!.security).toBeUndefined();
    const approve = doc.paths['/api/v1/incidents/{id}/approve']!.post! as {
      responses: Record<string, unknown>;
    };
    expect(approve.responses['4XX']).toEqual({ $ref: '#/components/responses/Error' });
    // Lists say how they page.
    const list = doc.paths['/api/v1/executions']!.get! as {
      parameters: { name: string; in: string }[];
    };
    expect(list.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'cursor']),
    );
  });
});

describe('the reference', () => {
  it('is a page served from Warden itself, whose scripts and styles are local files', async () => {
    // Without the slash too, as the docs may be typed.
    const bare = await fetch(`${base}/api/v1/docs`);
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain('swagger-ui');
    const res = await fetch(`${base}/api/v1/docs/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger-ui');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      // Nothing from another host: the reference works offline.
      expect(asset, asset).not.toMatch(/^(https?:)?\/\//);
      const url = new URL(asset, `${base}/api/v1/docs/`);
      const got = await fetch(url);
      expect(got.status, url.pathname).toBe(200);
    }
    // It reads the document from Warden and sends it to no outside validator.
    const init = await (await fetch(`${base}/api/v1/docs/static/swagger-initializer.js`)).text();
    expect(init).toContain("url: resolveUrl('./json')");
    expect(init).toMatch(/validatorUrl: null/);
  });
});
