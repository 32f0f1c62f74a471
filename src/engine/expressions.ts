// Parameter expressions: JSONata, never JavaScript. A string parameter that
// starts with "=" is one expression; one containing {{ }} is a template,
// with or without a leading "=" as in n8n (a lone {{ }} keeps the value's
// type, otherwise the parts are joined as text). Evaluation is bounded in time, recursion depth and sequence length.
import jsonata from 'jsonata';

import { UserError } from '../errors.ts';

export type Item = Record<string, unknown>;

export type ExpressionContext = {
  /** The current item ($json, and the root of a path such as `body.name`). */
  json: Item;
  /** Every item of the node's first input ($input). */
  input: Item[];
  /** Outputs of nodes that already ran, by node name ($node."Name".json / .items). */
  nodes: Record<string, Item[]>;
  execution: { id: string; startedAt: string; mode: string; workflowId: number };
  /** Only the allowlisted environment variables. */
  env: Record<string, string>;
};

const limits = { timeout: 1000, stack: 200, sequence: 100_000 };
const cache = new Map<string, jsonata.Expression>();
const cacheMax = 5000;

export class ExpressionError extends UserError {
  constructor(node: string, parameter: string, message: string) {
    super('expression_error', `node "${node}", parameter "${parameter}": ${message}`, {
      details: { node, parameter },
    });
  }
}

export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith('=') || value.includes('{{'));
}

type Part = { text: string } | { expr: string };

/** Splits a parameter string into literal text and expression sources. */
export function parseTemplate(value: string): Part[] {
  let rest = value;
  if (rest.startsWith('=')) {
    rest = rest.slice(1);
    // n8n's "={{ ... }}" is a template too; a plain "=..." is one expression.
    if (!rest.includes('{{')) return [{ expr: rest }];
  }
  const parts: Part[] = [];
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new Error('"{{" without a closing "}}"');
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    parts.push({ expr: rest.slice(open + 2, close) });
    rest = rest.slice(close + 2);
  }
  if (rest) parts.push({ text: rest });
  return parts;
}

function compile(source: string): jsonata.Expression {
  let expr = cache.get(source);
  if (!expr) {
    expr = jsonata(source, limits);
    if (cache.size >= cacheMax) cache.delete(cache.keys().next().value!);
    cache.set(source, expr);
  }
  return expr;
}

function jsonataMessage(err: unknown): string {
  const e = err as { message?: string; position?: number; code?: string };
  const where = typeof e.position === 'number' ? ` (at ${e.position})` : '';
  return `${e.message ?? String(err)}${where}`;
}

/** Checks every expression in a parameter value compiles; returns the problems. */
export function checkExpressions(value: unknown, path: string, problems: string[]): void {
  if (isExpression(value)) {
    try {
      for (const part of parseTemplate(value)) if ('expr' in part) compile(part.expr);
    } catch (err) {
      problems.push(`${path}: ${jsonataMessage(err)}`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkExpressions(v, `${path}[${i}]`, problems));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkExpressions(v, `${path}.${k}`, problems);
  }
}

function bindings(ctx: ExpressionContext) {
  const node: Record<string, { json: Item | undefined; items: Item[] }> = {};
  for (const [name, items] of Object.entries(ctx.nodes)) node[name] = { json: items[0], items };
  return {
    json: ctx.json,
    input: ctx.input,
    node,
    execution: ctx.execution,
    env: ctx.env,
  };
}

function stringify(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

async function evaluateString(value: string, ctx: ExpressionContext): Promise<unknown> {
  const parts = parseTemplate(value);
  const b = bindings(ctx);
  const values = await Promise.all(
    parts.map((p) => ('expr' in p ? compile(p.expr).evaluate(ctx.json, b) : p.text)),
  );
  if (parts.length === 1 && 'expr' in parts[0]!) return normalise(values[0]);
  return values.map(stringify).join('');
}

// JSONata sequences are arrays with extra flags; give nodes plain JSON.
function normalise(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

/** Evaluates a parameter value: expressions anywhere inside it are replaced by their values. */
export async function evaluateParameter(
  value: unknown,
  ctx: ExpressionContext,
  where: { node: string; parameter: string },
): Promise<unknown> {
  try {
    return await walk(value, ctx);
  } catch (err) {
    if (err instanceof ExpressionError) throw err;
    throw new ExpressionError(where.node, where.parameter, jsonataMessage(err));
  }
}

async function walk(value: unknown, ctx: ExpressionContext): Promise<unknown> {
  if (isExpression(value)) return evaluateString(value, ctx);
  if (Array.isArray(value)) return Promise.all(value.map((v) => walk(v, ctx)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await walk(v, ctx);
    return out;
  }
  return value;
}
