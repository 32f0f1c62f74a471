// Small shared pieces: times, status badges, JSON that collapses when large,
// and the error line every page uses.
import type { ReactNode } from 'react';

export function ago(at: string | null | undefined, now = Date.now()): string {
  if (!at) return '—';
  const s = Math.round((now - new Date(at).getTime()) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  const text =
    a < 60
      ? `${a} s`
      : a < 3600
        ? `${Math.round(a / 60)} min`
        : a < 86400
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function Time(props: { at: string | null | undefined }) {
  if (!props.at) return <span>—</span>;
  return (
    <time dateTime={props.at} title={new Date(props.at).toLocaleString()}>
      {ago(props.at)}
    </time>
  );
}

export function Badge(props: { value: string; label?: string }) {
  return (
    <span className={`badge badge-${props.value.replace(/[^a-z_]/gi, '')}`}>
      {props.label ?? props.value.replace(/_/g, ' ')}
    </span>
  );
}

/** JSON shown in a <pre>; over 2 KB (or when asked) it starts collapsed so the page stays light. */
export function JsonView(props: { value: unknown; label: string; collapsed?: boolean }) {
  if (props.value === undefined || props.value === null)
    return <p className="muted">{props.label}: none</p>;
  const text = JSON.stringify(props.value, null, 2);
  const large = text.length > 2048;
  return (
    <details open={!large && !props.collapsed} className="json">
      <summary>
        {props.label}
        {large ? ` (${Math.round(text.length / 1024)} KB, collapsed)` : ''}
      </summary>
      <pre tabIndex={0}>{large ? text.slice(0, 200_000) : text}</pre>
    </details>
  );
}

export function ErrorLine(props: { error: unknown }) {
  if (!props.error) return null;
  const message = props.error instanceof Error ? props.error.message : String(props.error);
  return (
    <p role="alert" className="error">
      {message}
    </p>
  );
}

export function Section(props: { title: string; children: ReactNode; id?: string }) {
  const id = props.id ?? props.title.toLowerCase().replace(/[^a-z]+/g, '-');
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** A definition list of label/value pairs. */
export function Facts(props: { items: [string, ReactNode][]; label?: string }) {
  return (
    <dl className="facts" aria-label={props.label}>
      {props.items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A monitor's recent checks as heartbeat bars, oldest first; each bar says its result to screen readers. */
export function Heartbeat(props: {
  label: string;
  checks: { at: string; ok: boolean; latencyMs: number }[];
}) {
  if (props.checks.length === 0) return <span className="muted">no checks yet</span>;
  const up = props.checks.filter((c) => c.ok).length;
  return (
    <ol
      className="heartbeat"
      aria-label={`${props.label}: ${up} of ${props.checks.length} checks up`}
    >
      {props.checks.map((c, i) => (
        <li
          key={`${c.at}-${i}`}
          className={c.ok ? 'hb-up' : 'hb-down'}
          title={`${new Date(c.at).toLocaleString()}: ${c.ok ? 'up' : 'down'}, ${Math.round(c.latencyMs)} ms`}
        >
          <span className="sr-only">
            {new Date(c.at).toLocaleTimeString()} {c.ok ? 'up' : 'down'}
          </span>
        </li>
      ))}
    </ol>
  );
}
