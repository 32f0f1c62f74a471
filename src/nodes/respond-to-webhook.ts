// Respond to webhook: answers the HTTP request that started the execution
// with a status, headers and a body. The execution goes on afterwards.
import type { NodeType } from '../engine/node-types.ts';

export const respondToWebhookNode: NodeType = {
  type: 'respondToWebhook',
  displayName: 'Respond to webhook',
  description:
    'Answers the webhook caller; the workflow then goes on. Without one, webhooks answer 202 with the execution id.',
  group: 'action',
  inputs: 1,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [
    { name: 'statusCode', type: 'number', default: 200, description: 'HTTP status.' },
    { name: 'body', type: 'json', description: 'Body (JSON). @default the first input item' },
    { name: 'headers', type: 'json', description: 'Object of response headers.' },
  ],
  async run(ctx) {
    const status = (await ctx.param<number | undefined>('statusCode')) ?? 200;
    const body = (await ctx.param('body')) ?? ctx.items[0] ?? {};
    const headers = ((await ctx.param('headers')) ?? {}) as Record<string, unknown>;
    ctx.env.respond(ctx.execution.id, {
      status: Number.isInteger(status) && status >= 100 && status <= 599 ? status : 200,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
      body,
    });
    return { outputs: [ctx.items] };
  },
};
