// The workflow document: nodes, connections keyed by source node name (as
// n8n's are) and settings. validateWorkflow returns a typed definition or
// throws one UserError listing every problem, each naming node and field.
import { UserError } from '../errors.ts';
import type { Item } from './expressions.ts';
import { checkExpressions, isExpression } from './expressions.ts';
import type { NodeRegistry } from './node-types.ts';
import { outputCount } from './node-types.ts';

export type OnError = 'stop' | 'continue' | 'errorBranch';

export type RetryPolicy = {
  /** Tries in all, the first included. */
  maxTries: number;
  /** Wait before the second try. */
  waitMs: number;
  /** @default 'exponential' */
  backoff?: 'fixed' | 'exponential';
};

export type WorkflowNode = {
  id: string;
  name: string;
  type: string;
  parameters: Record<string, unknown>;
  position?: [number, number];
  /** @default 'stop' */
  onError?: OnError;
  retry?: RetryPolicy;
};

export type ConnectionTarget = { node: string; type?: 'main'; index?: number };

/** Per source node: targets of each regular output, and of the error output. */
export type NodeConnections = { main?: ConnectionTarget[][]; error?: ConnectionTarget[][] };

export type WorkflowSettings = {
  /** Execution timeout; unset: the engine's default. */
  timeoutMs?: number;
  /** Workflow started (with the failed execution's summary) when an execution fails. */
  errorWorkflowId?: number;
};

/**
 * Items pinned on a node's first output, by node name. Only test runs from
 * the editor use them (in place of running the node); webhook, schedule,
 * manual and every other production execution ignore them.
 */
export type PinData = Record<string, Item[]>;

export type WorkflowDefinition = {
  name: string;
  nodes: WorkflowNode[];
  connections: Record<string, NodeConnections>;
  settings: WorkflowSettings;
  /** Absent when nothing is pinned. */
  pinData?: PinData;
};

/** The most pinned data a workflow may carry, as JSON. */
export const pinDataMaxBytes = 1024 * 1024;

export type Edge = { from: string; output: number | 'error'; to: string; input: number };

export type Problem = { node?: string; field: string; message: string };

export class WorkflowInvalidError extends UserError {
  constructor(readonly problems: Problem[]) {
    super(
      'invalid_workflow',
      `Invalid workflow:\n  ${problems
        .map((p) => `${p.node ? `node "${p.node}", ` : ''}${p.field}: ${p.message}`)
        .join('\n  ')}`,
      { details: { problems } },
    );
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function edgesOf(def: Pick<WorkflowDefinition, 'connections'>): Edge[] {
  const edges: Edge[] = [];
  for (const [from, conn] of Object.entries(def.connections)) {
    conn.main?.forEach((targets, output) =>
      targets?.forEach((t) => edges.push({ from, output, to: t.node, input: t.index ?? 0 })),
    );
    conn.error?.forEach((targets) =>
      targets?.forEach((t) =>
        edges.push({ from, output: 'error', to: t.node, input: t.index ?? 0 }),
      ),
    );
  }
  return edges;
}

/** Names of nodes in an order where every node follows all its parents; null on a cycle. */
export function topologicalOrder(names: string[], edges: Edge[]): string[] | null {
  const indegree = new Map(names.map((n) => [n, 0]));
  const children = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const e of edges) {
    if (!indegree.has(e.to) || !children.has(e.from)) continue;
    indegree.set(e.to, indegree.get(e.to)! + 1);
    children.get(e.from)!.push(e.to);
  }
  const ready = names.filter((n) => indegree.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    for (const c of children.get(n)!) {
      indegree.set(c, indegree.get(c)! - 1);
      if (indegree.get(c) === 0) ready.push(c);
    }
  }
  return order.length === names.length ? order : null;
}

function findCycle(names: string[], edges: Edge[]): string[] {
  const children = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const e of edges) children.get(e.from)?.push(e.to);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const c of children.get(n) ?? []) {
      if (state.get(c) === 1) return [...stack.slice(stack.indexOf(c)), c];
      if (!state.has(c)) {
        const found = visit(c);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of names) if (!state.has(n)) return visit(n) ?? [];
  return [];
}

function checkRetry(node: string, retry: unknown, problems: Problem[]) {
  if (!isObject(retry))
    return problems.push({ node, field: 'retry', message: 'must be an object' });
  const { maxTries, waitMs, backoff } = retry;
  if (!Number.isInteger(maxTries) || (maxTries as number) < 1 || (maxTries as number) > 10)
    problems.push({ node, field: 'retry.maxTries', message: 'must be an integer from 1 to 10' });
  if (!Number.isInteger(waitMs) || (waitMs as number) < 0 || (waitMs as number) > 300_000)
    problems.push({ node, field: 'retry.waitMs', message: 'must be 0 to 300000 ms' });
  if (backoff !== undefined && backoff !== 'fixed' && backoff !== 'exponential')
    problems.push({ node, field: 'retry.backoff', message: 'must be fixed or exponential' });
}

function checkParameter(
  node: string,
  spec: { name: string; type: string; options?: readonly string[] },
  value: unknown,
  problems: Problem[],
) {
  const field = `parameters.${spec.name}`;
  if (isExpression(value)) return; // typed at run time
  const ok =
    spec.type === 'json' ||
    (spec.type === 'string' && typeof value === 'string') ||
    (spec.type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
    (spec.type === 'boolean' && typeof value === 'boolean') ||
    (spec.type === 'options' && typeof value === 'string' && spec.options!.includes(value));
  if (!ok)
    problems.push({
      node,
      field,
      message:
        spec.type === 'options'
          ? `must be one of ${spec.options!.join(', ')}; got ${JSON.stringify(value)}`
          : `must be a ${spec.type}; got ${JSON.stringify(value)}`,
    });
}

/** Checks a workflow document against the registry; throws WorkflowInvalidError. */
export function validateWorkflow(doc: unknown, registry: NodeRegistry): WorkflowDefinition {
  const problems: Problem[] = [];
  if (!isObject(doc))
    throw new WorkflowInvalidError([{ field: '$', message: 'must be an object' }]);
  if (typeof doc.name !== 'string' || doc.name.trim() === '' || doc.name.length > 200)
    problems.push({
      field: 'name',
      message: 'must be a non-empty string of at most 200 characters',
    });
  if (!Array.isArray(doc.nodes) || doc.nodes.length === 0)
    problems.push({ field: 'nodes', message: 'must be a non-empty array' });
  const nodes = (Array.isArray(doc.nodes) ? doc.nodes : []) as unknown[];
  const byName = new Map<string, WorkflowNode>();
  const ids = new Set<string>();
  nodes.forEach((raw, i) => {
    if (!isObject(raw))
      return problems.push({ field: `nodes[${i}]`, message: 'must be an object' });
    const name = typeof raw.name === 'string' && raw.name.trim() !== '' ? raw.name : undefined;
    if (!name)
      return problems.push({ field: `nodes[${i}].name`, message: 'must be a non-empty string' });
    if (byName.has(name))
      problems.push({ node: name, field: 'name', message: 'is used by two nodes' });
    const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : name;
    if (ids.has(id))
      problems.push({ node: name, field: 'id', message: `"${id}" is used by two nodes` });
    ids.add(id);
    const parameters = raw.parameters === undefined ? {} : raw.parameters;
    if (!isObject(parameters))
      problems.push({ node: name, field: 'parameters', message: 'must be an object' });
    const type = typeof raw.type === 'string' ? registry.get(raw.type) : undefined;
    if (!type)
      problems.push({
        node: name,
        field: 'type',
        message: `unknown node type ${JSON.stringify(raw.type)}`,
      });
    const onError = raw.onError ?? 'stop';
    if (!['stop', 'continue', 'errorBranch'].includes(onError as string))
      problems.push({
        node: name,
        field: 'onError',
        message: 'must be stop, continue or errorBranch',
      });
    if (raw.retry !== undefined) checkRetry(name, raw.retry, problems);
    if (
      raw.position !== undefined &&
      !(
        Array.isArray(raw.position) &&
        raw.position.length === 2 &&
        raw.position.every((n) => typeof n === 'number')
      )
    )
      problems.push({ node: name, field: 'position', message: 'must be [x, y]' });
    if (type && isObject(parameters)) {
      for (const spec of type.parameters) {
        const value = parameters[spec.name];
        if (value === undefined || value === null || value === '') {
          if (spec.required)
            problems.push({ node: name, field: `parameters.${spec.name}`, message: 'is required' });
          continue;
        }
        checkParameter(name, spec, value, problems);
      }
      for (const key of Object.keys(parameters))
        if (!type.parameters.some((p) => p.name === key))
          problems.push({
            node: name,
            field: `parameters.${key}`,
            message: `is not a parameter of ${type.type}`,
          });
      for (const p of type.check?.(parameters) ?? []) problems.push({ node: name, ...p });
      const exprProblems: string[] = [];
      checkExpressions(parameters, 'parameters', exprProblems);
      for (const p of exprProblems) {
        const [field, ...rest] = p.split(': ');
        problems.push({
          node: name,
          field: field!,
          message: `expression error: ${rest.join(': ')}`,
        });
      }
    }
    byName.set(name, {
      id,
      name,
      type: String(raw.type),
      parameters: isObject(parameters) ? parameters : {},
      ...(raw.position ? { position: raw.position as [number, number] } : {}),
      onError: onError as OnError,
      ...(raw.retry ? { retry: raw.retry as RetryPolicy } : {}),
    });
  });

  const connections = (doc.connections ?? {}) as unknown;
  if (!isObject(connections))
    problems.push({ field: 'connections', message: 'must be an object keyed by node name' });
  const conns: Record<string, NodeConnections> = {};
  for (const [from, raw] of Object.entries(isObject(connections) ? connections : {})) {
    const source = byName.get(from);
    if (!source) {
      problems.push({ field: `connections.${from}`, message: `no node is named "${from}"` });
      continue;
    }
    if (!isObject(raw)) {
      problems.push({
        node: from,
        field: `connections.${from}`,
        message: 'must be an object with main/error',
      });
      continue;
    }
    const type = registry.get(source.type);
    const outs = type ? outputCount(type, source.parameters) : Infinity;
    const clean: NodeConnections = {};
    for (const kind of ['main', 'error'] as const) {
      const lists = raw[kind];
      if (lists === undefined) continue;
      if (!Array.isArray(lists)) {
        problems.push({
          node: from,
          field: `connections.${from}.${kind}`,
          message: 'must be an array of arrays',
        });
        continue;
      }
      if (kind === 'main' && lists.length > outs)
        problems.push({
          node: from,
          field: `connections.${from}.main`,
          message: `has ${lists.length} outputs; ${source.type} has ${outs}`,
        });
      if (
        kind === 'error' &&
        source.onError !== 'errorBranch' &&
        lists.some((l) => Array.isArray(l) && l.length > 0)
      )
        problems.push({
          node: from,
          field: `connections.${from}.error`,
          message: 'needs onError "errorBranch"',
        });
      clean[kind] = lists.map((targets, o) => {
        if (!Array.isArray(targets)) {
          problems.push({
            node: from,
            field: `connections.${from}.${kind}[${o}]`,
            message: 'must be an array',
          });
          return [];
        }
        return targets.flatMap((t, j) => {
          const field = `connections.${from}.${kind}[${o}][${j}]`;
          if (!isObject(t) || typeof t.node !== 'string') {
            problems.push({ node: from, field, message: 'must be {node, index}' });
            return [];
          }
          const target = byName.get(t.node);
          if (!target) {
            problems.push({
              node: from,
              field,
              message: `dangling connection to unknown node "${t.node}"`,
            });
            return [];
          }
          const ttype = registry.get(target.type);
          const index = t.index ?? 0;
          if (
            ttype &&
            (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= ttype.inputs)
          )
            problems.push({
              node: from,
              field,
              message: `"${t.node}" has ${ttype.inputs} input(s); index ${JSON.stringify(index)} does not exist`,
            });
          return [{ node: t.node, type: 'main' as const, index: index as number }];
        });
      });
    }
    conns[from] = clean;
  }

  const settings = (doc.settings ?? {}) as unknown;
  if (!isObject(settings)) problems.push({ field: 'settings', message: 'must be an object' });
  else {
    if (
      settings.timeoutMs !== undefined &&
      (!Number.isInteger(settings.timeoutMs) || (settings.timeoutMs as number) < 0)
    )
      problems.push({ field: 'settings.timeoutMs', message: 'must be a non-negative integer' });
    if (settings.errorWorkflowId !== undefined && !Number.isInteger(settings.errorWorkflowId))
      problems.push({ field: 'settings.errorWorkflowId', message: 'must be a workflow id' });
  }

  const pinData = checkPinData(doc.pinData, byName, problems);

  const names = [...byName.keys()];
  const edges = edgesOf({ connections: conns });
  if (problems.length === 0 && topologicalOrder(names, edges) === null) {
    const cycle = findCycle(names, edges);
    problems.push({
      node: cycle[0],
      field: 'connections',
      message: `cycle: ${cycle.join(' -> ')}`,
    });
  }
  if (
    problems.length === 0 &&
    ![...byName.values()].some((n) => registry.get(n.type)?.group === 'trigger')
  )
    problems.push({ field: 'nodes', message: 'needs at least one trigger node' });
  if (problems.length > 0) throw new WorkflowInvalidError(problems);
  return {
    name: (doc.name as string).trim(),
    nodes: [...byName.values()],
    connections: conns,
    settings: settings as WorkflowSettings,
    ...(pinData ? { pinData } : {}),
  };
}

/** Pinned items: an object keyed by node name, each a list of JSON objects; undefined when empty. */
function checkPinData(
  raw: unknown,
  nodes: Map<string, WorkflowNode>,
  problems: Problem[],
): PinData | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    problems.push({ field: 'pinData', message: 'must be an object keyed by node name' });
    return undefined;
  }
  const out: PinData = {};
  for (const [name, items] of Object.entries(raw)) {
    if (!nodes.has(name)) {
      problems.push({ field: `pinData.${name}`, message: `no node is named "${name}"` });
      continue;
    }
    if (!Array.isArray(items) || !items.every(isObject)) {
      problems.push({
        node: name,
        field: `pinData.${name}`,
        message: 'must be a list of items (JSON objects)',
      });
      continue;
    }
    out[name] = items;
  }
  const bytes = Buffer.byteLength(JSON.stringify(out));
  if (bytes > pinDataMaxBytes)
    problems.push({
      field: 'pinData',
      message: `is ${bytes} bytes of JSON; at most ${pinDataMaxBytes} may be pinned`,
    });
  return Object.keys(out).length > 0 ? out : undefined;
}
