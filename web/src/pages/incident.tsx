// One incident: its facts, the timeline as the API records it (alerts,
// memory matches, diagnosis, gates, consensus, approvals, execution output,
// verification), its alerts, and the decisions the role may take. Buttons a
// role cannot use are not shown; the API refuses them anyway.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, listAll } from '../api.ts';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';
import type { Alert, Approval, Incident, IncidentEvent } from '../types.ts';
import { Badge, ErrorLine, Facts, JsonView, Section, Time } from '../ui.tsx';
import { IncidentActions } from './incident-actions.tsx';
import { IncidentAttachments } from './incident-attachments.tsx';

type Shown = { incident: Incident; events: IncidentEvent[]; alerts: Alert[] };

export function IncidentPage(props: { id: number }) {
  const { id } = props;
  const q = useQuery({
    queryKey: ['incident', id],
    queryFn: () => api<Shown>(`/api/v1/incidents/${id}`),
  });
  const approvals = useQuery({
    queryKey: ['approvals', id],
    queryFn: async () => ({
      approvals: await listAll<Approval>(`/api/v1/approvals?incidentId=${id}`, 'approvals'),
    }),
  });
  if (q.error) return <ErrorLine error={q.error} />;
  if (!q.data) return <p role="status">Loading…</p>;
  const { incident: i, events, alerts } = q.data;
  const pending = approvals.data?.approvals.find((a) => a.status === 'pending');
  return (
    <>
      <p>
        <Link to="/incidents">← Incidents</Link>
      </p>
      <h1>
        Incident #{i.id}: {i.summary}
      </h1>
      <Facts
        label="Incident facts"
        items={[
          ['Status', <Badge key="s" value={i.status} />],
          ['Severity', <Badge key="v" value={i.severity} />],
          ['Service', i.service],
          ['Source', i.source],
          ['Occurrences', `${i.occurrences}${i.flapping ? ' (flapping)' : ''}`],
          ['Opened', <Time key="o" at={i.openedAt} />],
          ['Last seen', <Time key="l" at={i.lastSeenAt} />],
          ['Resolved', <Time key="r" at={i.resolvedAt} />],
        ]}
      />
      {pending && <PendingApproval approval={pending} incidentId={id} />}
      <IncidentActions incident={i} events={events} />
      <IncidentAttachments incidentId={id} />
      <Section title="Timeline">
        <ol className="timeline">
          {events.map((e) => (
            <li key={e.id} className={`event event-${e.type.replace(/[^a-z]/gi, '-')}`}>
              <div className="event-head">
                <Badge value={e.type} label={e.type} /> <Time at={e.at} /> by {e.actor}
              </div>
              <p>{e.message}</p>
              <EventEvidence event={e} />
            </li>
          ))}
        </ol>
      </Section>
      {(approvals.data?.approvals.length ?? 0) > 0 && (
        <Section title="Approvals">
          <ul className="list">
            {approvals.data!.approvals.map((a) => (
              <li key={a.id}>
                {a.action} <Badge value={a.risk} /> <Badge value={a.status} />{' '}
                {a.decidedBy ? `by ${a.decidedBy}` : ''} {a.comment ? `: “${a.comment}”` : ''}
                {a.executionId && (
                  <>
                    {' '}
                    <Link to={`/executions/${a.executionId}`}>execution</Link>
                  </>
                )}
              </li>
            ))}
          </ul>
        </Section>
      )}
      <Section title="Alerts">
        <ul className="list">
          {alerts.map((a) => (
            <li key={a.id}>
              <Badge value={a.status} /> {a.summary} ({a.source}, {a.outcome}){' '}
              <Time at={a.receivedAt} />
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}

type Match = {
  id: string;
  title?: string;
  score: number;
  fix?: unknown;
  autoApply?: boolean;
  reason?: string;
};

type Diagnosis = {
  summary?: string;
  rootCause?: string;
  confidence?: number;
  risk?: string;
  action?: { name?: string; parameters?: Record<string, unknown> };
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A diagnosis in words: what the model thinks, why, how sure, and what it proposes. */
export function DiagnosisView(props: { diagnosis: unknown; model?: unknown }) {
  if (!isObject(props.diagnosis)) return null;
  const d = props.diagnosis as Diagnosis;
  return (
    <Facts
      label="Diagnosis"
      items={[
        ...(d.summary ? ([['Diagnosis', d.summary]] as [string, string][]) : []),
        ...(d.rootCause ? ([['Root cause', d.rootCause]] as [string, string][]) : []),
        ...(typeof d.confidence === 'number'
          ? ([['Confidence', `${Math.round(d.confidence * 100)} %`]] as [string, string][])
          : []),
        ...(d.action?.name
          ? ([
              ['Proposed action', `${d.action.name} ${JSON.stringify(d.action.parameters ?? {})}`],
            ] as [string, string][])
          : []),
        ...(d.risk ? ([['Risk claimed', d.risk]] as [string, string][]) : []),
        ...(typeof props.model === 'string'
          ? ([['Model', props.model]] as [string, string][])
          : []),
      ]}
    />
  );
}

function EventEvidence(props: { event: IncidentEvent }) {
  const { evidence, type } = props.event;
  if (!evidence || Object.keys(evidence).length === 0) return null;
  if (type === 'diagnosis' && isObject(evidence.diagnosis))
    return (
      <>
        <DiagnosisView diagnosis={evidence.diagnosis} model={evidence.model} />
        <JsonView label="Evidence" value={evidence} collapsed />
      </>
    );
  if (type === 'consensus' && isObject(evidence.verdict)) {
    const v = evidence.verdict as { verdict?: string; reasons?: unknown; model?: string };
    return (
      <>
        <p>
          Second opinion{v.model ? ` from ${v.model}` : ''}: <strong>{v.verdict}</strong>
        </p>
        {Array.isArray(v.reasons) && (
          <ul className="list">
            {v.reasons.map((r, i) => (
              <li key={i}>{String(r)}</li>
            ))}
          </ul>
        )}
        <JsonView label="Evidence" value={evidence} collapsed />
      </>
    );
  }
  const matches = evidence.matches;
  if (type === 'memory.matches' && Array.isArray(matches) && matches.length > 0) {
    return (
      <>
        <table>
          <caption className="sr-only">Memory matches</caption>
          <thead>
            <tr>
              <th scope="col">Past incident</th>
              <th scope="col">Score</th>
              <th scope="col">Fix runs by itself</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {(matches as Match[]).map((m) => (
              <tr key={m.id}>
                <td>{m.title ?? m.id}</td>
                <td>{m.score}</td>
                <td>{m.autoApply ? 'yes' : 'no'}</td>
                <td>{m.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <JsonView label="Evidence" value={evidence} />
      </>
    );
  }
  return <JsonView label="Evidence" value={evidence} />;
}

function PendingApproval(props: { approval: Approval; incidentId: number }) {
  const { approval: a, incidentId } = props;
  const canDecide = useCan('operator');
  const client = useQueryClient();
  const [comment, setComment] = useState('');
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      api<Approval>(`/api/v1/incidents/${incidentId}/${decision}`, {
        method: 'POST',
        body: comment.trim() ? { comment: comment.trim() } : {},
      }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['incident', incidentId] });
      void client.invalidateQueries({ queryKey: ['approvals'] });
    },
  });
  return (
    <Section title="Waiting for approval">
      <p>
        <strong>{a.action}</strong> <Badge value={a.risk} /> requested <Time at={a.requestedAt} />,
        expires <Time at={a.expiresAt} />.
      </p>
      <p>Why: {a.reason}</p>
      <JsonView label="Parameters" value={a.parameters} />
      <DiagnosisView diagnosis={a.proposal} />
      <JsonView label="Proposal as recorded" value={a.proposal} collapsed />
      {canDecide ? (
        <form
          aria-label="Decide the approval"
          className="decide"
          onSubmit={(e) => e.preventDefault()}
        >
          <label>
            Reason (recorded with the decision)
            <textarea
              value={comment}
              maxLength={2000}
              onChange={(e) => setComment(e.target.value)}
            />
          </label>
          <div className="buttons">
            <button
              type="button"
              onClick={() => decide.mutate('approve')}
              disabled={decide.isPending}
            >
              Approve
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => decide.mutate('reject')}
              disabled={decide.isPending}
            >
              Reject
            </button>
          </div>
          <ErrorLine error={decide.error} />
        </form>
      ) : (
        <p className="muted">An operator or admin decides this approval.</p>
      )}
    </Section>
  );
}
