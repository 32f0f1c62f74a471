// Renaming a node: every reference to its old name in every node's
// parameters is rewritten, in each form the expressions use; connections
// (by node id on the canvas) and pins (on the node) follow by themselves.
import type { FlowNode } from './model.ts';
import { isExpression, isObject } from './model.ts';

const identifier = /^[A-Za-z_]\w*$/;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A node name as a JSONata string ("…" or '…') or a backtick name. */
function quoted(name: string, q: '"' | "'" | '`'): string {
  if (q === '`') return `\`${name}\``;
  return q + name.replace(/\\/g, '\\\\').split(q).join(`\\${q}`) + q;
}

/**
 * Rewrites the references to node `from` in one expression as references to
 * `to`: `$node."from"`, `$node.'from'`, `` $node.`from` ``, `$node.from`,
 * `$node["from"]` and `$lookup($node, "from")`, each keeping its form (a bare
 * name that no longer fits becomes a backtick one).
 */
export function renameInExpression(source: string, from: string, to: string): string {
  let out = source;
  const node = String.raw`\$node\s*`;
  for (const q of ['"', "'", '`'] as const) {
    if (q === '`' && from.includes('`')) continue;
    const old = escapeRe(quoted(from, q));
    const next = q === '`' && to.includes('`') ? quoted(to, '"') : quoted(to, q);
    const forms = [
      new RegExp(String.raw`(${node}\.\s*)${old}()`, 'g'),
      new RegExp(String.raw`(${node}\[\s*)${old}(\s*\])`, 'g'),
      new RegExp(String.raw`(\$lookup\(\s*${node},\s*)${old}(\s*\))`, 'g'),
    ];
    for (const re of forms) out = out.replace(re, (_m, a: string, b: string) => a + next + b);
  }
  if (identifier.test(from)) {
    const bare = identifier.test(to) ? to : quoted(to, to.includes('`') ? '"' : '`');
    out = out.replace(
      new RegExp(String.raw`(${node}\.\s*)${escapeRe(from)}(?![\w$])`, 'g'),
      (_m, a: string) => a + bare,
    );
  }
  return out;
}

function renameInValue(value: unknown, from: string, to: string): unknown {
  if (isExpression(value)) return renameInExpression(value, from, to);
  if (Array.isArray(value)) {
    const next = value.map((v) => renameInValue(v, from, to));
    return next.every((v, i) => v === value[i]) ? value : next;
  }
  if (isObject(value)) {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      next[k] = renameInValue(v, from, to);
      if (next[k] !== v) changed = true;
    }
    return changed ? next : value;
  }
  return value;
}

/**
 * Renames node `id` and rewrites every reference to its old name in every
 * node's parameters. Connections are by node id on the canvas and pinned
 * items ride on their node, so both follow by themselves. Nodes that do not
 * change are returned as they were.
 */
export function renameNode(nodes: FlowNode[], id: string, to: string): FlowNode[] {
  const from = nodes.find((n) => n.id === id)?.data.doc.name;
  if (from === undefined || from === to) return nodes;
  return nodes.map((n) => {
    const parameters = renameInValue(n.data.doc.parameters, from, to) as Record<string, unknown>;
    const name = n.id === id ? to : n.data.doc.name;
    if (parameters === n.data.doc.parameters && name === n.data.doc.name) return n;
    return { ...n, data: { ...n.data, doc: { ...n.data.doc, name, parameters } } };
  });
}
