// The console's entry: session, queries, live updates and the routes.
import './styles.css';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, StrictMode, Suspense, useEffect, useRef } from 'react';
import { createRoot } from 'react-dom/client';

import { ApiError } from './api.ts';
import { useLiveUpdates } from './live.ts';
import { AdminPage } from './pages/admin.tsx';
import { AuditPage } from './pages/audit.tsx';
import { CataloguePage } from './pages/catalogue.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { ExecutionPage, ExecutionsPage } from './pages/executions.tsx';
import { IncidentPage } from './pages/incident.tsx';
import { IncidentsPage } from './pages/incidents.tsx';
import { LoginPage } from './pages/login.tsx';
import { MemoryPage } from './pages/memory.tsx';
import { MemoryRecordPage } from './pages/memory-record.tsx';
import { Link, match, useLocation } from './router.tsx';
import { SessionProvider, useCan, useSession } from './session.tsx';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A refusal will not change by asking again.
      retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
    },
  },
});

// The workflow editor (React Flow, JSONata) loads only when a workflow page is opened.
const EditorRoutes = lazy(() => import('./editor/index.tsx'));

const nav = [
  { to: '/', label: 'Dashboard' },
  { to: '/incidents', label: 'Incidents' },
  { to: '/executions', label: 'Executions' },
  { to: '/workflows', label: 'Workflows' },
  { to: '/memory', label: 'Memory' },
  { to: '/catalogue', label: 'Catalogue' },
];

function Page(props: { path: string; search: URLSearchParams }) {
  const { path } = props;
  let m: Record<string, string> | null;
  if (path === '/') return <DashboardPage />;
  if (path === '/incidents') return <IncidentsPage />;
  if ((m = match('/incidents/:id', path))) return <IncidentPage id={Number(m.id)} />;
  if (path === '/executions') return <ExecutionsPage />;
  if ((m = match('/executions/:id', path))) return <ExecutionPage id={m.id!} />;
  if (path === '/memory') return <MemoryPage />;
  if ((m = match('/memory/:id', path))) return <MemoryRecordPage id={m.id!} />;
  if (path === '/catalogue') return <CataloguePage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/admin') return <AdminPage />;
  if (path === '/workflows' || path.startsWith('/workflows/'))
    return (
      <Suspense fallback={<p role="status">Loading the editor…</p>}>
        <EditorRoutes path={path} search={props.search} />
      </Suspense>
    );
  return (
    <>
      <h1>Not found</h1>
      <p>
        Nothing lives at {path}. <Link to="/">Go to the dashboard</Link>.
      </p>
    </>
  );
}

function Shell() {
  const { session, logout, expire } = useSession();
  const { path, search } = useLocation();
  const live = useLiveUpdates({ enabled: !!session, onExpired: expire });
  const main = useRef<HTMLElement>(null);
  const isAdmin = useCan('admin');
  const links = isAdmin
    ? [...nav, { to: '/audit', label: 'Audit' }, { to: '/admin', label: 'Admin' }]
    : nav;
  const title = links.find((n) => n.to === path)?.label;
  useEffect(() => {
    document.title = title ? `${title} · Warden` : 'Warden';
  }, [title]);
  // After a client-side move, put focus on the new page for screen readers.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path]);

  if (session === undefined) return <p role="status">Loading…</p>;
  if (session === null) return <LoginPage />;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Warden</span>
        <nav aria-label="Main">
          <ul>
            {links.map((n) => {
              const current = n.to === '/' ? path === '/' : path.startsWith(n.to);
              return (
                <li key={n.to}>
                  <Link to={n.to} aria-current={current ? 'page' : undefined}>
                    {n.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <span className={`live live-${live}`} role="status" aria-live="polite">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Offline'}
        </span>
        {/* The API reference is served by the server, outside the app's routes. */}
        <a href="/api/v1/docs/">API reference</a>
        <span className="who">
          {session.username} ({session.role})
        </span>
        <button type="button" className="link" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page path={path} search={search} />
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
