// One remembered fix: what it was, its fix and how often it worked, the
// evidence and probes; operators correct it (only the changed fields are
// sent), disable it so it is never applied by itself, or forget it. Runbook
// import and export sit on the memory page (MemoryImport below).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, ApiError } from '../api.ts';
import type { MemoryForm, RememberedFix } from '../memory-edit.ts';
import { buildCorrection, formOf } from '../memory-edit.ts';
import { Link, navigate } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Badge, ErrorLine, Facts, JsonView, Section, Time } from '../ui.tsx';
import { useCatalogue } from './incident-actions.tsx';

type Record_ = RememberedFix & {
  symptoms?: string;
  service?: string | null;
  outcome?: string;
  verified?: boolean;
  fixBlocked?: boolean;
  successCount?: number;
  failureCount?: number;
  createdAt?: string;
  probes?: unknown[];
};

/** A route this Warden does not have yet answers 404 route_not_found: say so in words. */
function explain(err: unknown, what: string): unknown {
  return err instanceof ApiError && err.code === 'route_not_found'
    ? new Error(`This Warden cannot ${what} yet (no such endpoint).`)
    : err;
}

export function MemoryRecordPage(props: { id: string }) {
  const { id } = props;
  const canEdit = useCan('operator');
  const client = useQueryClient();
  const q = useQuery({
    queryKey: ['memory', id],
    queryFn: () => api<Record_>(`/api/v1/memory/${encodeURIComponent(id)}`),
  });
  const forget = useMutation({
    mutationFn: () => api(`/api/v1/memory/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['memory'] });
      navigate('/memory');
    },
  });
  const [confirming, setConfirming] = useState(false);
  if (q.error) return <ErrorLine error={q.error} />;
  if (!q.data) return <p role="status">Loading…</p>;
  const r = q.data;
  return (
    <>
      <p>
        <Link to="/memory">← Memory</Link>
      </p>
      <h1>Remembered: {r.title}</h1>
      <Facts
        label="Remembered fix"
        items={[
          ['Service', r.service ?? 'any'],
          ['Root cause', r.rootCause || '—'],
          [
            'Fix',
            r.fix ? `${r.fix.action} ${JSON.stringify(r.fix.parameters ?? {})}` : 'none recorded',
          ],
          ['Outcome', r.outcome ?? '—'],
          ['Worked / failed', `${r.successCount ?? 0} / ${r.failureCount ?? 0}`],
          [
            'Runs by itself',
            r.disabled ? (
              <Badge key="d" value="paused" label="disabled" />
            ) : r.fixBlocked ? (
              <Badge key="b" value="failed" label="blocked" />
            ) : (
              <Badge key="a" value="up" label={r.verified ? 'verified' : 'not verified'} />
            ),
          ],
          ['Remembered', <Time key="c" at={r.createdAt} />],
        ]}
      />
      {r.symptoms && (
        <Section title="Symptoms">
          <p>{r.symptoms}</p>
        </Section>
      )}
      <Section title="Evidence">
        {(r.evidence ?? []).length === 0 ? (
          <p className="muted">No evidence lines.</p>
        ) : (
          <ul className="list">
            {r.evidence!.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        )}
        {r.probes && r.probes.length > 0 && <JsonView label="Probes" value={r.probes} />}
      </Section>
      {canEdit && <CorrectForm record={r} />}
      {canEdit && (
        <Section title="Forget">
          <p className="muted">Forgetting removes this fix from memory; it cannot be undone.</p>
          {confirming ? (
            <div className="buttons">
              <button
                type="button"
                className="danger"
                onClick={() => forget.mutate()}
                disabled={forget.isPending}
              >
                Forget for good
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Forget this fix
            </button>
          )}
          <ErrorLine error={forget.error} />
        </Section>
      )}
    </>
  );
}

function CorrectForm(props: { record: Record_ }) {
  const { record } = props;
  const client = useQueryClient();
  const catalogue = useCatalogue();
  const [form, setForm] = useState<MemoryForm>(() => formOf(record));
  const [note, setNote] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api(`/api/v1/memory/${encodeURIComponent(record.id)}`, { method: 'PATCH', body }),
    onSuccess: () => {
      setNote('Saved.');
      void client.invalidateQueries({ queryKey: ['memory'] });
    },
  });
  const set = (patch: Partial<MemoryForm>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <Section title="Correct this fix">
      <form
        aria-label="Correct the remembered fix"
        onSubmit={(e) => {
          e.preventDefault();
          const r = buildCorrection(record, form);
          if (!r.ok) return setNote(r.error);
          if (!r.body) return setNote('Nothing changed.');
          setNote(null);
          save.mutate(r.body);
        }}
      >
        <label>
          Title
          <input
            value={form.title}
            maxLength={500}
            onChange={(e) => set({ title: e.target.value })}
          />
        </label>
        <label>
          Root cause
          <textarea
            value={form.rootCause}
            maxLength={2000}
            onChange={(e) => set({ rootCause: e.target.value })}
          />
        </label>
        <label>
          Fix action
          <select value={form.action} onChange={(e) => set({ action: e.target.value })}>
            <option value="">none</option>
            {catalogue.data?.actions.map((a) => (
              <option key={a.name} value={a.name}>
                {a.name} ({a.risk})
              </option>
            ))}
          </select>
        </label>
        <label>
          Fix parameters (JSON)
          <input value={form.parameters} onChange={(e) => set({ parameters: e.target.value })} />
        </label>
        <label>
          Evidence (one line each)
          <textarea value={form.evidence} onChange={(e) => set({ evidence: e.target.value })} />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={form.disabled}
            onChange={(e) => set({ disabled: e.target.checked })}
          />{' '}
          Disabled: never applied by itself
        </label>
        <button type="submit" disabled={save.isPending}>
          Save correction
        </button>
        {note && (
          <p role="status" className={note === 'Saved.' ? '' : 'error'}>
            {note}
          </p>
        )}
        <ErrorLine error={explain(save.error, 'edit remembered fixes')} />
      </form>
    </Section>
  );
}

/** Runbook import (YAML, as exported) and the export link, for operators. */
export function MemoryImport() {
  const canEdit = useCan('operator');
  const client = useQueryClient();
  const [yaml, setYaml] = useState('');
  const imported = useMutation({
    mutationFn: () =>
      api<{ imported: { id: string; title: string }[] }>('/api/v1/memory/import', {
        method: 'POST',
        body: { yaml },
      }),
    onSuccess: () => {
      setYaml('');
      void client.invalidateQueries({ queryKey: ['memory'] });
    },
  });
  return (
    <Section title="Runbooks">
      <p>
        <a href="/api/v1/memory/export" download="warden-runbooks.yaml">
          Export remembered fixes as YAML
        </a>
      </p>
      {canEdit && (
        <form
          aria-label="Import runbooks"
          onSubmit={(e) => {
            e.preventDefault();
            if (yaml.trim()) imported.mutate();
          }}
        >
          <label>
            Runbook YAML
            <textarea value={yaml} rows={6} onChange={(e) => setYaml(e.target.value)} />
          </label>
          <button type="submit" disabled={imported.isPending || yaml.trim() === ''}>
            Import runbooks
          </button>
          {imported.data && (
            <p role="status">
              Imported {imported.data.imported.length}:{' '}
              {imported.data.imported.map((i) => i.title).join(', ')}
            </p>
          )}
          <ErrorLine error={explain(imported.error, 'import runbooks')} />
        </form>
      )}
    </Section>
  );
}
