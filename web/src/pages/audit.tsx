// The audit log (admins only): every command, query and action anyone or
// anything asked Warden to run, allowed or refused, newest first, filtered
// by who asked, what, the decision and a time range (kept in the address),
// with older records loaded by cursor, and whether the hash chain holds.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { api, qs } from '../api.ts';
import { navigate, useLocation } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Badge, ErrorLine, JsonView, Section } from '../ui.tsx';

type AuditRecord = {
  seq: number;
  at: string;
  caller: { kind: string; id?: string };
  operation: string;
  input: unknown;
  argv: string[] | null;
  decision: 'allowed' | 'refused' | 'failed';
  rule: string;
  exitCode: number | null;
  durationMs: number | null;
  hash: string;
};
type AuditPage = { records: AuditRecord[]; nextCursor: number | null };
type ChainCheck =
  { ok: true; records: number } | { ok: false; records: number; brokenSeq: number; reason: string };
type Verify = { ok: boolean; database: ChainCheck; file: ChainCheck };

/** A datetime-local value (local time, no zone) as the ISO instant the API takes. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function ChainState(props: { label: string; check: ChainCheck }) {
  const { label, check } = props;
  return check.ok ? (
    <li>
      {label}: <Badge value="verified" label="intact" /> {check.records} records
    </li>
  ) : (
    <li>
      {label}: <Badge value="failed" label="broken" /> at record {check.brokenSeq}: {check.reason}
    </li>
  );
}

export function AuditPage() {
  const isAdmin = useCan('admin');
  const { search } = useLocation();
  const filters = {
    actor: search.get('actor') ?? '',
    action: search.get('action') ?? '',
    decision: search.get('decision') ?? '',
    from: search.get('from') ?? '',
    to: search.get('to') ?? '',
  };
  const params = {
    actor: filters.actor || undefined,
    action: filters.action || undefined,
    decision: filters.decision || undefined,
    from: toIso(filters.from),
    to: toIso(filters.to),
  };
  const pages = useInfiniteQuery({
    queryKey: ['audit', params],
    enabled: isAdmin,
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      api<AuditPage>(`/api/v1/audit${qs({ ...params, cursor: pageParam, limit: 50 })}`),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const verify = useQuery({
    queryKey: ['audit-verify'],
    enabled: isAdmin,
    queryFn: () => api<Verify>('/api/v1/audit/verify'),
  });
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const s = next.toString();
    navigate(`/audit${s ? `?${s}` : ''}`, { replace: true });
  };
  if (!isAdmin)
    return (
      <>
        <h1>Audit log</h1>
        <p>The audit log is for admins.</p>
      </>
    );
  const records = pages.data?.pages.flatMap((p) => p.records) ?? [];
  return (
    <>
      <h1>Audit log</h1>
      <Section title="Chain verification">
        <ErrorLine error={verify.error} />
        {verify.data ? (
          <>
            <p>
              <strong>
                {verify.data.ok
                  ? 'The chain is intact: no record was changed, removed or reordered.'
                  : 'The chain is broken: a record was changed, removed or reordered.'}
              </strong>
            </p>
            <ul className="list">
              <ChainState label="Database" check={verify.data.database} />
              <ChainState label="File copy" check={verify.data.file} />
            </ul>
          </>
        ) : (
          !verify.error && <p role="status">Checking…</p>
        )}
        <button type="button" onClick={() => void verify.refetch()} disabled={verify.isFetching}>
          Verify again
        </button>
      </Section>
      <form
        className="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Actor
          <input
            value={filters.actor}
            placeholder="mcp, cli:…, healing:12"
            onChange={(e) => set('actor', e.target.value)}
          />
        </label>
        <label>
          Action or operation
          <input
            value={filters.action}
            placeholder="run_action, service.restart"
            onChange={(e) => set('action', e.target.value)}
          />
        </label>
        <label>
          Decision
          <select value={filters.decision} onChange={(e) => set('decision', e.target.value)}>
            <option value="">any</option>
            <option value="allowed">allowed</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={filters.from}
            onChange={(e) => set('from', e.target.value)}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={filters.to}
            onChange={(e) => set('to', e.target.value)}
          />
        </label>
      </form>
      <ErrorLine error={pages.error} />
      {pages.isPending ? (
        <p role="status">Loading…</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>
              {records.length} record{records.length === 1 ? '' : 's'}
              {pages.hasNextPage ? ' (older ones below)' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">At</th>
                <th scope="col">Actor</th>
                <th scope="col">Operation</th>
                <th scope="col">Decision</th>
                <th scope="col">Rule</th>
                <th scope="col">Input</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.seq}>
                  <td>{r.seq}</td>
                  <td>
                    <time dateTime={r.at}>{new Date(r.at).toLocaleString()}</time>
                  </td>
                  <td>
                    {r.caller.kind}
                    {r.caller.id ? `:${r.caller.id}` : ''}
                  </td>
                  <td>{r.operation}</td>
                  <td>
                    <Badge value={r.decision} />
                  </td>
                  <td>
                    <code>{r.rule}</code>
                  </td>
                  <td>
                    <JsonView label="Input" value={r.input} collapsed />
                    {r.argv && <code>{r.argv.join(' ')}</code>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages.hasNextPage && (
        <button
          type="button"
          onClick={() => void pages.fetchNextPage()}
          disabled={pages.isFetchingNextPage}
        >
          Load older records
        </button>
      )}
    </>
  );
}
