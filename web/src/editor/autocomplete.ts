// Completions while typing an expression: the data paths the previous nodes
// produced (from the last run, or their pinned items), `$node."Name"`
// references to the nodes upstream, the engine's other bindings and the
// JSONata functions. Pure functions: the parameter panel shows them.
import type { Item } from './model.ts';
import { isObject } from './model.ts';

export type Completion = { label: string; detail: string };

export type CompletionContext = {
  /** The current item ($json): the first input item of the node. */
  json: Item;
  /** Items of the nodes that produced data, by name (last run or pinned). */
  nodes: Record<string, Item[]>;
  /** Names of the nodes upstream of the one being edited. */
  upstream: string[];
};

/** The JSONata functions offered; the engine evaluates JSONata, so all of them work. */
export const jsonataFunctions = [
  'string',
  'number',
  'boolean',
  'not',
  'exists',
  'count',
  'sum',
  'max',
  'min',
  'average',
  'round',
  'floor',
  'ceil',
  'abs',
  'length',
  'substring',
  'substringBefore',
  'substringAfter',
  'uppercase',
  'lowercase',
  'trim',
  'pad',
  'contains',
  'split',
  'join',
  'replace',
  'match',
  'keys',
  'lookup',
  'spread',
  'merge',
  'append',
  'sort',
  'reverse',
  'distinct',
  'map',
  'filter',
  'reduce',
  'each',
  'type',
  'now',
  'millis',
  'toMillis',
  'fromMillis',
] as const;

const identifier = /^[A-Za-z_]\w*$/;
const step = (k: string) => (identifier.test(k) ? k : `\`${k.replace(/`/g, '')}\``);

/** Field paths of an item, objects followed three levels deep. */
export function itemPaths(item: unknown, depth = 3, max = 200): string[] {
  const out: string[] = [];
  const walk = (v: unknown, prefix: string, left: number) => {
    if (!isObject(v) || left === 0) return;
    for (const [k, child] of Object.entries(v)) {
      if (out.length >= max) return;
      const p = prefix ? `${prefix}.${step(k)}` : step(k);
      out.push(p);
      walk(child, p, left - 1);
    }
  };
  walk(item, '', depth);
  return out;
}

/**
 * A reference to a node: `$node."Name"`, or `` $node.`Name` `` where a double
 * quote would need escaping (inside a JSON parameter's string values).
 */
export const nodeRef = (name: string, quote: '"' | '`' = '"') =>
  quote === '`' && !name.includes('`')
    ? `$node.\`${name}\``
    : `$node."${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Quotes compared alike, so `$node."Na` and `` $node.`Na `` find the same node. */
const loose = (s: string) => s.replace(/\\?"/g, '`').toLowerCase();

/** Whether the caret sits inside an expression: after a leading "=", or inside {{ }}. */
export function inExpression(before: string): boolean {
  const open = before.lastIndexOf('{{');
  if (open >= 0) return before.lastIndexOf('}}') < open;
  return before.startsWith('=');
}

// What is being typed: a $node reference (its quoted name may hold spaces),
// a path, or a lone "$".
const token = /(\$node\.(?:"(?:[^"\\]|\\.)*"?|`[^`]*`?)(?:\.[\w$`]*)*|\$?[A-Za-z_][\w$.`]*|\$)$/;

/**
 * The completions for the text before the caret: where the typed token
 * starts and what may replace it. Null outside an expression or when nothing
 * fits; `force` (Ctrl+Space) offers everything even before a token starts.
 */
export function completionsAt(
  text: string,
  caret: number,
  ctx: CompletionContext,
  options: { force?: boolean; max?: number; quote?: '"' | '`' } = {},
): { from: number; items: Completion[] } | null {
  const before = text.slice(0, caret);
  if (!inExpression(before)) return null;
  const typed = token.exec(before)?.[0] ?? '';
  if (!typed && !options.force) return null;
  const all: Completion[] = [];
  const jsonPaths = itemPaths(ctx.json);
  for (const p of jsonPaths) all.push({ label: `$json.${p}`, detail: 'this item' });
  for (const p of jsonPaths) all.push({ label: p, detail: 'this item' });
  const names = [...new Set([...ctx.upstream, ...Object.keys(ctx.nodes)])];
  for (const name of names) {
    const ref = nodeRef(name, options.quote);
    all.push({ label: `${ref}.json`, detail: `first item of ${name}` });
    all.push({ label: `${ref}.items`, detail: `every item of ${name}` });
    for (const p of itemPaths(ctx.nodes[name]?.[0]))
      all.push({ label: `${ref}.json.${p}`, detail: name });
  }
  all.push(
    { label: '$input', detail: 'every input item' },
    { label: '$execution.id', detail: 'execution' },
    { label: '$execution.mode', detail: 'execution' },
    { label: '$execution.startedAt', detail: 'execution' },
    { label: '$execution.workflowId', detail: 'execution' },
    { label: '$env.', detail: 'allowlisted environment' },
  );
  for (const f of jsonataFunctions) all.push({ label: `$${f}(`, detail: 'JSONata function' });
  const typedLoose = loose(typed);
  const seen = new Set<string>();
  const items = all.filter((c) => {
    if (seen.has(c.label) || c.label === typed) return false;
    seen.add(c.label);
    return loose(c.label).startsWith(typedLoose);
  });
  if (items.length === 0) return null;
  return { from: caret - typed.length, items: items.slice(0, options.max ?? 50) };
}
