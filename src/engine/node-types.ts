// What a node type is: its parameters (a schema the API and the editor
// use), whether running it changes the world, and run(). The registry is the
// one list of types the validator and the executor know.
import type { OutboundPolicy } from '../nodes/outbound-policy.ts';
import type { Item } from './expressions.ts';
import type { WorkflowNode } from './workflow-model.ts';

export type ParamType = 'string' | 'number' | 'boolean' | 'json' | 'options';

export type ParamSpec = {
  name: string;
  type: ParamType;
  description: string;
  /** @default false */
  required?: boolean;
  default?: unknown;
  /** Allowed values of an `options` parameter. */
  options?: readonly string[];
  /** Evaluated once per input item ($json is that item); otherwise once per node. @default false */
  perItem?: boolean;
};

export type ExecutionInfo = {
  id: string;
  workflowId: number;
  workflowVersion: number;
  mode: string;
  startedAt: string;
  triggerNode: string;
  triggerItems: Item[];
  depth: number;
};

export type WebhookResponse = {
  status: number;
  headers: Record<string, string>;
  body: unknown;
};

/** What the engine lends a running node. */
export type NodeEnvironment = {
  /** Answers the webhook that started the execution (no-op for other triggers). */
  respond(executionId: string, response: WebhookResponse): void;
  /** Runs another workflow to its end and returns its last node's output. */
  runSubWorkflow(input: {
    parent: ExecutionInfo;
    parentNode: string;
    workflowId: number;
    items: Item[];
    signal: AbortSignal;
  }): Promise<Item[]>;
  httpMaxResponseBytes: number;
  /** Where the HTTP request node may connect (WARDEN_HTTP_ALLOW_HOSTS over the default refusals). */
  httpPolicy: OutboundPolicy;
};

export type NodeContext = {
  node: WorkflowNode;
  execution: ExecutionInfo;
  /** Items arriving on each input. */
  inputs: Item[][];
  /** Items of input 0. */
  items: Item[];
  /** A parameter's value with its expressions evaluated ($json = items[itemIndex]). */
  param<T = unknown>(name: string, itemIndex?: number): Promise<T>;
  signal: AbortSignal;
  env: NodeEnvironment;
};

export type NodeResult = {
  /** Items per output; null: nothing flows out of that output. */
  outputs: (Item[] | null)[];
  /** A durable wait: the execution sleeps in the database until then. */
  waitUntil?: Date;
};

export type VerifyResult =
  | { status: 'done'; result: NodeResult }
  | { status: 'not_done' }
  | { status: 'unknown'; detail: string };

export type NodeType = {
  type: string;
  displayName: string;
  description: string;
  group: 'trigger' | 'action' | 'flow';
  /** Number of inputs (triggers: 0). */
  inputs: number;
  /** Number of outputs; may depend on literal parameters (switch). */
  outputs: number | ((parameters: Record<string, unknown>) => number);
  parameters: readonly ParamSpec[];
  /** Whether running it changes something outside the execution; may depend on parameters. */
  sideEffects: boolean | ((parameters: Record<string, unknown>) => boolean);
  /**
   * Runs in memory and at once: no I/O, no waiting, no side effects, no
   * other execution. A workflow made only of instant nodes is run before it
   * is recorded, then written once (Engine.start). @default false
   */
  instant?: boolean;
  run(ctx: NodeContext): Promise<NodeResult>;
  /** Checks of literal parameters beyond their types, at save time: problems by field. */
  check?(parameters: Record<string, unknown>): { field: string; message: string }[];
  /**
   * After a crash while a side-effecting node ran: did it take effect? Without
   * verify (or when it answers unknown) the execution stops as needs_attention.
   */
  verify?(ctx: NodeContext): Promise<VerifyResult>;
};

export class NodeRegistry {
  private readonly types = new Map<string, NodeType>();

  register(type: NodeType): this {
    if (this.types.has(type.type)) throw new Error(`node type ${type.type} is registered twice`);
    this.types.set(type.type, type);
    return this;
  }

  get(type: string): NodeType | undefined {
    return this.types.get(type);
  }

  list(): NodeType[] {
    return [...this.types.values()];
  }
}

export function outputCount(type: NodeType, parameters: Record<string, unknown>): number {
  return typeof type.outputs === 'function' ? type.outputs(parameters) : type.outputs;
}

export function hasSideEffects(type: NodeType, parameters: Record<string, unknown>): boolean {
  return typeof type.sideEffects === 'function' ? type.sideEffects(parameters) : type.sideEffects;
}

/** The registry's public description, for GET /api/v1/node-types. */
export function describeNodeType(t: NodeType) {
  return {
    type: t.type,
    displayName: t.displayName,
    description: t.description,
    group: t.group,
    inputs: t.inputs,
    outputs: typeof t.outputs === 'number' ? t.outputs : null,
    sideEffects: typeof t.sideEffects === 'boolean' ? t.sideEffects : 'depends on parameters',
    verifiable: t.verify !== undefined,
    instant: t.instant === true,
    parameters: t.parameters.map((p) => ({ ...p })),
  };
}
