// The parameter panel, generated from the node type's parameter specs: one
// field per parameter with the widget its type calls for, the problems the
// server's validator reports for it (checked as you type), completions
// while typing an expression (expression-box.tsx), and a live preview of
// every expression in it on the last run's data.
import { useEffect, useRef, useState } from 'react';

import { nodeRef } from './autocomplete.ts';
import { ExpressionBox } from './expression-box.tsx';
import type { PreviewContext } from './expressions.ts';
import { findExpressions, preview } from './expressions.ts';
import type { FlowNode, NodeTypeInfo, ParamSpec, Problem, WorkflowNodeDoc } from './model.ts';
import { isExpression, isObject } from './model.ts';

/** Paths of the fields in an item, two levels deep, for the field suggestions. */
export function fieldPaths(item: Record<string, unknown>, max = 24): string[] {
  const out: string[] = [];
  const safe = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `\`${k.replace(/`/g, '')}\``);
  for (const [k, v] of Object.entries(item)) {
    out.push(safe(k));
    if (isObject(v))
      for (const k2 of Object.keys(v).slice(0, 8)) out.push(`${safe(k)}.${safe(k2)}`);
  }
  return out.slice(0, max);
}

/** Buttons that insert the last run's fields into an expression at the cursor. */
function Suggestions(props: {
  context: PreviewContext | null;
  /** '`' in a JSON parameter, where a double quote would end its string. */
  quote: '"' | '`';
  onInsert(text: string): void;
}) {
  if (!props.context) return null;
  const paths = fieldPaths(props.context.json);
  const nodes = Object.keys(props.context.nodes).slice(0, 8);
  if (paths.length === 0 && nodes.length === 0) return null;
  return (
    <div className="wf-suggest" role="group" aria-label="Insert a field from the last run">
      {paths.map((p) => (
        <button key={p} type="button" onClick={() => props.onInsert(`{{ $json.${p} }}`)}>
          $json.{p}
        </button>
      ))}
      {nodes.map((n) => (
        <button
          key={`node:${n}`}
          type="button"
          onClick={() => props.onInsert(`{{ ${nodeRef(n, props.quote)}.json }}`)}
        >
          $node."{n}"
        </button>
      ))}
    </div>
  );
}

export type PanelProps = {
  /** Names of stored credentials, offered for a `credential` parameter. */
  credentials?: string[];
  node: FlowNode;
  info: NodeTypeInfo | undefined;
  problems: Problem[];
  context: PreviewContext | null;
  /** Names of the nodes upstream of this one, offered as $node references. */
  upstream?: string[];
  readOnly: boolean;
  nameTaken(name: string): boolean;
  onChange(doc: WorkflowNodeDoc, options: { field: string }): void;
};

function Preview(props: { value: unknown; context: PreviewContext | null }) {
  const { context } = props;
  const exprs = findExpressions(props.value);
  const [results, setResults] = useState<{ path: string; text: string; ok: boolean }[]>([]);
  // The value's JSON is the dependency: objects are rebuilt on every render.
  const key = JSON.stringify(props.value ?? null);
  useEffect(() => {
    let live = true;
    const ctx = context ?? { json: {}, input: [], nodes: {} };
    void Promise.all(
      findExpressions(JSON.parse(key)).map(async (e) => {
        const r = await preview(e.source, ctx);
        return r.ok
          ? { path: e.path, ok: true, text: JSON.stringify(r.value) }
          : { path: e.path, ok: false, text: r.error };
      }),
    ).then((r) => live && setResults(r));
    return () => {
      live = false;
    };
  }, [key, context]);
  if (exprs.length === 0) return null;
  return (
    <div className="wf-preview" aria-live="polite">
      <div className="wf-preview-title">
        Preview {context ? 'on the last run’s data' : '(no run yet: $json is {})'}
      </div>
      {results.map((r) => (
        <div key={r.path} className={r.ok ? 'wf-preview-ok' : 'wf-preview-bad'}>
          {r.path ? <code>{r.path}</code> : null} {r.ok ? `→ ${r.text}` : `error: ${r.text}`}
        </div>
      ))}
    </div>
  );
}

function textOf(spec: ParamSpec, value: unknown): string {
  if (value === undefined) return '';
  if (spec.type === 'json' && !isExpression(value)) return JSON.stringify(value, null, 2);
  return String(value);
}

function Field(props: {
  spec: ParamSpec;
  value: unknown;
  id: string;
  problems: Problem[];
  context: PreviewContext | null;
  upstream: string[];
  readOnly: boolean;
  /** Names of stored credentials (admins only; values are never sent). */
  credentials?: string[];
  onValue(v: unknown): void;
}) {
  const { spec, value, id, readOnly } = props;
  const [text, setText] = useState(textOf(spec, value));
  const box = useRef<HTMLTextAreaElement>(null);
  const [local, setLocal] = useState<string | null>(null);
  const [exprMode, setExprMode] = useState(isExpression(value));
  const set = (t: string) => {
    setText(t);
    if (t === '') {
      setLocal(null);
      return props.onValue(undefined);
    }
    if (spec.type === 'json') {
      // JSON first: an object whose values hold "{{ }}" is JSON, not one expression.
      try {
        props.onValue(JSON.parse(t));
        setLocal(null);
      } catch (err) {
        if (isExpression(t) && !/^\s*[[{]/.test(t)) {
          setLocal(null);
          return props.onValue(t);
        }
        setLocal(`not JSON yet: ${(err as Error).message}`);
      }
      return;
    }
    if (isExpression(t)) {
      setLocal(null);
      return props.onValue(t);
    }
    if (spec.type === 'number') {
      const n = Number(t);
      if (!Number.isFinite(n)) return setLocal('must be a number (or an expression)');
      setLocal(null);
      return props.onValue(n);
    }
    if (spec.type === 'boolean') {
      if (t !== 'true' && t !== 'false')
        return setLocal('must be true or false (or an expression)');
      setLocal(null);
      return props.onValue(t === 'true');
    }
    setLocal(null);
    props.onValue(t);
  };
  const errors = [...(local ? [local] : []), ...props.problems.map((p) => p.message)];
  const describedBy = `${id}-help${errors.length ? ` ${id}-err` : ''}`;
  const common = {
    id,
    disabled: readOnly,
    'aria-invalid': errors.length > 0,
    'aria-describedby': describedBy,
  };
  let input;
  if (spec.type === 'json' || exprMode) {
    input = (
      <ExpressionBox
        id={id}
        common={common}
        box={box}
        rows={spec.type === 'json' ? 4 : 2}
        placeholder={spec.type === 'json' ? '{"field": "={{ body.name }}"}' : '={{ $json.field }}'}
        text={text}
        set={set}
        context={props.context}
        upstream={props.upstream}
        // In a JSON parameter the expression sits in a JSON string: backticks need no escaping there.
        quote={spec.type === 'json' ? '`' : '"'}
      />
    );
  } else if (spec.type === 'options' || spec.type === 'boolean') {
    const options = spec.type === 'boolean' ? ['true', 'false'] : (spec.options ?? []);
    input = (
      <select {...common} value={text} onChange={(e) => set(e.target.value)}>
        <option value="">
          {spec.default !== undefined ? `default (${String(spec.default)})` : '(not set)'}
        </option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    const names = spec.name === 'credential' ? props.credentials : undefined;
    input = (
      <>
        <input
          {...common}
          type="text"
          inputMode={spec.type === 'number' ? 'decimal' : undefined}
          list={names ? `${id}-names` : undefined}
          value={text}
          placeholder={spec.default !== undefined ? String(spec.default) : ''}
          onChange={(e) => set(e.target.value)}
        />
        {names ? (
          <datalist id={`${id}-names`}>
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        ) : null}
      </>
    );
  }
  return (
    <div className="wf-field">
      <div className="wf-field-head">
        <label htmlFor={id}>
          {spec.name}
          {spec.required ? ' *' : ''} <span className="wf-muted">({spec.type})</span>
        </label>
        {spec.type !== 'json' && !readOnly ? (
          <button
            type="button"
            className="link"
            onClick={() => {
              setExprMode(!exprMode);
              if (exprMode) set('');
            }}
          >
            {exprMode ? 'Fixed value' : 'Expression'}
          </button>
        ) : null}
      </div>
      {input}
      <div id={`${id}-help`} className="wf-muted wf-help">
        {spec.description}
      </div>
      {errors.length ? (
        <div id={`${id}-err`} className="wf-field-error" role="alert">
          {errors.join('; ')}
        </div>
      ) : null}
      {(spec.type === 'json' || exprMode) && !readOnly ? (
        <Suggestions
          context={props.context}
          quote={spec.type === 'json' ? '`' : '"'}
          onInsert={(snippet) => {
            const el = box.current;
            const at = el ? el.selectionStart : text.length;
            const end = el ? el.selectionEnd : text.length;
            // A fresh expression field gets the "=" that makes it one.
            const prefix = spec.type !== 'json' && text === '' ? '=' : '';
            set(text.slice(0, at) + prefix + snippet + text.slice(end));
            el?.focus();
          }}
        />
      ) : null}
      <Preview value={value} context={props.context} />
    </div>
  );
}

function WebhookInfo(props: { doc: WorkflowNodeDoc }) {
  const p = props.doc.parameters;
  const url = `${window.location.origin}/webhook/${typeof p.path === 'string' ? p.path : '<path>'}`;
  const auth = typeof p.auth === 'string' ? p.auth : 'none';
  const [copied, setCopied] = useState(false);
  return (
    <div className="wf-webhook">
      <div>
        <strong>{typeof p.method === 'string' ? p.method : 'POST'}</strong>{' '}
        <code data-testid="webhook-url">{url}</code>{' '}
        <button
          type="button"
          onClick={() =>
            void navigator.clipboard?.writeText(url).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy URL'}
        </button>
      </div>
      <div className="wf-muted">
        {auth === 'none'
          ? 'No authentication: anyone who can reach this URL can start the workflow.'
          : `Requires ${auth === 'hmac' ? 'an HMAC-SHA256 signature' : 'a token header'} (${
              typeof p.header === 'string'
                ? p.header
                : auth === 'hmac'
                  ? 'x-warden-signature'
                  : 'x-warden-token'
            }) checked against credential "${String(p.credential ?? '?')}".`}{' '}
        It answers only while the workflow is active.
      </div>
    </div>
  );
}

export function ParamPanel(props: PanelProps) {
  const { node, info, problems, readOnly } = props;
  const doc = node.data.doc;
  const [name, setName] = useState(doc.name);
  const [nameError, setNameError] = useState<string | null>(null);
  useEffect(() => setName(doc.name), [doc.name]);
  const fieldProblems = (field: string) =>
    problems.filter(
      (p) =>
        p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`),
    );
  const other = problems.filter(
    (p) => !info?.parameters.some((s) => fieldProblems(`parameters.${s.name}`).includes(p)),
  );
  return (
    <section className="wf-panel" aria-label={`Parameters of ${doc.name}`}>
      <h2>{doc.name}</h2>
      <p className="wf-muted">{info ? info.description : `Unknown node type ${doc.type}`}</p>
      {doc.type === 'webhook' ? <WebhookInfo doc={doc} /> : null}
      <div className="wf-field">
        <label htmlFor={`${doc.id}-name`}>Node name</label>
        <input
          id={`${doc.id}-name`}
          disabled={readOnly}
          value={name}
          aria-invalid={!!nameError}
          onChange={(e) => {
            const v = e.target.value;
            setName(v);
            if (v.trim() === '') return setNameError('must not be empty');
            if (v !== doc.name && props.nameTaken(v)) return setNameError('another node has it');
            setNameError(null);
            props.onChange({ ...doc, name: v }, { field: 'name' });
          }}
        />
        {nameError ? (
          <div className="wf-field-error" role="alert">
            {nameError}
          </div>
        ) : null}
      </div>
      {info?.parameters.map((spec) => (
        <Field
          key={`${doc.id}:${spec.name}`}
          id={`${doc.id}-p-${spec.name}`}
          spec={spec}
          value={doc.parameters[spec.name]}
          problems={fieldProblems(`parameters.${spec.name}`)}
          context={props.context}
          upstream={props.upstream ?? []}
          readOnly={readOnly}
          credentials={props.credentials}
          onValue={(v) => {
            const parameters = { ...doc.parameters };
            if (v === undefined) delete parameters[spec.name];
            else parameters[spec.name] = v;
            props.onChange({ ...doc, parameters }, { field: spec.name });
          }}
        />
      ))}
      <div className="wf-field">
        <label htmlFor={`${doc.id}-onerror`}>On error</label>
        <select
          id={`${doc.id}-onerror`}
          disabled={readOnly}
          value={typeof doc.onError === 'string' ? doc.onError : ''}
          onChange={(e) => {
            const next = { ...doc };
            if (e.target.value) next.onError = e.target.value;
            else delete next.onError;
            props.onChange(next, { field: 'onError' });
          }}
        >
          <option value="">stop (default)</option>
          <option value="continue">continue</option>
          <option value="errorBranch">error branch</option>
        </select>
      </div>
      {other.length ? (
        <ul className="wf-problems" aria-label="Other problems of this node">
          {other.map((p, i) => (
            <li key={i}>
              {p.field}: {p.message}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
