// The operating side of admin: notification channels (secrets masked) with
// a test send, maintenance windows (list, create, end or cancel), monitors
// (list with their recent checks, create, pause, check now) and the
// settings, read-only with secrets masked.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { useState } from 'react';

import { api, listAll } from '../api.ts';
import { Badge, ErrorLine, Heartbeat, Section, Time } from '../ui.tsx';

type Setting = { key: string; env: string; value: unknown; default?: unknown };
type Channel = { name: string; settings: Setting[] };
type Delivery = { channel: string; status: string; error?: string };
type Window = {
  id: number;
  service: string | null;
  matchers: Record<string, string>;
  reason: string;
  startsAt: string;
  endsAt: string;
  createdBy: string;
};
type Monitor = {
  id: number;
  name: string;
  service: string;
  enabled: boolean;
  state: string;
  spec: { kind: string; url?: string; host?: string; port?: number; action?: string };
  intervalMs: number;
  lastCheckedAt: string | null;
};
type Check = { at: string; ok: boolean; latencyMs: number; detail: string };

function show(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function useInvalidate(key: string) {
  const client = useQueryClient();
  return () => void client.invalidateQueries({ queryKey: [key] });
}

function NotificationChannels() {
  const list = useQuery({
    queryKey: ['channels'],
    queryFn: async () => ({
      channels: await listAll<Channel>('/api/v1/notifications/channels', 'channels'),
    }),
  });
  const test = useMutation({
    mutationFn: () =>
      api<{ results: Delivery[] }>('/api/v1/notifications/test', { method: 'POST', body: {} }),
  });
  const channels = list.data?.channels ?? [];
  return (
    <Section title="Notification channels">
      <ErrorLine error={list.error} />
      {list.data && channels.length === 0 && (
        <p className="muted">
          No channel is configured. Set WARDEN_NOTIFY_WEBHOOK_URL, TELEGRAM_BOT_TOKEN and
          TELEGRAM_CHAT_ID, SLACK_WEBHOOK_URL, or SMTP_URL and WARDEN_NOTIFY_EMAIL_TO.
        </p>
      )}
      <ul className="list">
        {channels.map((c) => (
          <li key={c.name}>
            <strong>{c.name}</strong>:{' '}
            {c.settings.map((s) => `${s.env} = ${show(s.value)}`).join('; ')}
          </li>
        ))}
      </ul>
      {channels.length > 0 && (
        <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
          Send a test notification
        </button>
      )}
      <ErrorLine error={test.error} />
      {test.data && (
        <div role="status" aria-label="Test results">
          <ul className="list">
            {test.data.results.map((r) => (
              <li key={r.channel}>
                {r.channel}:{' '}
                <Badge value={r.status === 'sent' ? 'succeeded' : 'failed'} label={r.status} />
                {r.error ? ` ${r.error}` : ''}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Section>
  );
}

function MaintenanceWindows() {
  const refresh = useInvalidate('maintenance');
  const list = useQuery({
    queryKey: ['maintenance'],
    queryFn: async () => ({
      maintenanceWindows: await listAll<Window>(
        '/api/v1/maintenance-windows',
        'maintenanceWindows',
      ),
    }),
  });
  const [service, setService] = useState('');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('60');
  const create = useMutation({
    mutationFn: () =>
      api('/api/v1/maintenance-windows', {
        method: 'POST',
        body: {
          ...(service.trim() ? { service: service.trim() } : {}),
          reason,
          endsAt: new Date(Date.now() + Number(minutes) * 60_000).toISOString(),
        },
      }),
    onSuccess: () => {
      setReason('');
      refresh();
    },
  });
  const end = useMutation({
    mutationFn: (w: { id: number; active: boolean }) =>
      w.active
        ? api(`/api/v1/maintenance-windows/${w.id}/end`, { method: 'POST', body: {} })
        : api(`/api/v1/maintenance-windows/${w.id}`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  const now = Date.now();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Section title="Maintenance windows">
      <ErrorLine error={list.error ?? end.error} />
      {list.data?.maintenanceWindows.length === 0 && (
        <p className="muted">No window is in effect or planned.</p>
      )}
      <ul className="list">
        {list.data?.maintenanceWindows.map((w) => {
          const active = new Date(w.startsAt).getTime() <= now;
          return (
            <li key={w.id}>
              <Badge
                value={active ? 'running' : 'pending'}
                label={active ? 'in effect' : 'planned'}
              />{' '}
              {w.service ?? 'all services'}: {w.reason}, until <Time at={w.endsAt} /> (by{' '}
              {w.createdBy}){' '}
              <button
                type="button"
                className="link"
                onClick={() => end.mutate({ id: w.id, active })}
                aria-label={`${active ? 'End' : 'Cancel'} the window for ${w.service ?? 'all services'}: ${w.reason}`}
              >
                {active ? 'End now' : 'Cancel'}
              </button>
            </li>
          );
        })}
      </ul>
      <form className="filters" aria-label="New maintenance window" onSubmit={submit}>
        <label>
          Service (empty: all)
          <input value={service} maxLength={200} onChange={(e) => setService(e.target.value)} />
        </label>
        <label>
          Reason
          <input
            value={reason}
            maxLength={500}
            required
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
        <label>
          Minutes from now
          <input
            type="number"
            min={1}
            max={10080}
            value={minutes}
            onChange={(e) => setMinutes(e.target.value)}
          />
        </label>
        <button type="submit" disabled={create.isPending}>
          Start maintenance
        </button>
      </form>
      <ErrorLine error={create.error} />
    </Section>
  );
}

function MonitorRow(props: { monitor: Monitor; onChange: () => void }) {
  const { monitor: m } = props;
  const checks = useQuery({
    queryKey: ['monitors', m.id, 'checks'],
    // The API pages newest first; the heartbeat reads left to right, oldest first.
    queryFn: async () => ({
      checks: (
        await api<{ checks: Check[] }>(`/api/v1/monitors/${m.id}/checks?limit=50`)
      ).checks.reverse(),
    }),
  });
  const change = useMutation({
    mutationFn: (what: 'pause' | 'resume' | 'check') =>
      what === 'check'
        ? api(`/api/v1/monitors/${m.id}/check`, { method: 'POST' })
        : api(`/api/v1/monitors/${m.id}`, {
            method: 'PATCH',
            body: { enabled: what === 'resume' },
          }),
    onSuccess: props.onChange,
  });
  const target = m.spec.url ?? (m.spec.host ? `${m.spec.host}:${m.spec.port}` : m.spec.action);
  return (
    <tr>
      <th scope="row">
        {m.name}
        <br />
        <span className="muted">
          {m.spec.kind} {target}, every {Math.round(m.intervalMs / 1000)} s
        </span>
      </th>
      <td>
        <Badge value={m.enabled ? m.state : 'paused'} />
      </td>
      <td>
        <Heartbeat label={`${m.name} recent checks`} checks={checks.data?.checks ?? []} />
        <ErrorLine error={change.error} />
      </td>
      <td>
        <button
          type="button"
          className="link"
          onClick={() => change.mutate(m.enabled ? 'pause' : 'resume')}
        >
          {m.enabled ? `Pause ${m.name}` : `Resume ${m.name}`}
        </button>{' '}
        <button type="button" className="link" onClick={() => change.mutate('check')}>
          Check {m.name} now
        </button>
      </td>
    </tr>
  );
}

function Monitors() {
  const client = useQueryClient();
  const refresh = () => void client.invalidateQueries({ queryKey: ['monitors'] });
  const list = useQuery({
    queryKey: ['monitors'],
    queryFn: async () => ({ monitors: await listAll<Monitor>('/api/v1/monitors', 'monitors') }),
  });
  const [name, setName] = useState('');
  const [service, setService] = useState('');
  const [kind, setKind] = useState<'http' | 'tcp'>('http');
  const [target, setTarget] = useState('');
  const [interval, setIntervalSeconds] = useState('60');
  const create = useMutation({
    mutationFn: () => {
      const [host, port] = target.split(/:(?=\d+$)/);
      return api('/api/v1/monitors', {
        method: 'POST',
        body: {
          name,
          service,
          intervalMs: Number(interval) * 1000,
          spec:
            kind === 'http'
              ? { kind, url: target }
              : { kind, host: host ?? '', port: Number(port ?? 0) },
        },
      });
    },
    onSuccess: () => {
      setName('');
      setTarget('');
      refresh();
    },
  });
  return (
    <Section title="Monitors">
      <ErrorLine error={list.error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Monitors</caption>
          <thead>
            <tr>
              <th scope="col">Monitor</th>
              <th scope="col">State</th>
              <th scope="col">Recent checks</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.monitors ?? []).map((m) => (
              <MonitorRow key={m.id} monitor={m} onChange={refresh} />
            ))}
          </tbody>
        </table>
      </div>
      <form
        className="filters"
        aria-label="New monitor"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <label>
          Monitor name
          <input value={name} required maxLength={100} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Monitor service
          <input
            value={service}
            required
            maxLength={100}
            onChange={(e) => setService(e.target.value)}
          />
        </label>
        <label>
          Check type
          <select value={kind} onChange={(e) => setKind(e.target.value === 'tcp' ? 'tcp' : 'http')}>
            <option value="http">HTTP</option>
            <option value="tcp">TCP</option>
          </select>
        </label>
        <label>
          {kind === 'http' ? 'URL' : 'Host:port'}
          <input value={target} required onChange={(e) => setTarget(e.target.value)} />
        </label>
        <label>
          Every (seconds)
          <input
            type="number"
            min={1}
            value={interval}
            onChange={(e) => setIntervalSeconds(e.target.value)}
          />
        </label>
        <button type="submit" disabled={create.isPending}>
          Add monitor
        </button>
      </form>
      <ErrorLine error={create.error} />
    </Section>
  );
}

function Settings() {
  const list = useQuery({
    queryKey: ['settings'],
    queryFn: async () => ({ settings: await listAll<Setting>('/api/v1/settings', 'settings') }),
  });
  return (
    <Section title="Settings">
      <p className="muted">
        Read-only: set them in the environment or the .env file and restart. Secrets are masked.
      </p>
      <ErrorLine error={list.error} />
      <details>
        <summary>All {list.data?.settings.length ?? ''} settings</summary>
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Settings</caption>
            <thead>
              <tr>
                <th scope="col">Setting</th>
                <th scope="col">Variable</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {(list.data?.settings ?? []).map((s) => (
                <tr key={s.key}>
                  <td>{s.key}</td>
                  <td>
                    <code>{s.env}</code>
                  </td>
                  <td>{show(s.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </Section>
  );
}

export function AdminOperations() {
  return (
    <>
      <NotificationChannels />
      <MaintenanceWindows />
      <Monitors />
      <Settings />
    </>
  );
}
