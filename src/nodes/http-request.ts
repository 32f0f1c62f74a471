// HTTP request: one request per input item, with a timeout and a response
// size cap. GET, HEAD and OPTIONS are treated as free of side effects; other
// methods are not, and may name a verify URL that tells, after a crash,
// whether the request took effect. Every request, its redirects and its
// verify URL go through guardedFetch: loopback, private, link-local and
// metadata addresses are refused unless WARDEN_HTTP_ALLOW_HOSTS lists them.
import type { Response } from 'undici';

import type { Item } from '../engine/expressions.ts';
import type { NodeContext, NodeType } from '../engine/node-types.ts';
import { OperationalError, UserError } from '../errors.ts';
import { guardedFetch } from './guarded-fetch.ts';

const safeMethods = ['GET', 'HEAD', 'OPTIONS'];

async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new OperationalError(
      'response_too_large',
      `response of ${declared} bytes exceeds the cap of ${max}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > max) {
        throw new OperationalError(
          'response_too_large',
          `response exceeds the cap of ${max} bytes`,
        );
      }
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks);
}

async function request(ctx: NodeContext, i: number, urlParam: 'url' | 'verifyUrl', method: string) {
  const url = await ctx.param<string>(urlParam, i);
  if (typeof url !== 'string' || !/^https?:\/\//.test(url))
    throw new UserError(
      'invalid_parameter',
      `${urlParam} must be an http(s) URL; got ${JSON.stringify(url)}`,
    );
  const timeoutMs = (await ctx.param<number | undefined>('timeoutMs', i)) ?? 10_000;
  const max =
    (await ctx.param<number | undefined>('maxResponseBytes', i)) ?? ctx.env.httpMaxResponseBytes;
  const headers = { ...((await ctx.param<Record<string, string>>('headers', i)) ?? {}) };
  const query = (await ctx.param<Record<string, unknown> | undefined>('query', i)) ?? {};
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  let body: string | undefined;
  if (urlParam === 'url' && !['GET', 'HEAD'].includes(method)) {
    const b = await ctx.param('body', i);
    if (b !== undefined && b !== null) {
      body = typeof b === 'string' ? b : JSON.stringify(b);
      if (
        typeof b !== 'string' &&
        !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
      )
        headers['content-type'] = 'application/json';
    }
  }
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
  try {
    return await guardedFetch(
      u,
      { method, headers, body },
      { policy: ctx.env.httpPolicy, signal },
      async (res) => {
        const raw = await readCapped(res, max);
        const text = raw.toString('utf8');
        const type = res.headers.get('content-type') ?? '';
        let parsed: unknown = text;
        if (type.includes('json') && text) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        return {
          statusCode: res.status,
          headers: Object.fromEntries(res.headers),
          body: parsed,
        } as Item;
      },
    );
  } catch (err) {
    if (ctx.signal.aborted || err instanceof UserError || err instanceof OperationalError)
      throw err;
    const e = err as Error;
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    throw new OperationalError(
      timedOut ? 'http_timeout' : 'http_failed',
      timedOut
        ? `${method} ${u.origin}${u.pathname}: no answer within ${timeoutMs} ms`
        : `${method} ${u.origin}${u.pathname}: ${(e.cause as Error)?.message ?? e.message}`,
      { cause: err },
    );
  }
}

export const httpRequestNode: NodeType = {
  type: 'httpRequest',
  displayName: 'HTTP request',
  description: 'Sends one HTTP request per item; outputs {statusCode, headers, body}.',
  group: 'action',
  inputs: 1,
  outputs: 1,
  sideEffects: (p) => !safeMethods.includes(String(p.method ?? 'GET').toUpperCase()),
  parameters: [
    {
      name: 'method',
      type: 'options',
      options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      default: 'GET',
      description: 'HTTP method.',
    },
    {
      name: 'url',
      type: 'string',
      required: true,
      perItem: true,
      description: 'URL (http or https).',
    },
    { name: 'headers', type: 'json', perItem: true, description: 'Object of request headers.' },
    { name: 'query', type: 'json', perItem: true, description: 'Object of query parameters.' },
    {
      name: 'body',
      type: 'json',
      perItem: true,
      description: 'Body: a string as is, anything else as JSON.',
    },
    { name: 'timeoutMs', type: 'number', default: 10_000, description: 'Per-request timeout.' },
    {
      name: 'maxResponseBytes',
      type: 'number',
      description: 'Response size cap. @default WARDEN_HTTP_NODE_MAX_BYTES',
    },
    {
      name: 'failOnStatus',
      type: 'boolean',
      default: true,
      description: 'Fail on a 4xx or 5xx answer.',
    },
    {
      name: 'verifyUrl',
      type: 'string',
      perItem: true,
      description:
        'After a crash mid-request: GET it; 2xx means the request took effect (its answer becomes the output), 404 that it did not (it is sent again).',
    },
  ],
  async run(ctx) {
    const method = String(ctx.node.parameters.method ?? 'GET').toUpperCase();
    const failOnStatus = ctx.node.parameters.failOnStatus !== false;
    const out: Item[] = [];
    for (let i = 0; i < Math.max(ctx.items.length, 1); i++) {
      const r = await request(ctx, i, 'url', method);
      const status = r.statusCode as number;
      if (failOnStatus && status >= 400)
        throw new OperationalError('http_status', `${method} answered ${status}`, {
          details: { statusCode: status, body: r.body },
        });
      out.push(r);
    }
    return { outputs: [out] };
  },
  async verify(ctx) {
    if (!ctx.node.parameters.verifyUrl) return { status: 'unknown', detail: 'no verifyUrl' };
    const out: Item[] = [];
    for (let i = 0; i < Math.max(ctx.items.length, 1); i++) {
      const r = await request(ctx, i, 'verifyUrl', 'GET');
      const status = r.statusCode as number;
      if (status === 404) return { status: 'not_done' };
      if (status < 200 || status >= 300)
        return { status: 'unknown', detail: `verifyUrl answered ${status}` };
      out.push(r);
    }
    return { status: 'done', result: { outputs: [out] } };
  },
};
