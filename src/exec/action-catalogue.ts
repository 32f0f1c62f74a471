// The action catalogue: named actions with an argv template and typed
// parameters, stored in exec_actions. Values never change the shape of the
// argv: each fills one placeholder inside one argument, after passing its
// type (regex, enum, integer range, path under an allowed root, allowed
// unit, container name). Definitions come from the default catalogue and an
// optional actions.yaml that must not be writable by anyone but its owner,
// so nothing that runs through Warden can rewrite what Warden may run.
import { readFileSync, realpathSync, statSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import type { Db } from '../db/db.ts';
import { UserError } from '../errors.ts';
import { resolveOnFixedPath } from './command-policy.ts';
import { checks, isInterpreter, runners } from './program-rules.ts';

const paramSpec = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('regex'),
      pattern: z.string().min(1),
      maxLength: z.number().int().min(1).max(256).default(128),
    }),
    z.object({ type: z.literal('enum'), values: z.array(z.string().min(1)).min(1) }),
    z.object({ type: z.literal('integer'), min: z.number().int(), max: z.number().int() }),
    /** An existing file under one of `roots` (default: the configured log directories). */
    z.object({ type: z.literal('path'), roots: z.array(z.string().startsWith('/')).optional() }),
    /** One of the configured allowed units. */
    z.object({ type: z.literal('unit') }),
    z.object({ type: z.literal('container') }),
  ])
  .and(
    z.object({
      description: z.string().optional(),
      default: z.union([z.string(), z.number()]).optional(),
    }),
  );

export type ParamSpec = z.infer<typeof paramSpec>;

export const builtins = [
  'system.resources',
  'docker.list',
  'docker.logs',
  'docker.inspect',
  'docker.restart',
] as const;
export type Builtin = (typeof builtins)[number];

const probe = z.object({ argv: z.array(z.string().min(1)).min(1) });

export const actionSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'lower-case name of letters, digits, . _ -'),
    description: z.string().min(1).max(500),
    risk: z.enum(['read', 'change', 'dangerous']),
    argv: z.array(z.string().min(1)).min(1).max(32).optional(),
    builtin: z.enum(builtins).optional(),
    params: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), paramSpec).default({}),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    outputCapBytes: z.number().int().min(1024).max(10_485_760).optional(),
    /** Share the host's network in the sandbox. @default risk !== 'read' */
    network: z.boolean().optional(),
    /** Run after a change to tell whether it worked; exit 0 means yes. */
    verify: probe.optional(),
    /** What undoes the action: another catalogue action. */
    rollback: z.object({ action: z.string(), params: z.record(z.string()).default({}) }).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (!a.argv === !a.builtin)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of argv or builtin' });
    for (const t of [a.argv, a.verify?.argv]) {
      if (!t) continue;
      const program = t[0]!;
      if (!/^[A-Za-z0-9_.+-]+$/.test(program))
        ctx.addIssue({
          code: 'custom',
          message: `argv[0] must be a bare program name, got ${program}`,
        });
      if (isInterpreter(program) || runners.has(program))
        ctx.addIssue({
          code: 'custom',
          message: `argv[0] ${program} runs other programs and is refused`,
        });
      if (/\{/.test(program))
        ctx.addIssue({ code: 'custom', message: 'argv[0] may not be a parameter' });
      for (const arg of t)
        for (const m of arg.matchAll(/\{([^}]*)\}/g))
          if (!Object.hasOwn(a.params, m[1]!))
            ctx.addIssue({ code: 'custom', message: `placeholder {${m[1]}} has no parameter` });
    }
  });

export type ActionDefinition = z.infer<typeof actionSchema>;

export type CatalogueContext = {
  allowedUnits: readonly string[];
  allowedLogDirs: readonly string[];
};

export type RenderedAction = {
  action: ActionDefinition;
  values: Record<string, string>;
  /** Real paths of path parameters, for the sandbox to expose read-only. */
  paths: string[];
  /** Absent for builtins. */
  argv?: string[];
  executable?: string;
  verify?: { argv: string[]; executable: string };
};

export class ActionRefused extends UserError {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super('action_refused', message, { details: { rule } });
  }
}

function under(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** Checks one value against its type; returns the string that goes into the argv. */
export function checkParam(
  name: string,
  spec: ParamSpec,
  raw: unknown,
  ctx: CatalogueContext,
): string {
  const refuse = (rule: string, why: string) =>
    new ActionRefused(`param.${rule}`, `parameter ${name}: ${why}`);
  const value = raw === undefined ? spec.default : raw;
  if (value === undefined) throw refuse('missing', 'is required');
  if (typeof value !== 'string' && typeof value !== 'number')
    throw refuse('type', 'must be a string or number');
  const s = String(value);
  if (!/^[\x20-\x7e]*$/.test(s)) throw refuse('characters', 'only printable ASCII is accepted');
  if (s.length === 0 || s.length > 256) throw refuse('length', 'must be 1 to 256 characters');
  switch (spec.type) {
    case 'integer': {
      if (!/^-?\d{1,12}$/.test(s) || Number(s) < spec.min || Number(s) > spec.max)
        throw refuse('range', `must be an integer from ${spec.min} to ${spec.max}`);
      return String(Number(s));
    }
    case 'enum':
      if (!spec.values.includes(s))
        throw refuse('enum', `must be one of ${spec.values.join(', ')}`);
      return s;
    case 'unit':
      // A unit is also a unit name in shape, whatever the config lists: one
      // starting with "-" would be read as an option.
      if (!ctx.allowedUnits.includes(s) || !checks.unit.test(s))
        throw refuse('unit', `must be one of the allowed units (${ctx.allowedUnits.join(', ')})`);
      return s;
    case 'container':
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(s))
        throw refuse('container', 'must be a container name or id');
      return s;
    case 'regex': {
      if (s.startsWith('-')) throw refuse('leading_dash', 'may not start with "-"');
      if (s.length > spec.maxLength || !new RegExp(`^(?:${spec.pattern})$`).test(s))
        throw refuse('pattern', `must match ${spec.pattern}`);
      return s;
    }
    case 'path': {
      if (!s.startsWith('/') || s.split('/').includes('..'))
        throw refuse('path', 'must be an absolute path without ..');
      let real: string;
      try {
        real = realpathSync(s);
      } catch {
        throw refuse('path', 'does not exist');
      }
      const roots = (spec.roots ?? ctx.allowedLogDirs).map((r) => {
        try {
          return realpathSync(r);
        } catch {
          return r;
        }
      });
      if (!roots.some((r) => under(r, real)))
        throw refuse('path_root', `must be under ${roots.join(' or ')}`);
      if (!statSync(real).isFile()) throw refuse('path', 'must be a regular file');
      return real;
    }
  }
}

function fill(template: readonly string[], values: Record<string, string>): string[] {
  return template.map((arg) =>
    arg.replace(/\{([a-z0-9_]+)\}/g, (_, k: string) =>
      Object.hasOwn(values, k) ? values[k]! : '',
    ),
  );
}

export class ActionCatalogue {
  constructor(
    private readonly db: Db,
    private readonly ctx: CatalogueContext,
  ) {}

  /** Replaces the stored actions of one source with these definitions. */
  async sync(source: 'default' | 'file', actions: readonly ActionDefinition[]): Promise<void> {
    await this.db.withLock('warden:catalogue', () =>
      this.db.transaction(async (tx) => {
        await tx.query('DELETE FROM exec_actions WHERE source = $1', [source]);
        for (const a of actions) {
          await tx.query(
            `INSERT INTO exec_actions (name, definition, source) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, source = EXCLUDED.source, updated_at = now()`,
            [a.name, JSON.stringify(a), source],
          );
        }
      }),
    );
  }

  async list(): Promise<(ActionDefinition & { source: string })[]> {
    const { rows } = await this.db.query<{ definition: unknown; source: string }>(
      'SELECT definition, source FROM exec_actions ORDER BY name',
    );
    return rows.map((r) => ({ ...actionSchema.parse(r.definition), source: r.source }));
  }

  async get(name: string): Promise<ActionDefinition> {
    const { rows } = await this.db.query<{ definition: unknown }>(
      'SELECT definition FROM exec_actions WHERE name = $1',
      [typeof name === 'string' ? name : ''],
    );
    if (!rows[0])
      throw new ActionRefused(
        'action.unknown',
        `no action named ${JSON.stringify(String(name).slice(0, 80))}`,
      );
    return actionSchema.parse(rows[0].definition);
  }

  /** Validates params and builds the argv; throws ActionRefused naming the rule. */
  async render(name: string, params: Record<string, unknown> = {}): Promise<RenderedAction> {
    const action = await this.get(name);
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      throw new ActionRefused('param.type', 'parameters must be an object of name to value');
    for (const k of Object.keys(params))
      if (!Object.hasOwn(action.params, k))
        throw new ActionRefused('param.unknown', `action ${name} has no parameter ${k}`);
    const values: Record<string, string> = {};
    for (const [k, spec] of Object.entries(action.params))
      // Own properties only: `constructor` and friends are not parameters.
      values[k] = checkParam(k, spec, Object.hasOwn(params, k) ? params[k] : undefined, this.ctx);
    const paths = Object.entries(action.params)
      .filter(([, spec]) => spec.type === 'path')
      .map(([k]) => values[k]!);
    if (!action.argv) return { action, values, paths };
    const resolveProgram = (program: string) => {
      const executable = resolveOnFixedPath(program);
      if (!executable) throw new ActionRefused('program.not_found', `${program} is not installed`);
      return executable;
    };
    const argv = fill(action.argv, values);
    const rendered: RenderedAction = {
      action,
      values,
      paths,
      argv,
      executable: resolveProgram(argv[0]!),
    };
    if (action.verify) {
      const v = fill(action.verify.argv, values);
      rendered.verify = { argv: v, executable: resolveProgram(v[0]!) };
    }
    return rendered;
  }
}

/** Reads and validates an actions.yaml; refuses one that others could rewrite. */
export function loadActionsFile(path: string): ActionDefinition[] {
  const st = statSync(path);
  if ((st.mode & 0o022) !== 0)
    throw new UserError(
      'actions_file_writable',
      `${path} is writable by group or others; chmod go-w it`,
    );
  const doc = parseYaml(readFileSync(path, 'utf8')) as unknown;
  const list = z.object({ actions: z.array(z.unknown()) }).safeParse(doc);
  if (!list.success)
    throw new UserError('invalid_actions_file', `${path}: expected a top-level "actions:" list`);
  return list.data.actions.map((a, i) => {
    const parsed = actionSchema.safeParse(a);
    if (!parsed.success)
      throw new UserError(
        'invalid_actions_file',
        `${path}: action ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')} ${x.message}`).join('; ')}`,
      );
    return parsed.data;
  });
}

/**
 * An action as people read it (the API's `GET /api/v1/actions` and `warden
 * actions list`): what it does, its risk and parameters, verify and rollback.
 */
export function actionView(a: ActionDefinition & { source: string }) {
  return {
    name: a.name,
    description: a.description,
    risk: a.risk,
    params: a.params,
    ...(a.argv ? { argv: a.argv } : {}),
    ...(a.builtin ? { builtin: a.builtin } : {}),
    verify: a.verify ?? null,
    rollback: a.rollback ?? null,
    source: a.source,
  };
}
export type ActionView = ReturnType<typeof actionView>;
