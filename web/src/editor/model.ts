// The editor's model: a workflow document (as the API stores it) turned into
// React Flow nodes and edges and back. The round trip keeps every field the
// document had (ids, positions, onError, retry, settings, connection order),
// so importing a workflow and exporting it gives the same JSON.
import type { Edge, Node } from '@xyflow/react';

export type ParamSpec = {
  name: string;
  type: 'string' | 'number' | 'boolean' | 'json' | 'options';
  description: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
  perItem?: boolean;
};

export type NodeTypeInfo = {
  type: string;
  displayName: string;
  description: string;
  group: 'trigger' | 'action' | 'flow';
  inputs: number;
  /** null: depends on parameters (switch). */
  outputs: number | null;
  parameters: ParamSpec[];
};

export type ConnectionTarget = { node: string; type?: 'main'; index?: number };

export type WorkflowNodeDoc = {
  id: string;
  name: string;
  type: string;
  parameters: Record<string, unknown>;
  position?: [number, number];
  [extra: string]: unknown;
};

export type WorkflowDoc = {
  name: string;
  nodes: WorkflowNodeDoc[];
  connections: Record<string, { main?: ConnectionTarget[][]; error?: ConnectionTarget[][] }>;
  settings: Record<string, unknown>;
  [extra: string]: unknown;
};

export type Problem = { node?: string; field: string; message: string };

export type Item = Record<string, unknown>;

/** What a canvas node carries; `doc` is the document node minus position. */
export type NodeData = {
  doc: WorkflowNodeDoc;
  /** Items pinned on the node's first output (the document's pinData), used by test runs. */
  pin?: Item[];
  /** Where toFlow put a node the document gave no position; exported without one until moved. */
  origin?: { x: number; y: number };
  /** How many output lists the document had for the node (trailing empty ones are kept). */
  lists?: { main?: number; error?: number };
  /** Set by the page: problems, run results. */
  problems?: number;
  run?: { status: string; items: number[] } | undefined;
  readOnly?: boolean;
};

export type FlowNode = Node<NodeData, 'warden'>;
export type EdgeData = { kind: 'main' | 'error'; typed: boolean };
export type FlowEdge = Edge<EdgeData>;

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Outputs of a node: switch has one per case plus the fallback. */
export function outputsOf(info: NodeTypeInfo | undefined, parameters: Record<string, unknown>) {
  if (!info) return 1;
  if (info.outputs !== null) return info.outputs;
  const cases = parameters.cases;
  return (Array.isArray(cases) ? cases.length : 0) + 1;
}

export function toFlow(doc: WorkflowDoc): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const idByName = new Map(doc.nodes.map((n) => [n.name, n.id || n.name]));
  const pins = isObject(doc.pinData) ? doc.pinData : {};
  const nodes: FlowNode[] = doc.nodes.map((n, i) => {
    const { position, ...rest } = n;
    const origin = { x: 260 * i, y: 0 };
    const pin = pins[n.name];
    const conn = doc.connections?.[n.name];
    const lists = conn
      ? {
          ...(conn.main ? { main: conn.main.length } : {}),
          ...(conn.error ? { error: conn.error.length } : {}),
        }
      : undefined;
    return {
      id: n.id || n.name,
      type: 'warden',
      position: position ? { x: position[0], y: position[1] } : origin,
      data: {
        doc: { ...rest, id: n.id || n.name },
        ...(position ? {} : { origin }),
        ...(Array.isArray(pin) ? { pin: pin as Item[] } : {}),
        ...(lists ? { lists } : {}),
      },
    };
  });
  const edges: FlowEdge[] = [];
  for (const [from, conn] of Object.entries(doc.connections ?? {})) {
    for (const kind of ['main', 'error'] as const) {
      conn[kind]?.forEach((targets, output) =>
        targets.forEach((t) => {
          const source = idByName.get(from);
          const target = idByName.get(t.node);
          if (!source || !target) return;
          const handle = kind === 'error' ? 'error' : `out-${output}`;
          edges.push({
            id: `${source}:${handle}->${target}:${t.index ?? 0}`,
            source,
            target,
            sourceHandle: handle,
            targetHandle: `in-${t.index ?? 0}`,
            data: { kind, typed: t.type !== undefined },
          });
        }),
      );
    }
  }
  return { nodes, edges };
}

export function toDoc(
  meta: { name: string; settings: Record<string, unknown>; extra?: Record<string, unknown> },
  nodes: FlowNode[],
  edges: FlowEdge[],
): WorkflowDoc {
  const nameById = new Map(nodes.map((n) => [n.id, n.data.doc.name]));
  const connections: WorkflowDoc['connections'] = {};
  for (const e of edges) {
    const from = nameById.get(e.source);
    const to = nameById.get(e.target);
    if (!from || !to) continue;
    const kind = e.data?.kind ?? 'main';
    const output = kind === 'error' ? 0 : Number((e.sourceHandle ?? 'out-0').slice(4));
    const index = Number((e.targetHandle ?? 'in-0').slice(3));
    const conn = (connections[from] ??= {});
    const lists = (conn[kind] ??= []);
    while (lists.length <= output) lists.push([]);
    lists[output]!.push(e.data?.typed ? { node: to, type: 'main', index } : { node: to, index });
  }
  // Output lists the document had and no edge uses now (an If with only its
  // true branch wired: "main": [[...], []]) come back as they were.
  for (const n of nodes) {
    const had = n.data.lists;
    if (!had) continue;
    for (const kind of ['main', 'error'] as const) {
      const want = had[kind];
      if (want === undefined) continue;
      const conn = (connections[n.data.doc.name] ??= {});
      const lists = (conn[kind] ??= []);
      while (lists.length < want) lists.push([]);
    }
  }
  const pinData: Record<string, Item[]> = {};
  for (const n of nodes) if (n.data.pin) pinData[n.data.doc.name] = n.data.pin;
  const extra = { ...meta.extra };
  delete extra.pinData;
  const unmoved = (n: FlowNode) =>
    n.data.origin && n.data.origin.x === n.position.x && n.data.origin.y === n.position.y;
  return {
    ...extra,
    name: meta.name,
    nodes: nodes.map((n) =>
      unmoved(n)
        ? { ...n.data.doc }
        : { ...n.data.doc, position: [Math.round(n.position.x), Math.round(n.position.y)] },
    ),
    connections,
    settings: meta.settings,
    ...(Object.keys(pinData).length ? { pinData } : {}),
  };
}

/** "Set", "Set 1", "Set 2"… whichever is free. */
export function uniqueName(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}

/**
 * A layered layout: each node's column is its longest distance from a
 * trigger, rows in order of appearance. Enough for workflows, which are
 * mostly left-to-right chains with a few branches, and no dependency.
 */
export function layout(nodes: FlowNode[], edges: FlowEdge[], gap = { x: 260, y: 130 }): FlowNode[] {
  const rank = new Map(nodes.map((n) => [n.id, 0]));
  // Longest path by relaxation; bounded by the node count so a cycle cannot spin.
  for (let pass = 0; pass < nodes.length; pass++) {
    let changed = false;
    for (const e of edges) {
      const r = (rank.get(e.source) ?? 0) + 1;
      if (rank.has(e.target) && r > rank.get(e.target)!) {
        rank.set(e.target, r);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const rows = new Map<number, number>();
  const columns = new Map<number, number>();
  for (const n of nodes) columns.set(rank.get(n.id)!, (columns.get(rank.get(n.id)!) ?? 0) + 1);
  const tallest = Math.max(1, ...columns.values());
  return nodes.map((n) => {
    const r = rank.get(n.id)!;
    const row = rows.get(r) ?? 0;
    rows.set(r, row + 1);
    const offset = ((tallest - columns.get(r)!) * gap.y) / 2;
    return { ...n, position: { x: r * gap.x, y: offset + row * gap.y } };
  });
}

/** Checks an imported document's shape enough to put it on the canvas. */
export function parseWorkflowJson(text: string): WorkflowDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new Error('a workflow is a JSON object with name, nodes, connections');
  if (!Array.isArray(doc.nodes)) throw new Error('"nodes" must be an array');
  doc.nodes.forEach((n, i) => {
    if (!isObject(n) || typeof n.name !== 'string' || typeof n.type !== 'string')
      throw new Error(`nodes[${i}] needs a name and a type`);
  });
  if (doc.connections !== undefined && !isObject(doc.connections))
    throw new Error('"connections" must be an object keyed by node name');
  return {
    ...doc,
    name: typeof doc.name === 'string' ? doc.name : 'Imported workflow',
    nodes: (doc.nodes as WorkflowNodeDoc[]).map((n) => ({
      ...n,
      id: typeof n.id === 'string' && n.id ? n.id : n.name,
      parameters: isObject(n.parameters) ? n.parameters : {},
    })),
    connections: (doc.connections ?? {}) as WorkflowDoc['connections'],
    settings: isObject(doc.settings) ? doc.settings : {},
  };
}

export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith('=') || value.includes('{{'));
}

/**
 * The auto-heal workflow opens read-only: it is how healing runs, shown, not
 * edited here. It is told by its healing steps (Remediate and the others); an
 * Incident trigger alone (a workflow that posts incidents to a chat) is
 * edited like any other.
 */
export function isAutoHeal(doc: { nodes: { type: string }[] }): boolean {
  return doc.nodes.some((n) => n.type.startsWith('warden.') && n.type !== 'warden.incidentTrigger');
}

export type Change = { kind: 'added' | 'removed' | 'changed'; what: string; detail?: string };

const connectionsOf = (doc: WorkflowDoc) =>
  Object.entries(doc.connections ?? {}).flatMap(([from, c]) =>
    (['main', 'error'] as const).flatMap((kind) =>
      (c[kind] ?? []).flatMap((targets, output) =>
        targets.map(
          (t) =>
            `${from} ${kind === 'error' ? 'error' : `output ${output}`} -> ${t.node} input ${t.index ?? 0}`,
        ),
      ),
    ),
  );

/**
 * What changed from one version to another, in words: nodes added, removed
 * or changed (each changed field named; a move alone is "moved"),
 * connections added or removed, the name and the settings.
 */
export function diffWorkflows(from: WorkflowDoc, to: WorkflowDoc): Change[] {
  const changes: Change[] = [];
  if (from.name !== to.name)
    changes.push({ kind: 'changed', what: 'name', detail: `${from.name} → ${to.name}` });
  if (JSON.stringify(from.settings ?? {}) !== JSON.stringify(to.settings ?? {}))
    changes.push({
      kind: 'changed',
      what: 'settings',
      detail: `${JSON.stringify(from.settings)} → ${JSON.stringify(to.settings)}`,
    });
  const pinsA = isObject(from.pinData) ? from.pinData : {};
  const pinsB = isObject(to.pinData) ? to.pinData : {};
  for (const n of new Set([...Object.keys(pinsA), ...Object.keys(pinsB)]))
    if (JSON.stringify(pinsA[n]) !== JSON.stringify(pinsB[n]))
      changes.push({
        kind: !(n in pinsA) ? 'added' : !(n in pinsB) ? 'removed' : 'changed',
        what: `pinned data of ${n}`,
      });
  const before = new Map(from.nodes.map((n) => [n.name, n]));
  const after = new Map(to.nodes.map((n) => [n.name, n]));
  for (const [name, n] of after) {
    const old = before.get(name);
    if (!old) {
      changes.push({ kind: 'added', what: `node ${name}`, detail: n.type });
      continue;
    }
    const fields = [...new Set([...Object.keys(old), ...Object.keys(n)])].filter(
      (k) => k !== 'position' && JSON.stringify(old[k]) !== JSON.stringify(n[k]),
    );
    const params = fields.includes('parameters')
      ? [...new Set([...Object.keys(old.parameters), ...Object.keys(n.parameters)])]
          .filter((k) => JSON.stringify(old.parameters[k]) !== JSON.stringify(n.parameters[k]))
          .map(
            (k) =>
              `${k}: ${JSON.stringify(old.parameters[k])} → ${JSON.stringify(n.parameters[k])}`,
          )
      : [];
    const other = fields.filter((k) => k !== 'parameters');
    if (params.length || other.length)
      changes.push({
        kind: 'changed',
        what: `node ${name}`,
        detail: [
          ...params,
          ...other.map((k) => `${k}: ${JSON.stringify(old[k])} → ${JSON.stringify(n[k])}`),
        ].join('; '),
      });
    else if (JSON.stringify(old.position) !== JSON.stringify(n.position))
      changes.push({ kind: 'changed', what: `node ${name}`, detail: 'moved' });
  }
  for (const [name, n] of before)
    if (!after.has(name)) changes.push({ kind: 'removed', what: `node ${name}`, detail: n.type });
  const ca = new Set(connectionsOf(from));
  const cb = new Set(connectionsOf(to));
  for (const c of cb) if (!ca.has(c)) changes.push({ kind: 'added', what: `connection ${c}` });
  for (const c of ca) if (!cb.has(c)) changes.push({ kind: 'removed', what: `connection ${c}` });
  return changes;
}
