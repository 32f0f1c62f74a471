// Correcting a remembered fix: the PATCH /api/v1/memory/:id body holds only
// what the person changed (title, root cause, fix, evidence lines, disabled),
// so an edit never rewrites fields nobody touched; an unchanged form sends
// nothing.

export type RememberedFix = {
  id: string;
  title: string;
  rootCause?: string;
  fix?: { action: string; parameters?: Record<string, unknown> } | null;
  evidence?: string[];
  disabled?: boolean;
};

export type MemoryForm = {
  title: string;
  rootCause: string;
  action: string;
  /** The parameters as JSON text, an object. */
  parameters: string;
  /** One line each. */
  evidence: string;
  disabled: boolean;
};

export type Correction = {
  title?: string;
  rootCause?: string;
  fix?: { action: string; parameters: Record<string, unknown> };
  evidenceLines?: string[];
  disabled?: boolean;
};

export function formOf(r: RememberedFix): MemoryForm {
  return {
    title: r.title,
    rootCause: r.rootCause ?? '',
    action: r.fix?.action ?? '',
    parameters: JSON.stringify(r.fix?.parameters ?? {}),
    evidence: (r.evidence ?? []).join('\n'),
    disabled: r.disabled ?? false,
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** The changed fields, nothing when nothing changed, or the first mistake in words. */
export function buildCorrection(
  original: RememberedFix,
  form: MemoryForm,
): { ok: true; body: Correction | null } | { ok: false; error: string } {
  const before = formOf(original);
  const body: Correction = {};
  const title = form.title.trim();
  if (title === '') return { ok: false, error: 'The title cannot be empty.' };
  if (title !== before.title) body.title = title;
  if (form.rootCause.trim() !== before.rootCause.trim()) body.rootCause = form.rootCause.trim();
  let parameters: unknown;
  try {
    parameters = JSON.parse(form.parameters.trim() || '{}');
  } catch {
    return { ok: false, error: 'The parameters must be a JSON object, like {"unit": "nginx"}.' };
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    return { ok: false, error: 'The parameters must be a JSON object, like {"unit": "nginx"}.' };
  const action = form.action.trim();
  const fixChanged =
    action !== before.action ||
    JSON.stringify(parameters) !== JSON.stringify(JSON.parse(before.parameters));
  if (fixChanged) {
    if (action === '') return { ok: false, error: 'Choose the fix action.' };
    body.fix = { action, parameters: parameters as Record<string, unknown> };
  }
  const evidence = lines(form.evidence);
  if (evidence.length > 50) return { ok: false, error: 'At most 50 evidence lines.' };
  if (JSON.stringify(evidence) !== JSON.stringify(lines(before.evidence)))
    body.evidenceLines = evidence;
  if (form.disabled !== before.disabled) body.disabled = form.disabled;
  return { ok: true, body: Object.keys(body).length === 0 ? null : body };
}
