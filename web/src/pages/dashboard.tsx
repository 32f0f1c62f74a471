// Status at a glance: what is open, what waits for a person, what runs.
import { useQuery } from '@tanstack/react-query';

import { api } from '../api.ts';
import { Link } from '../router.tsx';
import type { Dashboard } from '../types.ts';
import { ago, Badge, ErrorLine, Facts, Heartbeat, Section, Time } from '../ui.tsx';

const severities = ['critical', 'warning', 'info'];

export function DashboardPage() {
  const q = useQuery({
    queryKey: ['dashboard'],
    queryFn: () => api<Dashboard>('/api/v1/dashboard'),
    refetchInterval: 15_000,
  });
  const d = q.data;
  return (
    <>
      <h1>Dashboard</h1>
      <ErrorLine error={q.error} />
      {!d ? (
        <p role="status">Loading…</p>
      ) : (
        <div className="grid">
          <Section title="Open incidents">
            <ul className="stats" aria-label="Open incidents by severity">
              {severities.map((s) => (
                <li key={s}>
                  <Link to={`/incidents?severity=${s}&status=open`} className={`stat sev-${s}`}>
                    <strong>{d.incidents.openBySeverity[s] ?? 0}</strong> {s}
                  </Link>
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Pending approvals">
            {d.approvals.length === 0 ? (
              <p className="muted">Nothing waits for a decision.</p>
            ) : (
              <ul className="list">
                {d.approvals.map((a) => (
                  <li key={a.id}>
                    <Link to={`/incidents/${a.incidentId}`}>
                      {a.action} on incident {a.incidentId}
                    </Link>{' '}
                    <Badge value={a.risk} /> waited {ago(a.requestedAt).replace(' ago', '')},
                    expires {ago(a.expiresAt)}
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title="Monitors">
            {d.monitors.length === 0 ? (
              <p className="muted">No monitors yet.</p>
            ) : (
              <ul className="list">
                {d.monitors.map((m) => (
                  <li key={m.id} className="monitor">
                    <span
                      className={`beat beat-${m.enabled ? m.state : 'paused'}`}
                      aria-hidden="true"
                    />
                    <span>
                      {m.name} ({m.service}): <Badge value={m.enabled ? m.state : 'paused'} />{' '}
                      {m.lastResult ? `${m.lastResult.latencyMs} ms, ${m.lastResult.detail}` : ''}{' '}
                      checked <Time at={m.lastCheckedAt} />
                      <Heartbeat label={`${m.name} recent checks`} checks={m.recentChecks} />
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title="Executions">
            <p>
              Success rate (last {d.executions.perMinute.length} min):{' '}
              <strong>
                {d.executions.successRate === null
                  ? 'no finished runs'
                  : `${Math.round(d.executions.successRate * 100)} %`}
              </strong>
            </p>
            <ExecutionBars perMinute={d.executions.perMinute} />
          </Section>
          <Section title="Queue">
            <Facts
              items={[
                ['Kind', d.queue.kind],
                ['Queued', d.queue.queued],
                ['Running', d.queue.running],
                ['Waiting', d.queue.waiting],
                ['Busy workers', d.queue.busyWorkers],
              ]}
            />
          </Section>
          <Section title="Models">
            <Facts
              items={[
                ['Server', `${d.models.provider} at ${d.models.url}`],
                ...Object.entries(d.models.roles).map(([role, model]): [string, string] => [
                  `${role} role`,
                  model,
                ]),
              ]}
            />
          </Section>
          <Section title="Automatic actions">
            {!d.storm.autoHeal ? (
              <p>
                <Badge value="paused" label="off" /> Automatic healing is switched off
                (WARDEN_HEAL_ENABLED); every incident waits for a person.
              </p>
            ) : d.storm.paused ? (
              <p>
                <Badge value="failed" label="paused by a storm" /> {d.storm.reason}
              </p>
            ) : (
              <p>
                <Badge value="up" label="running" /> {d.storm.openedInWindow} incidents opened in
                the last {Math.round(d.storm.windowSeconds / 60)} min; automatic actions pause above{' '}
                {d.storm.pauseAfter}.
              </p>
            )}
          </Section>
          <Section title="Last backup">
            {d.backup ? (
              <p>
                {d.backup.file} ({d.backup.kind}, {Math.round(d.backup.bytes / 1024)} KB),{' '}
                <Time at={d.backup.createdAt} />
              </p>
            ) : (
              <p className="muted">No backup yet.</p>
            )}
          </Section>
        </div>
      )}
    </>
  );
}

function ExecutionBars(props: { perMinute: Dashboard['executions']['perMinute'] }) {
  const max = Math.max(1, ...props.perMinute.map((m) => m.total));
  return (
    <ol className="bars" aria-label="Executions per minute">
      {props.perMinute.map((m) => (
        <li
          key={m.minute}
          title={`${new Date(m.minute).toLocaleTimeString()}: ${m.total} runs, ${m.failed} failed`}
        >
          <span className="bar" style={{ height: `${(m.total / max) * 100}%` }}>
            {m.failed > 0 && (
              <span className="bar-failed" style={{ height: `${(m.failed / m.total) * 100}%` }} />
            )}
          </span>
          <span className="sr-only">
            {new Date(m.minute).toLocaleTimeString()}: {m.total} runs, {m.failed} failed
          </span>
        </li>
      ))}
    </ol>
  );
}
