// Admin: users, API keys and alert endpoints (and, from admin-ops.tsx,
// notifications, maintenance, monitors and settings). A new key's secret and a new
// endpoint's token are shown once, with a copy button and the ready-made
// sender URLs; the API never shows them again.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, listAll } from '../api.ts';
import { useCan, useSession } from '../session.tsx';
import { ErrorLine, Section, Time } from '../ui.tsx';
import { AdminOperations } from './admin-ops.tsx';

type User = {
  id: number;
  username: string;
  role: string;
  createdAt: string;
  disabledAt: string | null;
};
type ApiKey = {
  id: number;
  name: string;
  prefix: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};
type Endpoint = {
  id: number;
  name: string;
  source: string;
  tokenPrefix: string;
  signed: boolean;
  lastUsedAt: string | null;
  disabledAt: string | null;
  urls: { withHeader: string; withTokenInPath: string };
};
const roles = ['viewer', 'operator', 'admin'];
const sources = ['uptime-kuma', 'alertmanager', 'grafana', 'generic'];

/** A secret shown once: read-only, selectable, with a copy button. */
function Secret(props: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret">
      <label>
        {props.label}
        <input readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard?.writeText(props.value).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        {copied ? 'Copied' : `Copy ${props.label.charAt(0).toLowerCase()}${props.label.slice(1)}`}
      </button>
    </div>
  );
}

function useWrite<T>(fn: (body: T) => Promise<unknown>, key: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => void client.invalidateQueries({ queryKey: [key] }),
  });
}

function Users() {
  const { session } = useSession();
  const list = useQuery({
    queryKey: ['users'],
    queryFn: async () => ({ users: await listAll<User>('/api/v1/users', 'users') }),
  });
  const create = useWrite(
    (body: { username: string; password: string; role: string }) =>
      api('/api/v1/users', { method: 'POST', body }),
    'users',
  );
  const disable = useWrite(
    (username: string) =>
      api(`/api/v1/users/${encodeURIComponent(username)}/disable`, { method: 'POST' }),
    'users',
  );
  return (
    <Section title="Users">
      <ErrorLine error={list.error ?? disable.error} />
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Users</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.users ?? []).map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>{u.role}</td>
                <td>
                  <Time at={u.createdAt} />
                </td>
                <td>
                  {u.disabledAt ? (
                    'disabled'
                  ) : u.username === session?.username ? (
                    'you'
                  ) : (
                    <button
                      type="button"
                      className="link"
                      onClick={() => disable.mutate(u.username)}
                    >
                      Disable {u.username}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        aria-label="Add a user"
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const form = e.currentTarget;
          create.mutate(
            {
              username: String(f.get('username')),
              password: String(f.get('password')),
              role: String(f.get('role')),
            },
            { onSuccess: () => form.reset() },
          );
        }}
      >
        <label>
          New username
          <input name="username" required autoComplete="off" />
        </label>
        <label>
          Password (12 characters or more)
          <input
            name="password"
            type="password"
            minLength={12}
            required
            autoComplete="new-password"
          />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Add user
        </button>
      </form>
      <ErrorLine error={create.error} />
    </Section>
  );
}

function ApiKeys() {
  const list = useQuery({
    queryKey: ['api-keys'],
    queryFn: async () => ({ apiKeys: await listAll<ApiKey>('/api/v1/api-keys', 'apiKeys') }),
  });
  const [secret, setSecret] = useState<string | null>(null);
  const create = useWrite(async (body: { name: string; role: string }) => {
    const r = await api<{ secret: string }>('/api/v1/api-keys', { method: 'POST', body });
    setSecret(r.secret);
  }, 'api-keys');
  const revoke = useWrite(
    (id: number) => api(`/api/v1/api-keys/${id}`, { method: 'DELETE' }),
    'api-keys',
  );
  return (
    <Section title="API keys">
      <ErrorLine error={list.error ?? revoke.error} />
      {secret && (
        <div className="notice" role="status">
          <p>The new key is shown this once; store it now.</p>
          <Secret label="New API key" value={secret} />
        </div>
      )}
      <ul className="list">
        {(list.data?.apiKeys ?? []).map((k) => (
          <li key={k.id}>
            {k.name} ({k.role}, {k.prefix}…),{' '}
            {k.lastUsedAt ? (
              <>
                used <Time at={k.lastUsedAt} />
              </>
            ) : (
              'never used'
            )}{' '}
            {k.revokedAt ? (
              'revoked'
            ) : (
              <button type="button" className="link" onClick={() => revoke.mutate(k.id)}>
                Revoke {k.name}
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        aria-label="Create an API key"
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          create.mutate({ name: String(f.get('name')), role: String(f.get('role')) });
        }}
      >
        <label>
          Key name
          <input name="name" required />
        </label>
        <label>
          Key role
          <select name="role" defaultValue="operator">
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorLine error={create.error} />
    </Section>
  );
}

function AlertEndpoints() {
  const list = useQuery({
    queryKey: ['alert-endpoints'],
    queryFn: async () => ({
      alertEndpoints: await listAll<Endpoint>('/api/v1/alert-endpoints', 'alertEndpoints'),
    }),
  });
  const [made, setMade] = useState<{
    token: string;
    hmacSecret?: string;
    urls: Endpoint['urls'];
  } | null>(null);
  const create = useWrite(async (body: { name: string; source: string }) => {
    setMade(
      await api<{ token: string; hmacSecret?: string; urls: Endpoint['urls'] }>(
        '/api/v1/alert-endpoints',
        {
          method: 'POST',
          body,
        },
      ),
    );
  }, 'alert-endpoints');
  const remove = useWrite(
    (id: number) => api(`/api/v1/alert-endpoints/${id}`, { method: 'DELETE' }),
    'alert-endpoints',
  );
  return (
    <Section title="Alert endpoints">
      <ErrorLine error={list.error ?? remove.error} />
      {made && (
        <div className="notice" role="status">
          <p>The token is shown this once. Give the sender one of these:</p>
          <Secret label="Sender URL" value={made.urls.withTokenInPath} />
          <Secret label="Endpoint token" value={made.token} />
          {made.hmacSecret && <Secret label="Signing secret" value={made.hmacSecret} />}
          <p>
            Or post to <code>{made.urls.withHeader}</code> with <code>Authorization: Bearer</code>{' '}
            and the token.
          </p>
        </div>
      )}
      <ul className="list">
        {(list.data?.alertEndpoints ?? []).map((a) => (
          <li key={a.id}>
            {a.name} ({a.source}, {a.tokenPrefix}…),{' '}
            {a.lastUsedAt ? (
              <>
                last alert <Time at={a.lastUsedAt} />
              </>
            ) : (
              'no alert yet'
            )}{' '}
            <button type="button" className="link" onClick={() => remove.mutate(a.id)}>
              Delete {a.name}
            </button>
          </li>
        ))}
      </ul>
      <form
        aria-label="Add an alert endpoint"
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          create.mutate({ name: String(f.get('name')), source: String(f.get('source')) });
        }}
      >
        <label>
          Endpoint name
          <input
            name="name"
            required
            pattern="[a-z0-9][a-z0-9_\-]{0,62}"
            title="lower-case letters, digits, dashes and underscores"
          />
        </label>
        <label>
          Sender
          <select name="source" defaultValue="uptime-kuma">
            {sources.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Add endpoint
        </button>
      </form>
      <ErrorLine error={create.error} />
    </Section>
  );
}

export function AdminPage() {
  const isAdmin = useCan('admin');
  if (!isAdmin)
    return (
      <>
        <h1>Admin</h1>
        <p>Only an admin can manage users, keys and alert endpoints.</p>
      </>
    );
  return (
    <>
      <h1>Admin</h1>
      <Users />
      <ApiKeys />
      <AlertEndpoints />
      <AdminOperations />
    </>
  );
}
