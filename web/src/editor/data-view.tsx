// A node's data from a run: JSON, or a table when it is a list of objects
// (the usual shape of items), with one column per field seen.
import { useState } from 'react';

import { isObject } from './model.ts';

function cell(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function DataView(props: { label: string; value: unknown }) {
  const { label, value } = props;
  const rows = Array.isArray(value) && value.length > 0 && value.every(isObject) ? value : null;
  const [mode, setMode] = useState<'json' | 'table'>(rows ? 'table' : 'json');
  const columns = rows ? [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 30) : [];
  return (
    <section className="wf-data" aria-label={label}>
      <div className="wf-data-head">
        <h3>{label}</h3>
        {rows ? (
          <div role="group" aria-label={`${label} view`}>
            <button type="button" aria-pressed={mode === 'table'} onClick={() => setMode('table')}>
              Table
            </button>
            <button type="button" aria-pressed={mode === 'json'} onClick={() => setMode('json')}>
              JSON
            </button>
          </div>
        ) : null}
      </div>
      {rows && mode === 'table' ? (
        <div className="wf-table-wrap" tabIndex={0} role="region" aria-label={`${label}, table`}>
          <table>
            <caption className="sr-only">{label}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, 200).map((r, i) => (
                <tr key={i}>
                  <td>{i}</td>
                  {columns.map((c) => (
                    <td key={c}>{cell(r[c])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <pre className="wf-json" tabIndex={0}>
          {JSON.stringify(value, null, 2)}
        </pre>
      )}
    </section>
  );
}
