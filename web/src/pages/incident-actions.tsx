// What an operator does to an incident by hand: acknowledge, add a note,
// reopen, resolve with the root cause and the fix (which teaches memory).
// Shown only to operators and admins; the API refuses the rest anyway.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { useState } from 'react';

import { api, ApiError, listAll } from '../api.ts';
import type { CatalogueAction, ParamSpec } from '../resolve-form.ts';
import { buildResolveBody } from '../resolve-form.ts';
import { useCan } from '../session.tsx';
import type { Incident, IncidentEvent } from '../types.ts';
import { Badge, ErrorLine, Section } from '../ui.tsx';

export function useCatalogue() {
  return useQuery({
    queryKey: ['actions'],
    queryFn: async () => ({
      actions: await listAll<CatalogueAction>('/api/v1/actions', 'actions'),
    }),
    staleTime: 60_000,
  });
}

export function IncidentActions(props: { incident: Incident; events: IncidentEvent[] }) {
  const { incident: i, events } = props;
  const canAct = useCan('operator');
  const client = useQueryClient();
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  const done = () => void client.invalidateQueries({ queryKey: ['incident', i.id] });
  const post = (path: string, body: Record<string, unknown>) =>
    api<unknown>(`/api/v1/incidents/${i.id}/${path}`, { method: 'POST', body });
  const ack = useMutation({ mutationFn: () => post('acknowledge', {}), onSuccess: done });
  const addNote = useMutation({
    mutationFn: () => post('notes', { text: note }),
    onSuccess: () => {
      setNote('');
      done();
    },
  });
  const reopen = useMutation({
    mutationFn: () => post('reopen', reason.trim() ? { reason: reason.trim() } : {}),
    onSuccess: () => {
      setReason('');
      done();
    },
  });
  if (!canAct) return null;
  const resolved = i.status === 'resolved';
  const lastReopen = events.findLastIndex((e) => e.type === 'reopened');
  const acked = events.slice(lastReopen + 1).find((e) => e.type === 'acknowledged');
  return (
    <Section title="Act on this incident">
      {!resolved &&
        (acked ? (
          <p>
            Acknowledged by <strong>{acked.actor}</strong>.
          </p>
        ) : (
          <p>
            <button type="button" onClick={() => ack.mutate()} disabled={ack.isPending}>
              Acknowledge
            </button>
          </p>
        ))}
      <ErrorLine error={ack.error} />
      <form
        aria-label="Add a note"
        onSubmit={(e) => {
          e.preventDefault();
          if (note.trim()) addNote.mutate();
        }}
      >
        <label>
          Note
          <textarea value={note} maxLength={4000} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" disabled={addNote.isPending || note.trim() === ''}>
          Add note
        </button>
        <ErrorLine error={addNote.error} />
      </form>
      {resolved ? (
        <form
          aria-label="Reopen the incident"
          onSubmit={(e) => {
            e.preventDefault();
            reopen.mutate();
          }}
        >
          <label>
            Why reopen (optional)
            <input value={reason} maxLength={2000} onChange={(e) => setReason(e.target.value)} />
          </label>
          <button type="submit" disabled={reopen.isPending}>
            Reopen
          </button>
          <ErrorLine error={reopen.error} />
        </form>
      ) : (
        <ResolveForm incidentId={i.id} onDone={done} />
      )}
    </Section>
  );
}

function ParamField(props: {
  name: string;
  spec: ParamSpec;
  value: string;
  onChange: (v: string) => void;
}) {
  const { name, spec, value, onChange } = props;
  const hint = [
    spec.description,
    spec.type === 'integer' ? `${spec.min} to ${spec.max}` : undefined,
    spec.type === 'regex' ? `matching ${spec.pattern}` : undefined,
    spec.default !== undefined ? `default ${spec.default}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const label = `${name}${hint ? ` (${hint})` : ''}`;
  if (spec.type === 'enum')
    return (
      <label>
        {label}
        <select value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{spec.default !== undefined ? 'default' : 'choose…'}</option>
          {spec.values.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </label>
    );
  return (
    <label>
      {label}
      <input
        value={value}
        inputMode={spec.type === 'integer' ? 'numeric' : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}

function ResolveForm(props: { incidentId: number; onDone: () => void }) {
  const catalogue = useCatalogue();
  const [actionName, setActionName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [rootCause, setRootCause] = useState('');
  const [evidence, setEvidence] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const action = catalogue.data?.actions.find((a) => a.name === actionName);
  const resolve = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<unknown>(`/api/v1/incidents/${props.incidentId}/resolve`, { method: 'POST', body }),
    onSuccess: props.onDone,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = buildResolveBody({ action, values, rootCause, evidence });
    if (!r.ok) {
      setInvalid(r.error);
      return;
    }
    setInvalid(null);
    resolve.mutate(r.body);
  };
  const missingRoute =
    resolve.error instanceof ApiError && resolve.error.code === 'route_not_found'
      ? new Error('This Warden cannot record a resolution by hand yet (no resolve endpoint).')
      : resolve.error;
  return (
    <form aria-label="Resolve by hand" onSubmit={submit}>
      <h3>Resolve by hand</h3>
      <p className="muted">
        Records the root cause and the fix in incident memory, so the next time this alert fires the
        fix is found.
      </p>
      <label>
        Root cause
        <textarea
          value={rootCause}
          maxLength={2000}
          onChange={(e) => setRootCause(e.target.value)}
        />
      </label>
      <label>
        Fix action
        <select
          value={actionName}
          onChange={(e) => {
            setActionName(e.target.value);
            setValues({});
          }}
        >
          <option value="">choose…</option>
          {catalogue.data?.actions.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name} ({a.risk})
            </option>
          ))}
        </select>
      </label>
      {action && (
        <fieldset>
          <legend>
            {action.name} <Badge value={action.risk} />: {action.description}
          </legend>
          {Object.keys(action.params).length === 0 && (
            <p className="muted">This action takes no parameters.</p>
          )}
          {Object.entries(action.params).map(([name, spec]) => (
            <ParamField
              key={name}
              name={name}
              spec={spec}
              value={values[name] ?? ''}
              onChange={(v) => setValues((old) => ({ ...old, [name]: v }))}
            />
          ))}
        </fieldset>
      )}
      <label>
        Evidence (one line each)
        <textarea value={evidence} onChange={(e) => setEvidence(e.target.value)} />
      </label>
      <button type="submit" disabled={resolve.isPending}>
        Resolve and remember
      </button>
      {invalid && (
        <p role="alert" className="error">
          {invalid}
        </p>
      )}
      <ErrorLine error={missingRoute} />
      <ErrorLine error={catalogue.error} />
    </form>
  );
}
