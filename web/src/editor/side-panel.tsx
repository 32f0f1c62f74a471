// The editor's right-hand side: the selected node's parameter panel, its
// pinned data (pin the last run's output or typed JSON, edit, unpin) and
// "run up to this node", its data from the run on screen (input, then each
// output), the test input a run starts with, and the workflow's problems.
import { useEffect, useState } from 'react';

import type { Step } from '../types.ts';
import { DataView } from './data-view.tsx';
import type { PreviewContext } from './expressions.ts';
import type { FlowNode, Item, NodeTypeInfo, Problem } from './model.ts';
import { isObject } from './model.ts';
import type { PanelProps } from './param-panel.tsx';
import { ParamPanel } from './param-panel.tsx';

export type SidePanelProps = {
  node: FlowNode | null;
  info: NodeTypeInfo | undefined;
  problems: Problem[];
  context: PreviewContext | null;
  readOnly: boolean;
  credentials?: string[];
  nameTaken: PanelProps['nameTaken'];
  onChange: PanelProps['onChange'];
  step: Step | undefined;
  testInput: string;
  onTestInput(text: string): void;
  upstream: string[];
  /** Pins items on the selected node; undefined unpins. */
  onPin(items: Item[] | undefined): void;
  onRunTo(): void;
  busy: boolean;
};

/** The selected node's pinned items: pin the last run's output or typed JSON, edit, unpin. */
function PinEditor(props: {
  node: FlowNode;
  lastOutput: unknown;
  readOnly: boolean;
  onPin(items: Item[] | undefined): void;
}) {
  const pin = props.node.data.pin;
  const name = props.node.data.doc.name;
  const [text, setText] = useState(pin ? JSON.stringify(pin, null, 2) : '');
  const [error, setError] = useState<string | null>(null);
  const pinKey = JSON.stringify(pin ?? null);
  useEffect(() => {
    setText(pin ? JSON.stringify(pin, null, 2) : '');
    setError(null);
    // pinKey stands for the pinned items.
  }, [pinKey]);
  const last = Array.isArray(props.lastOutput) ? (props.lastOutput as unknown[]) : null;
  const save = () => {
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch (err) {
      return setError(`not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(items) || !items.every(isObject))
      return setError('pinned data is a JSON array of items (objects), like a node’s output');
    setError(null);
    props.onPin(items as Item[]);
  };
  if (props.readOnly && !pin) return null;
  return (
    <section className="wf-pin" aria-label={`Pinned data of ${name}`}>
      <h3>Pinned data</h3>
      <p className="wf-muted">
        {pin
          ? `Test runs from the editor use these ${pin.length} item(s) as ${name}’s output instead of running it. Production runs (webhook, schedule, manual) never do.`
          : `Pin items to use them as ${name}’s output in test runs from the editor, without running it.`}
      </p>
      {!props.readOnly ? (
        <>
          <label htmlFor={`${props.node.id}-pin`}>Pinned items of {name} (JSON array)</label>
          <textarea
            id={`${props.node.id}-pin`}
            rows={4}
            spellCheck={false}
            value={text}
            placeholder='[{"field": "value"}]'
            aria-invalid={!!error}
            onChange={(e) => setText(e.target.value)}
          />
          {error ? (
            <div className="wf-field-error" role="alert">
              {error}
            </div>
          ) : null}
          <div className="wf-dialog-actions">
            <button type="button" onClick={save}>
              {pin ? 'Save pinned data' : 'Pin these items'}
            </button>
            {last && last.every(isObject) ? (
              <button type="button" onClick={() => props.onPin(last as Item[])}>
                Pin the last run’s output
              </button>
            ) : null}
            {pin ? (
              <button type="button" onClick={() => props.onPin(undefined)}>
                Unpin
              </button>
            ) : null}
          </div>
        </>
      ) : (
        <pre>{JSON.stringify(pin, null, 2)}</pre>
      )}
    </section>
  );
}

export function SidePanel(props: SidePanelProps) {
  const { node: one, problems, readOnly, step } = props;
  const outputs = Array.isArray(step?.output) ? (step.output as unknown[]) : [];
  return (
    <aside className="wf-side" aria-label="Selected node">
      {one ? (
        <ParamPanel
          key={one.id}
          node={one}
          info={props.info}
          problems={problems.filter((p) => p.node === one.data.doc.name)}
          context={props.context}
          upstream={props.upstream}
          readOnly={readOnly}
          credentials={props.credentials}
          nameTaken={props.nameTaken}
          onChange={props.onChange}
        />
      ) : (
        <p className="wf-muted">
          Select a node to edit its parameters. Add nodes from the palette: with a node selected,
          the new one is connected after it.
        </p>
      )}
      {one && !readOnly ? (
        <div className="wf-dialog-actions">
          <button type="button" onClick={props.onRunTo} disabled={props.busy}>
            Run up to this node
          </button>
        </div>
      ) : null}
      {one ? (
        <PinEditor
          key={`${one.id}-pin`}
          node={one}
          lastOutput={outputs[0]}
          readOnly={readOnly}
          onPin={props.onPin}
        />
      ) : null}
      {one && step ? (
        <>
          {step.error ? (
            <p className="wf-field-error" role="alert">
              {JSON.stringify(step.error)}
            </p>
          ) : null}
          <DataView
            key={`${one.id}-in`}
            label={`Input of ${one.data.doc.name}`}
            value={Array.isArray(step.input) ? (step.input as unknown[])[0] : step.input}
          />
          {outputs.length <= 1 ? (
            <DataView
              key={`${one.id}-out`}
              label={`Output of ${one.data.doc.name}`}
              value={outputs[0] ?? null}
            />
          ) : (
            outputs.map((o, i) => (
              <DataView
                key={`${one.id}-out-${i}`}
                label={`Output ${i} of ${one.data.doc.name}`}
                value={o}
              />
            ))
          )}
        </>
      ) : null}
      {!readOnly ? (
        <div className="wf-field">
          <label htmlFor="wf-test-input">Test input (JSON array of trigger items)</label>
          <textarea
            id="wf-test-input"
            rows={3}
            spellCheck={false}
            value={props.testInput}
            onChange={(e) => props.onTestInput(e.target.value)}
          />
        </div>
      ) : null}
      {problems.length ? (
        <section aria-label="Problems">
          <h2>Problems ({problems.length})</h2>
          <ul className="wf-problems">
            {problems.map((p, i) => (
              <li key={i}>
                {p.node ? `${p.node}: ` : ''}
                {p.field}: {p.message}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </aside>
  );
}
