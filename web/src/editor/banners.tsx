// The notices above the canvas: a save refused because someone saved
// meanwhile (with the two ways out), a draft left from unsaved edits, why
// the canvas is read-only, and which execution's data is on it.
import { Link } from '../router.tsx';
import type { Execution } from '../types.ts';
import type { Draft } from './drafts.ts';

export function Banners(props: {
  conflict: string | null;
  onExportMine(): void;
  onLoadSaved(): void;
  draft: Draft | null;
  onRestoreDraft(draft: Draft): void;
  onDiscardDraft(): void;
  /** Why the canvas is read-only; null when it is not. */
  readOnly: string | null;
  execution: Execution | null;
}) {
  const { conflict, draft, execution } = props;
  return (
    <>
      {conflict ? (
        <div className="wf-banner bad" role="alert">
          <strong>Not saved: someone else saved this workflow meanwhile.</strong> {conflict} Your
          changes are still on the canvas; nothing was overwritten.{' '}
          <button type="button" onClick={props.onExportMine}>
            Export my copy
          </button>{' '}
          <button type="button" onClick={props.onLoadSaved}>
            Load the saved version (discards mine)
          </button>
        </div>
      ) : null}
      {draft ? (
        <div className="wf-banner" role="alert">
          Unsaved changes from {new Date(draft.savedAt).toLocaleString()}
          {draft.baseVersion ? ` (made on version ${draft.baseVersion})` : ''} were kept in this
          browser.{' '}
          <button type="button" onClick={() => props.onRestoreDraft(draft)}>
            Restore them
          </button>{' '}
          <button type="button" onClick={props.onDiscardDraft}>
            Discard them
          </button>
        </div>
      ) : null}
      {props.readOnly ? (
        <div className="wf-banner" role="note">
          {props.readOnly}
        </div>
      ) : null}
      {execution ? (
        <div className="wf-banner" role="note">
          Execution <Link to={`/executions/${execution.id}`}>{execution.id.slice(0, 8)}</Link>{' '}
          {execution.status} (version {execution.workflowVersion}). Select a node to see its data.
        </div>
      ) : null}
    </>
  );
}
