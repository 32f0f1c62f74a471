import { describe, expect, it } from 'vitest';

import type { ExpressionContext } from './expressions.ts';
import { evaluateParameter, ExpressionError, parseTemplate } from './expressions.ts';

const ctx: ExpressionContext = {
  json: { body: { name: 'web-1', load: 7 } },
  input: [{ body: { name: 'web-1', load: 7 } }],
  nodes: { 'Get status': [{ statusCode: 503 }] },
  execution: { id: 'e-1', startedAt: '2026-01-01T00:00:00.000Z', mode: 'webhook', workflowId: 3 },
  env: { REGION: 'eu' },
};
const where = { node: 'N', parameter: 'p' };
const ev = (v: unknown) => evaluateParameter(v, ctx, where);

describe('expressions', () => {
  it('evaluates "=" expressions with their type', async () => {
    expect(await ev('=body.load * 2')).toBe(14);
    expect(await ev('=$json.body.name')).toBe('web-1');
  });

  it('keeps the type of a lone {{ }} and joins templates as text', async () => {
    expect(await ev('={{ body.load > 5 }}')).toBe(true);
    expect(await ev('host {{ body.name }} load {{ body.load }}')).toBe('host web-1 load 7');
  });

  it('reads named node outputs, the execution and allowlisted env', async () => {
    expect(await ev('={{ $node.`Get status`.json.statusCode }}')).toBe(503);
    expect(await ev('={{ $execution.id & "/" & $execution.mode }}')).toBe('e-1/webhook');
    expect(await ev('={{ $env.REGION }}')).toBe('eu');
    expect(await ev('={{ $env.HOME }}')).toBeNull();
  });

  it('evaluates expressions nested in objects and leaves literals alone', async () => {
    expect(await ev({ a: '={{ body.name }}', b: [1, '=1+1'], c: 'plain' })).toEqual({
      a: 'web-1',
      b: [1, 2],
      c: 'plain',
    });
  });

  it('names the node and parameter of a failing expression', async () => {
    const err = await ev('={{ $number("x") }}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as Error).message).toMatch(/^node "N", parameter "p": /);
  });

  it('stops an endless expression instead of hanging', async () => {
    const err = await ev('=( $f := function($n) { $f($n + 1) }; $f(0) )').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionError);
  });

  it('rejects an unclosed template', () => {
    expect(() => parseTemplate('a {{ b')).toThrow('without a closing');
  });
});
