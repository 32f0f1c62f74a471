// Import a workflow (a file or pasted JSON) and export the canvas as JSON
// (download or copy). Export writes the document the API stores, so an
// imported workflow exports as the same JSON.
import { useState } from 'react';

import type { WorkflowDoc } from './model.ts';
import { parseWorkflowJson } from './model.ts';

export function ImportDialog(props: { onClose(): void; onImport(doc: WorkflowDoc): void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const take = (t: string) => {
    try {
      props.onImport(parseWorkflowJson(t));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="wf-dialog" role="dialog" aria-modal="true" aria-labelledby="wf-import-title">
      <h2 id="wf-import-title">Import a workflow</h2>
      <p className="wf-muted">
        It replaces what is on the canvas (undo brings it back); saving makes it a new version.
      </p>
      <label htmlFor="wf-import-file">From a file</label>
      <input
        id="wf-import-file"
        type="file"
        accept="application/json,.json"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void file.text().then(take);
        }}
      />
      <label htmlFor="wf-import-text">Or paste its JSON</label>
      <textarea
        id="wf-import-text"
        rows={12}
        spellCheck={false}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {error ? (
        <p className="wf-field-error" role="alert">
          Not imported: {error}
        </p>
      ) : null}
      <div className="wf-dialog-actions">
        <button type="button" onClick={() => take(text)}>
          Import
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function ExportDialog(props: { doc: WorkflowDoc; onClose(): void }) {
  const json = JSON.stringify(props.doc, null, 2);
  const download = () => {
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${props.doc.name.replace(/[^\w-]+/g, '-') || 'workflow'}.json`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="wf-dialog" role="dialog" aria-modal="true" aria-labelledby="wf-export-title">
      <h2 id="wf-export-title">Export</h2>
      <label htmlFor="wf-export-text">Workflow JSON</label>
      <textarea id="wf-export-text" rows={16} readOnly spellCheck={false} value={json} />
      <div className="wf-dialog-actions">
        <button type="button" onClick={download}>
          Download
        </button>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(json)}>
          Copy
        </button>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
