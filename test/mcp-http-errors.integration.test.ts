// The MCP HTTP endpoint answers its HTTP errors (Host, Origin, token, path,
// method, a body that is not JSON or too large) in Warden's one error shape,
// with the request id in the body and the header; answers about MCP
// sessions stay JSON-RPC errors, which MCP clients read.
import { request } from 'node:http';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../src/log.ts';
import type { McpHttpServer } from '../src/mcp/http-transport.ts';
import { serveMcpHttp } from '../src/mcp/http-transport.ts';

const token = 'errors-token-0123456789abcdefghij';
let http: McpHttpServer;
let host: string;

type Answer = { status: number; headers: Record<string, unknown>; body: unknown };

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const u = new URL(http.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

beforeAll(async () => {
  http = await serveMcpHttp({
    port: 0,
    token,
    bodyLimit: 1024,
    allowedOrigins: ['https://ops.example.test'],
    logger: createLogger({ level: 'silent' }),
    createServer: () => new McpServer({ name: 'errors-test', version: '1.0.0' }),
  });
  host = new URL(http.url).host;
});
afterAll(() => http?.close());

function expectWardenError(a: Answer, status: number, code: string) {
  expect(a.status).toBe(status);
  const body = a.body as { error: { code: string; message: string; requestId: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.requestId).toBe(a.headers['x-request-id']);
}

describe('MCP HTTP errors', () => {
  const auth = () => ({ host, authorization: `Bearer ${token}` });

  it('a missing or wrong token is a 401 in the one error shape', async () => {
    expectWardenError(await send('POST', '/mcp', { ...json, host }, '{}'), 401, 'unauthorized');
    const wrong = await send(
      'POST',
      '/mcp',
      { ...json, host, authorization: 'Bearer wrong-0123456789abcdefghijklmn' },
      '{}',
    );
    expectWardenError(wrong, 401, 'unauthorized');
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
  });

  it('a foreign Host or Origin is a 403', async () => {
    expectWardenError(
      await send('POST', '/mcp', { ...json, ...auth(), host: 'evil.example:80' }, '{}'),
      403,
      'host_not_allowed',
    );
    expectWardenError(
      await send('POST', '/mcp', { ...json, ...auth(), origin: 'https://evil.example' }, '{}'),
      403,
      'origin_not_allowed',
    );
  });

  it('an unknown path is a 404 and a wrong method a 405 naming the right ones', async () => {
    expectWardenError(await send('GET', '/nowhere', auth()), 404, 'route_not_found');
    const put = await send('PUT', '/mcp', { ...json, ...auth() }, '{}');
    expectWardenError(put, 405, 'method_not_allowed');
    expect(put.headers.allow).toBe('GET, POST, DELETE');
    const postMetrics = await send('POST', '/metrics', auth(), '');
    expectWardenError(postMetrics, 405, 'method_not_allowed');
    expect(postMetrics.headers.allow).toBe('GET');
  });

  it('a body that is not JSON is a 400, one over the limit a 413', async () => {
    expectWardenError(
      await send('POST', '/mcp', { ...json, ...auth() }, '{"jsonrpc": '),
      400,
      'invalid_json',
    );
    expectWardenError(
      await send('POST', '/mcp', { ...json, ...auth() }, JSON.stringify({ pad: 'x'.repeat(2000) })),
      413,
      'body_too_large',
    );
  });

  it('keeps a request id the caller sent', async () => {
    const a = await send('GET', '/nowhere', { ...auth(), 'x-request-id': 'trace-42' });
    expect((a.body as { error: { requestId: string } }).error.requestId).toBe('trace-42');
    expect(a.headers['x-request-id']).toBe('trace-42');
  });

  it('answers about MCP sessions stay JSON-RPC errors, as the protocol has them', async () => {
    const unknown = await send(
      'POST',
      '/mcp',
      { ...json, ...auth(), 'mcp-session-id': 'nope' },
      '{}',
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    const notInit = await send(
      'POST',
      '/mcp',
      { ...json, ...auth() },
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    );
    expect(notInit.status).toBe(400);
    expect(notInit.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
  });
});
