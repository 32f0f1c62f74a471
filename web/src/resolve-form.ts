// The resolve-by-hand form's rules, kept out of React so they can be tested
// alone: which fields an action's typed parameters need, and turning what a
// person typed into the body of POST /api/v1/incidents/:id/resolve (root
// cause, fix action with its parameters, evidence lines), with the first
// mistake named in words before anything is sent.

/** One parameter of a catalogue action, as GET /api/v1/actions gives it. */
export type ParamSpec =
  | {
      type: 'regex';
      pattern: string;
      maxLength?: number;
      description?: string;
      default?: string | number;
    }
  | { type: 'enum'; values: string[]; description?: string; default?: string | number }
  | { type: 'integer'; min: number; max: number; description?: string; default?: string | number }
  | { type: 'path' | 'unit' | 'container'; description?: string; default?: string | number };

export type CatalogueAction = {
  name: string;
  description: string;
  risk: 'read' | 'change' | 'dangerous';
  params: Record<string, ParamSpec>;
  argv?: string[];
  builtin?: string;
  verify: { argv: string[] } | null;
  rollback: { action: string; params: Record<string, string> } | null;
  source: string;
};

export type ResolveInput = {
  action: CatalogueAction | undefined;
  /** The text typed in each parameter's field, by parameter name. */
  values: Record<string, string>;
  rootCause: string;
  /** One piece of evidence a line. */
  evidence: string;
};

export type ResolveBody = {
  action: string;
  parameters: Record<string, string | number>;
  rootCause: string;
  evidence?: string[];
};

/** The body to send, or the first thing that is wrong with the form. */
export function buildResolveBody(
  input: ResolveInput,
): { ok: true; body: ResolveBody } | { ok: false; error: string } {
  const rootCause = input.rootCause.trim();
  if (!input.action) return { ok: false, error: 'Choose the action that fixed it.' };
  if (rootCause === '') return { ok: false, error: 'Write the root cause.' };
  if (rootCause.length > 2000)
    return { ok: false, error: 'The root cause is over 2000 characters.' };
  const parameters: Record<string, string | number> = {};
  for (const [name, spec] of Object.entries(input.action.params)) {
    const raw = (input.values[name] ?? '').trim();
    if (raw === '') {
      if (spec.default !== undefined) continue;
      return { ok: false, error: `Give a value for ${name}.` };
    }
    if (spec.type === 'integer') {
      if (!/^-?\d+$/.test(raw)) return { ok: false, error: `${name} must be a whole number.` };
      const n = Number(raw);
      if (n < spec.min || n > spec.max)
        return { ok: false, error: `${name} must be between ${spec.min} and ${spec.max}.` };
      parameters[name] = n;
      continue;
    }
    if (spec.type === 'enum' && !spec.values.includes(raw))
      return { ok: false, error: `${name} must be one of ${spec.values.join(', ')}.` };
    if (spec.type === 'regex') {
      if (raw.length > (spec.maxLength ?? 128))
        return { ok: false, error: `${name} is longer than ${spec.maxLength ?? 128} characters.` };
      // The catalogue anchors the pattern the same way when it checks.
      let re: RegExp | null = null;
      try {
        re = new RegExp(`^(?:${spec.pattern})$`);
      } catch {
        // A pattern this browser cannot compile is left to the server to check.
      }
      if (re && !re.test(raw))
        return { ok: false, error: `${name} does not match ${spec.pattern}.` };
    }
    parameters[name] = raw;
  }
  const evidence = input.evidence
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (evidence.length > 50) return { ok: false, error: 'At most 50 evidence lines.' };
  if (evidence.some((l) => l.length > 1000))
    return { ok: false, error: 'An evidence line is over 1000 characters.' };
  return {
    ok: true,
    body: {
      action: input.action.name,
      parameters,
      rootCause,
      ...(evidence.length > 0 ? { evidence } : {}),
    },
  };
}
