// The action catalogue: everything Warden may run, with its risk, typed
// parameters, the probe that tells whether a change worked and what undoes
// it. Read-only for every role.
import type { ParamSpec } from '../resolve-form.ts';
import { Badge, ErrorLine } from '../ui.tsx';
import { useCatalogue } from './incident-actions.tsx';

function describeParam(name: string, spec: ParamSpec): string {
  const rule =
    spec.type === 'enum'
      ? `one of ${spec.values.join(', ')}`
      : spec.type === 'integer'
        ? `integer ${spec.min} to ${spec.max}`
        : spec.type === 'regex'
          ? `matching ${spec.pattern}`
          : spec.type === 'path'
            ? 'a file under the allowed roots'
            : spec.type === 'unit'
              ? 'an allowed unit'
              : 'a container';
  return `${name}: ${rule}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`;
}

export function CataloguePage() {
  const q = useCatalogue();
  return (
    <>
      <h1>Action catalogue</h1>
      <p className="muted">
        Warden runs only these actions. Read actions run by themselves; change actions run when
        memory or the model proposes them and the gates allow; dangerous ones wait for a person.
      </p>
      <ErrorLine error={q.error} />
      {!q.data ? (
        <p role="status">Loading…</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>{q.data.actions.length} actions</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Risk</th>
                <th scope="col">Parameters</th>
                <th scope="col">Runs</th>
                <th scope="col">Verified by</th>
                <th scope="col">Undone by</th>
              </tr>
            </thead>
            <tbody>
              {q.data.actions.map((a) => (
                <tr key={a.name}>
                  <th scope="row">
                    <code>{a.name}</code>
                    <br />
                    <span className="muted">{a.description}</span>
                  </th>
                  <td>
                    <Badge value={a.risk} />
                  </td>
                  <td>
                    {Object.keys(a.params).length === 0 ? (
                      <span className="muted">none</span>
                    ) : (
                      <ul className="list">
                        {Object.entries(a.params).map(([n, spec]) => (
                          <li key={n}>{describeParam(n, spec)}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    <code>{a.argv ? a.argv.join(' ') : `built in: ${a.builtin ?? ''}`}</code>
                  </td>
                  <td>{a.verify ? <code>{a.verify.argv.join(' ')}</code> : '—'}</td>
                  <td>{a.rollback ? <code>{a.rollback.action}</code> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
