// Expression preview in the browser: the same template rules and bindings as
// the engine (src/engine/expressions.ts: "=expr", "{{ }}" templates, $json,
// $input, $node, $execution), evaluated with JSONata on the last run's data.
// JSONata is loaded only when a preview is first needed.
import { isExpression, isObject } from './model.ts';

type Part = { text: string } | { expr: string };

export function parseTemplate(value: string): Part[] {
  let rest = value;
  if (rest.startsWith('=')) {
    rest = rest.slice(1);
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

export type PreviewContext = {
  json: Record<string, unknown>;
  input: Record<string, unknown>[];
  nodes: Record<string, Record<string, unknown>[]>;
};

/** Every expression inside a parameter value, with where it sits. */
export function findExpressions(value: unknown, path = ''): { path: string; source: string }[] {
  if (isExpression(value)) return [{ path, source: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => findExpressions(v, `${path}[${i}]`));
  if (isObject(value))
    return Object.entries(value).flatMap(([k, v]) => findExpressions(v, path ? `${path}.${k}` : k));
  return [];
}

function message(err: unknown): string {
  const e = err as { message?: string; position?: number };
  return `${e.message ?? String(err)}${typeof e.position === 'number' ? ` (at ${e.position})` : ''}`;
}

/** The value an expression gives on the context, or the error the engine would report. */
export async function preview(
  source: string,
  ctx: PreviewContext,
): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const { default: jsonata } = await import('jsonata');
  try {
    const parts = parseTemplate(source);
    const node: Record<string, { json: unknown; items: unknown[] }> = {};
    for (const [name, items] of Object.entries(ctx.nodes)) node[name] = { json: items[0], items };
    const bindings = {
      json: ctx.json,
      input: ctx.input,
      node,
      execution: { id: 'preview', mode: 'manual' },
      env: {},
    };
    const values = await Promise.all(
      parts.map((p) => ('expr' in p ? jsonata(p.expr).evaluate(ctx.json, bindings) : p.text)),
    );
    if (parts.length === 1 && 'expr' in parts[0]!) {
      const v: unknown = values[0];
      return { ok: true, value: v === undefined ? null : JSON.parse(JSON.stringify(v)) };
    }
    const text = values
      .map((v: unknown) =>
        v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v),
      )
      .join('');
    return { ok: true, value: text };
  } catch (err) {
    return { ok: false, error: message(err) };
  }
}
