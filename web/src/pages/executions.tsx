// Executions: the list with a status filter, refreshed live; one execution
// with each node's step, its input and output (large data collapsed), its
// error, timing and attempts; for needs_attention, mark as done or retry.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, qs } from '../api.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { useCan } from '../session.tsx';
import type { Execution, Step } from '../types.ts';
import { Badge, ErrorLine, Facts, JsonView, Section, Time } from '../ui.tsx';

const statuses = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'canceled',
  'needs_attention',
];

function duration(from: string | null, to: string | null): string {
  if (!from || !to) return '—';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function ExecutionsPage() {
  const { search } = useLocation();
  const status = search.get('status') ?? '';
  const q = useQuery({
    queryKey: ['executions', { status }],
    queryFn: () =>
      api<{ executions: Execution[] }>(
        `/api/v1/executions${qs({ status: status || undefined, limit: 100 })}`,
      ),
  });
  return (
    <>
      <h1>Executions</h1>
      <form className="filters" aria-label="Filter executions" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select
            value={status}
            onChange={(e) =>
              navigate(`/executions${e.target.value ? `?status=${e.target.value}` : ''}`, {
                replace: true,
              })
            }
          >
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorLine error={q.error} />
      {q.isPending ? (
        <p role="status">Loading…</p>
      ) : (q.data?.executions.length ?? 0) === 0 ? (
        <p className="muted">No executions match.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Executions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Execution</th>
                <th scope="col">Workflow</th>
                <th scope="col">Status</th>
                <th scope="col">Mode</th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
              </tr>
            </thead>
            <tbody>
              {q.data!.executions.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link to={`/executions/${e.id}`}>{e.id.slice(0, 8)}</Link>
                  </td>
                  <td>
                    {e.workflowId} v{e.workflowVersion}
                  </td>
                  <td>
                    <Badge value={e.status} />
                  </td>
                  <td>{e.mode}</td>
                  <td>
                    <Time at={e.startedAt ?? e.createdAt} />
                  </td>
                  <td>{duration(e.startedAt, e.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

type Shown = Execution & { triggerData: unknown; result: unknown; steps: Step[] };

export function ExecutionPage(props: { id: string }) {
  const q = useQuery({
    queryKey: ['execution', props.id],
    queryFn: () => api<Shown>(`/api/v1/executions/${encodeURIComponent(props.id)}`),
  });
  if (q.error) return <ErrorLine error={q.error} />;
  if (!q.data) return <p role="status">Loading…</p>;
  const e = q.data;
  return (
    <>
      <p>
        <Link to="/executions">← Executions</Link>
      </p>
      <h1>Execution {e.id.slice(0, 8)}</h1>
      <p>
        <Link to={`/workflows/${e.workflowId}/edit?execution=${e.id}`}>Open in editor</Link>
      </p>
      <Facts
        label="Execution facts"
        items={[
          ['Status', <Badge key="s" value={e.status} />],
          ['Workflow', `${e.workflowId} version ${e.workflowVersion}`],
          ['Mode', e.mode],
          ['Trigger', e.triggerNode],
          ['Attempts', e.attempts],
          ['Created', <Time key="c" at={e.createdAt} />],
          ['Took', duration(e.startedAt, e.finishedAt)],
        ]}
      />
      <ExecutionActions execution={e} />
      <MarkedDone result={e.result} />
      {e.error && (
        <p role="alert" className="error">
          {e.error.node ? `${e.error.node}: ` : ''}
          {e.error.message} ({e.error.code})
        </p>
      )}
      <Section title="Nodes">
        {e.steps.length === 0 ? (
          <p className="muted">No node has run yet.</p>
        ) : (
          <ol className="steps">
            {e.steps.map((s) => (
              <li key={s.nodeName} className="step">
                <h3>
                  {s.nodeName} <Badge value={s.status} />
                </h3>
                <p className="muted">
                  {s.durationMs !== null ? `${s.durationMs} ms` : 'running'}, attempt {s.attempts}
                  {s.worker ? `, on ${s.worker}` : ''}, started <Time at={s.startedAt} />
                  {s.truncated ? ', data truncated when stored' : ''}
                </p>
                {s.error && (
                  <p className="error">
                    {s.error.message} ({s.error.code})
                  </p>
                )}
                <JsonView label={`${s.nodeName} input`} value={s.input} />
                <JsonView label={`${s.nodeName} output`} value={s.output} />
              </li>
            ))}
          </ol>
        )}
      </Section>
      <Section title="Trigger and result">
        <JsonView label="Trigger data" value={e.triggerData} />
        <JsonView label="Result" value={e.result} />
      </Section>
    </>
  );
}

/** Who marked a needs_attention execution as done, and why. */
function MarkedDone(props: { result: unknown }) {
  const r = props.result;
  if (typeof r !== 'object' || r === null || !('markedDone' in r)) return null;
  const m = r.markedDone as { by?: string; reason?: string; at?: string };
  return (
    <p role="status" className="notice">
      Marked as done by {m.by ?? 'someone'}
      {m.at ? (
        <>
          {' '}
          (<Time at={m.at} />)
        </>
      ) : null}
      : {m.reason}
    </p>
  );
}

/**
 * Cancel while it runs; retry once it failed, was canceled or needs attention;
 * mark a needs_attention execution as done (the person checked that its side
 * effect happened). Operators only.
 */
function ExecutionActions(props: { execution: Execution }) {
  const { execution: e } = props;
  const canAct = useCan('operator');
  const client = useQueryClient();
  const [reason, setReason] = useState('');
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['execution', e.id] });
    void client.invalidateQueries({ queryKey: ['executions'] });
  };
  const act = useMutation({
    mutationFn: (what: 'cancel' | 'retry') =>
      api<{ executionId?: string }>(`/api/v1/executions/${e.id}/${what}`, { method: 'POST' }),
    onSuccess: (r) => {
      refresh();
      if (r?.executionId) navigate(`/executions/${r.executionId}`);
    },
  });
  const markDone = useMutation({
    mutationFn: () =>
      api(`/api/v1/executions/${e.id}/mark-done`, {
        method: 'POST',
        body: { reason: reason.trim() },
      }),
    onSuccess: () => {
      setReason('');
      refresh();
    },
  });
  if (!canAct) return null;
  const running = ['queued', 'running', 'waiting'].includes(e.status);
  const retryable = ['failed', 'canceled', 'needs_attention'].includes(e.status);
  if (!running && !retryable) return null;
  return (
    <div className="card">
      {retryable && (
        <>
          {e.status === 'needs_attention' && (
            <>
              <p className="notice">
                This execution stopped in the middle of a step that may have had side effects (a
                command, a request). Check what happened first. If it took effect, mark the
                execution as done: nothing runs again and the nodes after it stay unrun. If it did
                not, retry: a retry runs every node again from the start.
              </p>
              <form
                aria-label="Mark as done"
                onSubmit={(ev) => {
                  ev.preventDefault();
                  markDone.mutate();
                }}
              >
                <label>
                  What you checked
                  <input
                    value={reason}
                    required
                    maxLength={2000}
                    onChange={(ev) => setReason(ev.target.value)}
                  />
                </label>
                <button type="submit" disabled={markDone.isPending || !reason.trim()}>
                  Mark as done
                </button>
                <ErrorLine error={markDone.error} />
              </form>
            </>
          )}
          <button type="button" onClick={() => act.mutate('retry')} disabled={act.isPending}>
            Retry from the start
          </button>
        </>
      )}
      {running && (
        <button
          type="button"
          className="danger"
          onClick={() => act.mutate('cancel')}
          disabled={act.isPending || e.cancelRequested}
        >
          {e.cancelRequested ? 'Cancel requested' : 'Cancel'}
        </button>
      )}
      <ErrorLine error={act.error} />
    </div>
  );
}
