// Incidents: the list with its filters (kept in the address so a filtered
// view is a link), refreshed live by the events stream.
import { useQuery } from '@tanstack/react-query';

import { api, qs } from '../api.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { Incident } from '../types.ts';
import { Badge, ErrorLine, Time } from '../ui.tsx';

const statuses = [
  'open',
  'investigating',
  'remediating',
  'verifying',
  'awaiting_approval',
  'escalated',
  'resolved',
];
const severities = ['critical', 'warning', 'info'];
/** Time filter: incidents seen within the window. */
const windows: Record<string, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

export function IncidentsPage() {
  const { search } = useLocation();
  const status = search.get('status') ?? '';
  const service = search.get('service') ?? '';
  const severity = search.get('severity') ?? '';
  const since = search.get('since') ?? '';
  const q = useQuery({
    queryKey: ['incidents', { status, service }],
    queryFn: () =>
      api<{ incidents: Incident[] }>(
        `/api/v1/incidents${qs({ status: status || undefined, service: service || undefined, limit: 200 })}`,
      ),
  });
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const s = next.toString();
    navigate(`/incidents${s ? `?${s}` : ''}`, { replace: true });
  };
  // The API filters by status and service; severity and time are narrowed here.
  const after = since in windows ? Date.now() - windows[since]! : 0;
  const rows = (q.data?.incidents ?? []).filter(
    (i) =>
      (!severity || i.severity === severity) &&
      (!after || new Date(i.lastSeenAt).getTime() >= after),
  );
  return (
    <>
      <h1>Incidents</h1>
      <form className="filters" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select value={severity} onChange={(e) => set('severity', e.target.value)}>
            <option value="">any</option>
            {severities.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Seen within
          <select value={since} onChange={(e) => set('since', e.target.value)}>
            <option value="">any time</option>
            <option value="1h">the last hour</option>
            <option value="24h">the last day</option>
            <option value="7d">the last week</option>
          </select>
        </label>
        <label>
          Service
          <input
            type="search"
            defaultValue={service}
            onKeyDown={(e) => {
              if (e.key === 'Enter') set('service', e.currentTarget.value.trim());
            }}
            onBlur={(e) => set('service', e.currentTarget.value.trim())}
          />
        </label>
      </form>
      <ErrorLine error={q.error} />
      {q.isPending ? (
        <p role="status">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No incidents match.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Incidents, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Incident</th>
                <th scope="col">Service</th>
                <th scope="col">Severity</th>
                <th scope="col">Status</th>
                <th scope="col">Seen</th>
                <th scope="col">Opened</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr key={i.id}>
                  <td>
                    <Link to={`/incidents/${i.id}`}>
                      #{i.id} {i.summary}
                    </Link>
                  </td>
                  <td>{i.service}</td>
                  <td>
                    <Badge value={i.severity} />
                  </td>
                  <td>
                    <Badge value={i.status} />
                    {i.flapping && <Badge value="flapping" />}
                  </td>
                  <td>{i.occurrences}×</td>
                  <td>
                    <Time at={i.openedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
