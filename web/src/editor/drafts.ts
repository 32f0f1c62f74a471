// Unsaved edits survive a closed tab, a crash or a click elsewhere in the
// console: the canvas is written to localStorage while it differs from the
// saved version, and offered back when the workflow is opened again. A
// draft remembers the version it was based on, so restoring it onto a
// workflow someone saved since still ends in the conflict warning.
import type { WorkflowDoc } from './model.ts';

export type Draft = { savedAt: string; baseVersion: number | null; doc: WorkflowDoc };

const prefix = 'warden.editor.draft.';

export function readDraft(key: string): Draft | null {
  try {
    const raw = window.localStorage.getItem(prefix + key);
    if (!raw) return null;
    const d = JSON.parse(raw) as Partial<Draft>;
    if (!d.doc || !Array.isArray(d.doc.nodes) || typeof d.savedAt !== 'string') return null;
    return { savedAt: d.savedAt, baseVersion: d.baseVersion ?? null, doc: d.doc };
  } catch {
    return null; // Storage refused or the entry is not ours: no draft.
  }
}

export function writeDraft(key: string, draft: Draft): void {
  try {
    window.localStorage.setItem(prefix + key, JSON.stringify(draft));
  } catch {
    // Full or disabled storage: the draft is a convenience, saving still works.
  }
}

export function clearDraft(key: string): void {
  try {
    window.localStorage.removeItem(prefix + key);
  } catch {
    // As above.
  }
}
