// Memory: search as healing searches (what an alert's text would match, the
// score, and whether the remembered fix would run by itself and why not),
// the list of remembered incidents (each links to its page), and runbook
// import and export.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { api } from '../api.ts';
import { Link } from '../router.tsx';
import { ErrorLine, Section } from '../ui.tsx';
import { MemoryImport } from './memory-record.tsx';

type Remembered = {
  id: string;
  title: string;
  service?: string;
  fix?: unknown;
  rootCause?: string;
};
type Match = {
  incident: Remembered;
  score: number;
  autoApply: boolean;
  reason: string;
};

export function MemoryPage() {
  const [text, setText] = useState('');
  const [service, setService] = useState('');
  const search = useMutation({
    mutationFn: () =>
      api<{ threshold: number; matches: Match[] }>('/api/v1/memory/search', {
        method: 'POST',
        body: { text, ...(service.trim() ? { service: service.trim() } : {}), topK: 5 },
      }),
  });
  const list = useQuery({
    queryKey: ['memory'],
    queryFn: () => api<{ incidents: Remembered[] }>('/api/v1/memory?limit=50'),
  });
  return (
    <>
      <h1>Memory</h1>
      <Section title="Search as healing does">
        <form
          aria-label="Search memory"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) search.mutate();
          }}
        >
          <label>
            Alert text
            <textarea value={text} required onChange={(e) => setText(e.target.value)} />
          </label>
          <label>
            Service (optional)
            <input value={service} onChange={(e) => setService(e.target.value)} />
          </label>
          <button type="submit" disabled={search.isPending}>
            Search
          </button>
        </form>
        <ErrorLine error={search.error} />
        {search.data && (
          <>
            <p>Threshold for a fix to run by itself: {search.data.threshold}</p>
            {search.data.matches.length === 0 ? (
              <p className="muted">Nothing similar is remembered.</p>
            ) : (
              <table>
                <caption className="sr-only">Matches</caption>
                <thead>
                  <tr>
                    <th scope="col">Remembered incident</th>
                    <th scope="col">Score</th>
                    <th scope="col">Fix would run</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {search.data.matches.map((m) => (
                    <tr key={m.incident.id}>
                      <td>{m.incident.title}</td>
                      <td>{m.score.toFixed(3)}</td>
                      <td>{m.autoApply ? 'yes' : 'no'}</td>
                      <td>{m.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Section>
      <Section title="Remembered incidents">
        <ErrorLine error={list.error} />
        {(list.data?.incidents.length ?? 0) === 0 ? (
          <p className="muted">Nothing remembered yet.</p>
        ) : (
          <ul className="list">
            {list.data!.incidents.map((r) => (
              <li key={r.id}>
                <Link to={`/memory/${r.id}`}>{r.title}</Link> {r.service ? `(${r.service})` : ''}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <MemoryImport />
    </>
  );
}
