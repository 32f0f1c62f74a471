// Webhook triggers, without HTTP framework types: find the active workflow
// for METHOD /webhook/<path>, check its auth (a header token or an HMAC of
// the raw body, both keyed by a stored credential), record the execution,
// then answer 202 with its id, or, when the workflow has a respond node,
// with that node's answer (504 when it does not come in time).
import { createHmac, timingSafeEqual } from 'node:crypto';

import { UserError } from '../errors.ts';
import type { CredentialStore } from '../secrets/credential-store.ts';
import { RefreshingCache } from './refreshing-cache.ts';
import type { Engine } from './engine.ts';
import type { Item } from './expressions.ts';
import type { ResponseWaiter } from './response-bus.ts';

export type WebhookRequest = {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  /** Parsed body (JSON when the content type says so, else text). */
  body: unknown;
  rawBody: Buffer;
};

export type WebhookAnswer = { status: number; headers: Record<string, string>; body: unknown };

const hiddenHeaders = new Set(['authorization', 'cookie']);

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class WebhookService {
  /**
   * Webhook secrets by credential name, loaded once per 5 s however many
   * requests arrive; never answered stale, so a rotated secret is in use
   * within 5 s.
   */
  private readonly secrets: RefreshingCache<string, string>;

  constructor(
    private readonly engine: Engine,
    private readonly credentials: CredentialStore,
    private readonly responseTimeoutMs: number,
  ) {
    this.secrets = new RefreshingCache((name) => this.credentials.get(name), {
      ttlMs: 5000,
      staleMs: 0,
    });
  }

  private secret(name: string): Promise<string> {
    return this.secrets.get(name);
  }

  private async authenticate(params: Record<string, unknown>, req: WebhookRequest) {
    const auth = String(params.auth ?? 'none');
    if (auth === 'none') return;
    const header = String(
      params.header ?? (auth === 'hmac' ? 'x-warden-signature' : 'x-warden-token'),
    ).toLowerCase();
    const sent = req.headers[header];
    if (typeof sent !== 'string' || sent === '')
      throw new UserError('unauthorized', `the ${header} header is required`, { status: 401 });
    const key = await this.secret(String(params.credential ?? ''));
    const expected =
      auth === 'hmac' ? createHmac('sha256', key).update(req.rawBody).digest('hex') : key;
    const given = auth === 'hmac' ? sent.replace(/^sha256=/, '').toLowerCase() : sent;
    if (!equal(given, expected))
      throw new UserError(
        'forbidden',
        auth === 'hmac' ? 'the signature does not match the body' : 'wrong webhook token',
        { status: 403 },
      );
  }

  async handle(req: WebhookRequest): Promise<WebhookAnswer> {
    const method = req.method.toUpperCase();
    const route = await this.engine.workflows.findWebhook(method, req.path);
    if (!route)
      throw new UserError(
        'webhook_not_found',
        `no active workflow answers ${method} /webhook/${req.path}`,
        { status: 404 },
      );
    const def = await this.engine.workflows.version(route.workflowId, route.version);
    const node = def.nodes.find((n) => n.name === route.nodeName)!;
    await this.authenticate(node.parameters, req);
    const headers: Record<string, string> = {};
    const secretHeader = String(node.parameters.header ?? '').toLowerCase();
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !hiddenHeaders.has(k) && k !== secretHeader && k !== 'x-warden-token')
        headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const item: Item = {
      method,
      path: req.path,
      headers,
      query: req.query,
      body: req.body ?? null,
    };
    const respondMode = def.nodes.some((n) => n.type === 'respondToWebhook');
    let waiter: ResponseWaiter | undefined;
    const { id, status } = await this.engine.startWithStatus({
      workflowId: route.workflowId,
      version: route.version,
      mode: 'webhook',
      triggerNode: node.name,
      items: [item],
      beforeEnqueue: (executionId) => {
        if (respondMode)
          waiter = this.engine.responses.waitFor(executionId, this.responseTimeoutMs);
      },
    });
    if (!waiter) return { status: 202, headers: {}, body: { executionId: id, status } };
    const answer = await waiter.promise;
    if (!answer)
      return {
        status: 504,
        headers: { 'x-warden-execution-id': id },
        body: {
          error: {
            code: 'respond_timeout',
            message: `the workflow did not respond within ${this.responseTimeoutMs} ms; execution ${id} goes on`,
          },
        },
      };
    return {
      status: answer.status,
      headers: { ...answer.headers, 'x-warden-execution-id': id },
      body: answer.body,
    };
  }
}
