// The editor's pages, loaded on demand: React Flow and JSONata stay out of
// the console's first load (see docs/editor.md for the sizes).
import { useQuery } from '@tanstack/react-query';

import { listAll } from '../api.ts';
import { Link, match } from '../router.tsx';
import { useCan } from '../session.tsx';
import { ErrorLine, Time } from '../ui.tsx';
import { EditorPage, editorKey } from './editor-page.tsx';

type Summary = {
  id: number;
  name: string;
  active: boolean;
  currentVersion: number;
  updatedAt: string;
};

function WorkflowsPage() {
  const canEdit = useCan('operator');
  const q = useQuery({
    queryKey: ['workflows'],
    queryFn: async () => ({ workflows: await listAll<Summary>('/api/v1/workflows', 'workflows') }),
  });
  return (
    <>
      <h1>Workflows</h1>
      {canEdit ? (
        <p>
          <Link to="/workflows/new">New workflow</Link> ·{' '}
          <Link to="/workflows/new?examples">New from an example</Link>
        </p>
      ) : null}
      {q.error ? <ErrorLine error={q.error} /> : null}
      {q.data ? (
        <table>
          <caption className="sr-only">Workflows</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Version</th>
              <th scope="col">Active</th>
              <th scope="col">Saved</th>
            </tr>
          </thead>
          <tbody>
            {q.data.workflows.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/workflows/${w.id}/edit`}>{w.name}</Link>
                </td>
                <td>{w.currentVersion}</td>
                <td>{w.active ? 'yes' : 'no'}</td>
                <td>
                  <Time at={w.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p role="status">Loading…</p>
      )}
    </>
  );
}

/**
 * /workflows, /workflows/new (?examples opens the gallery of examples),
 * /workflows/:id/edit (?execution=… opens a run on the canvas).
 */
export default function EditorRoutes(props: { path: string; search: URLSearchParams }) {
  const { path, search } = props;
  if (path === '/workflows') return <WorkflowsPage />;
  if (path === '/workflows/new')
    return (
      <EditorPage
        key={`${editorKey(null)}:`}
        id={null}
        executionId={null}
        gallery={search.has('examples')}
      />
    );
  const m = match('/workflows/:id/edit', path);
  if (m && /^\d+$/.test(m.id!))
    return (
      <EditorPage
        key={`${editorKey(Number(m.id))}:${search.get('execution') ?? ''}`}
        id={Number(m.id)}
        executionId={search.get('execution')}
      />
    );
  return (
    <>
      <h1>Not found</h1>
      <p>
        Nothing lives at {path}. <Link to="/workflows">Go to the workflows</Link>.
      </p>
    </>
  );
}
