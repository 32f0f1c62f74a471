// The gallery of example workflows (the project's examples/ folder, served
// by GET /api/v1/workflow-examples): each with what it does, opened on a new
// canvas in one click. Nothing is saved until the person saves.
import { useQuery } from '@tanstack/react-query';

import { listAll } from '../api.ts';
import { ErrorLine } from '../ui.tsx';
import type { WorkflowDoc } from './model.ts';
import { parseWorkflowJson } from './model.ts';

type Example = { file: string; name: string; description: string; definition: unknown };

let pending: { doc: WorkflowDoc; name: string } | null = null;

/** Hands an example to the next new canvas (the editor at /workflows/new). */
export function setPendingExample(doc: WorkflowDoc, name: string): void {
  pending = { doc, name };
}

/** The example a new canvas was opened with, if any (kept for this turn of the event loop). */
export function takePendingExample(): { doc: WorkflowDoc; name: string } | null {
  const taken = pending;
  // Cleared after this turn, so a second run of the same effect still sees it.
  window.setTimeout(() => {
    if (pending === taken) pending = null;
  }, 0);
  return taken;
}

export function GalleryDialog(props: {
  onClose(): void;
  onOpen(doc: WorkflowDoc, name: string): void;
}) {
  const q = useQuery({
    queryKey: ['workflow-examples'],
    queryFn: async () => ({
      examples: await listAll<Example>('/api/v1/workflow-examples', 'examples'),
    }),
  });
  return (
    <div className="wf-dialog" role="dialog" aria-modal="true" aria-labelledby="wf-gallery-title">
      <h2 id="wf-gallery-title">Examples</h2>
      <p className="wf-muted">
        Each opens as a new workflow on the canvas, as it is in the examples folder; saving keeps
        it.
      </p>
      {q.error ? <ErrorLine error={q.error} /> : null}
      {q.data ? (
        <ul className="wf-gallery" aria-label="Example workflows">
          {q.data.examples.map((e) => {
            const nodes = (e.definition as { nodes?: unknown[] }).nodes?.length ?? 0;
            return (
              <li key={e.file}>
                <h3>{e.name}</h3>
                <p>
                  {/* The README's line: `code` spans become code, the rest stays text. */}
                  {e.description
                    .split('`')
                    .map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}
                </p>
                <p className="wf-muted">
                  {nodes} nodes · <code>{e.file}</code>
                </p>
                <button
                  type="button"
                  aria-label={`Open as a new workflow: ${e.name}`}
                  onClick={() =>
                    props.onOpen(parseWorkflowJson(JSON.stringify(e.definition)), e.name)
                  }
                >
                  Open as a new workflow
                </button>
              </li>
            );
          })}
        </ul>
      ) : (
        <p role="status">Loading examples…</p>
      )}
      <div className="wf-dialog-actions">
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
