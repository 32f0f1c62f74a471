// Import a workflow (a file or pasted JSON), export the canvas as JSON
// (download or copy), and the versions: what changed, and restore. Export
// writes the document the API stores, so an imported workflow exports as
// the same JSON.
import { useEffect, useState } from 'react';

import { api, listAll } from '../api.ts';
import type { WorkflowDoc } from './model.ts';
import { diffWorkflows, parseWorkflowJson } from './model.ts';

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

type VersionRow = { version: number; name: string; nodes: number; createdAt: string };

/** The saved versions: what changed between two of them (or one and the canvas), and restore. */
export function VersionsDialog(props: {
  workflowId: number;
  canvas: WorkflowDoc;
  readOnly: boolean;
  onRestore(doc: WorkflowDoc, version: number): void;
  onClose(): void;
}) {
  const [versions, setVersions] = useState<VersionRow[] | null>(null);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | 'canvas'>('canvas');
  const [docs, setDocs] = useState<Record<number, WorkflowDoc>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void listAll<VersionRow>(`/api/v1/workflows/${props.workflowId}/versions`, 'versions').then(
      (versions) => {
        setVersions(versions);
        setFrom(versions[0]?.version ?? null);
      },
      (err: unknown) => setError(String(err)),
    );
  }, [props.workflowId]);
  useEffect(() => {
    for (const v of [from, to])
      if (typeof v === 'number' && !docs[v])
        void api<{ definition: WorkflowDoc }>(
          `/api/v1/workflows/${props.workflowId}/versions/${v}`,
        ).then(
          (r) => setDocs((d) => ({ ...d, [v]: r.definition })),
          (err: unknown) => setError(String(err)),
        );
  }, [from, to, docs, props.workflowId]);
  const a = from === null ? undefined : docs[from];
  const b = to === 'canvas' ? props.canvas : docs[to];
  const changes = a && b ? diffWorkflows(a, b) : null;
  return (
    <div className="wf-dialog" role="dialog" aria-modal="true" aria-labelledby="wf-versions-title">
      <h2 id="wf-versions-title">Versions</h2>
      {error ? <p role="alert">{error}</p> : null}
      {versions ? (
        <div className="wf-dialog-actions">
          <label htmlFor="wf-diff-from">From version</label>
          <select
            id="wf-diff-from"
            value={from ?? ''}
            onChange={(e) => setFrom(Number(e.target.value))}
          >
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version} · {new Date(v.createdAt).toLocaleString()} · {v.nodes} nodes
              </option>
            ))}
          </select>
          <label htmlFor="wf-diff-to">to</label>
          <select
            id="wf-diff-to"
            value={String(to)}
            onChange={(e) => setTo(e.target.value === 'canvas' ? 'canvas' : Number(e.target.value))}
          >
            <option value="canvas">the canvas</option>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                version {v.version}
              </option>
            ))}
          </select>
        </div>
      ) : (
        <p role="status">Loading…</p>
      )}
      {changes ? (
        changes.length === 0 ? (
          <p>No differences.</p>
        ) : (
          <ul className="wf-diff" aria-label="Differences">
            {changes.map((c, i) => (
              <li key={i} className={`wf-diff-${c.kind}`}>
                <strong>{c.kind}</strong> {c.what}
                {c.detail ? `: ${c.detail}` : ''}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <div className="wf-dialog-actions">
        {!props.readOnly && a && from !== null ? (
          <button type="button" onClick={() => props.onRestore(a, from)}>
            Restore version {from} onto the canvas
          </button>
        ) : null}
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
