// The trigger nodes: webhook, schedule (cron) and manual. A trigger's output
// is the data the execution was started with (request, tick, given input).
import { CronExpressionParser } from 'cron-parser';

import type { NodeType } from '../engine/node-types.ts';

const emit: NodeType['run'] = async (ctx) => ({ outputs: [ctx.execution.triggerItems] });

export const webhookTrigger: NodeType = {
  type: 'webhook',
  displayName: 'Webhook',
  description:
    'Starts the workflow on GET or POST /webhook/<path>; the item is {method, headers, query, body}.',
  group: 'trigger',
  inputs: 0,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [
    {
      name: 'path',
      type: 'string',
      required: true,
      description: 'Path after /webhook/: letters, digits, -, _ and /.',
    },
    {
      name: 'method',
      type: 'options',
      options: ['POST', 'GET'],
      default: 'POST',
      description: 'HTTP method.',
    },
    {
      name: 'auth',
      type: 'options',
      options: ['none', 'headerToken', 'hmac'],
      default: 'none',
      description:
        'headerToken: the header must equal the credential; hmac: the header is hex HMAC-SHA256 of the raw body keyed by the credential (optionally "sha256=" prefixed).',
    },
    {
      name: 'credential',
      type: 'string',
      description: 'Name of the stored credential holding the token or HMAC key.',
    },
    {
      name: 'header',
      type: 'string',
      description:
        'Header carrying the token or signature. @default x-warden-token (headerToken), x-warden-signature (hmac)',
    },
  ],
  check(p) {
    const problems = [];
    if (typeof p.path === 'string' && !webhookPathPattern.test(p.path))
      problems.push({
        field: 'parameters.path',
        message: 'may hold letters, digits, -, _ and / between segments',
      });
    if (p.auth !== undefined && p.auth !== 'none' && typeof p.credential !== 'string')
      problems.push({
        field: 'parameters.credential',
        message: `is required with auth ${String(p.auth)}`,
      });
    return problems;
  },
  run: emit,
};

export const webhookPathPattern = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export const scheduleTrigger: NodeType = {
  type: 'schedule',
  displayName: 'Schedule',
  description:
    'Starts the workflow on a cron schedule (5 fields, or 6 with seconds); fires once per tick however many processes run.',
  group: 'trigger',
  inputs: 0,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [
    {
      name: 'cron',
      type: 'string',
      required: true,
      description: 'Cron expression, e.g. "*/5 * * * *".',
    },
    {
      name: 'timezone',
      type: 'string',
      default: 'UTC',
      description: 'IANA time zone of the expression.',
    },
  ],
  check(p) {
    if (typeof p.cron !== 'string') return [];
    try {
      nextTick(p.cron, typeof p.timezone === 'string' ? p.timezone : undefined, new Date());
      return [];
    } catch (err) {
      return [
        {
          field: 'parameters.cron',
          message: `not a valid cron expression: ${(err as Error).message}`,
        },
      ];
    }
  },
  run: emit,
};

/** The next tick strictly after `after`; throws on a bad expression. */
export function nextTick(cron: string, timezone: string | undefined, after: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: timezone || 'UTC' })
    .next()
    .toDate();
}

export const manualTrigger: NodeType = {
  type: 'manual',
  displayName: 'Manual trigger',
  description:
    'Starts the workflow from the API, the CLI or a sub-workflow call, with the given items.',
  group: 'trigger',
  inputs: 0,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [],
  run: emit,
};
