// The request log: one line per request when it is answered (not Fastify's
// two), at debug for success, info for a client error, warn for a server
// error; the path without its query string, which may carry a token.
import { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createLogger } from '../src/log.ts';
import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

type Line = { level: string; msg: string; [k: string]: unknown };

let services: TestServices;
let app: FastifyInstance;
let lines: Line[] = [];

const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const text of chunk.toString('utf8').split('\n'))
      if (text.trim()) lines.push(JSON.parse(text) as Line);
    done();
  },
});

beforeAll(async () => {
  services = await makeTestServices('pglite');
  const logger = createLogger({ level: 'debug', destination: sink });
  app = await buildServer({ ...services, logger });
  app.get('/test/boom', { config: { public: true } }, async () => {
    throw new Error('boom');
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await services.dispose();
});

beforeEach(() => {
  lines = [];
});

const answered = () => lines.filter((l) => l.msg === 'request answered');

describe('request log', () => {
  it('writes one line for a successful request, at debug, and none of Fastify’s own', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(answered()).toEqual([
      expect.objectContaining({ level: 'debug', method: 'GET', path: '/healthz', status: 200 }),
    ]);
    expect(typeof answered()[0]!.ms).toBe('number');
    expect(lines.filter((l) => /incoming request|request completed/.test(l.msg))).toEqual([]);
  });

  it('logs a client error at info and leaves out the query string', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/workflows?token=s3cret-in-the-query',
    });
    expect(res.statusCode).toBe(401);
    expect(answered()).toEqual([
      expect.objectContaining({ level: 'info', path: '/api/v1/workflows', status: 401 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('s3cret-in-the-query');
  });

  it('logs an unknown route once, at info, without its query string', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/healthz?key=s3cret-404' });
    expect(res.statusCode).toBe(404);
    expect(answered()).toEqual([
      expect.objectContaining({ level: 'info', path: '/healthz', status: 404 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('s3cret-404');
  });

  it('logs a server error at warn, beside the error handler’s own line', async () => {
    const res = await app.inject({ method: 'GET', url: '/test/boom' });
    expect(res.statusCode).toBe(500);
    expect(answered()).toEqual([
      expect.objectContaining({ level: 'warn', path: '/test/boom', status: 500 }),
    ]);
    expect(lines.some((l) => l.msg === 'unexpected error')).toBe(true);
  });

  it('writes nothing for a successful request at the default level', async () => {
    const quiet: Line[] = [];
    const quietApp = await buildServer({
      ...services,
      logger: createLogger({
        level: 'info',
        destination: new Writable({
          write(chunk: Buffer, _enc, done) {
            quiet.push(JSON.parse(chunk.toString('utf8')) as Line);
            done();
          },
        }),
      }),
    });
    try {
      await quietApp.ready();
      const res = await quietApp.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(quiet).toEqual([]);
    } finally {
      await quietApp.close();
    }
  });
});
