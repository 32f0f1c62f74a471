// The editor's right-hand side: the selected node's parameter panel, its
// data from the run on screen (input, then each output), the test input a
// run starts with, and the workflow's problems from the validator.
import type { Step } from '../types.ts';
import { DataView } from './data-view.tsx';
import type { PreviewContext } from './expressions.ts';
import type { FlowNode, NodeTypeInfo, Problem } from './model.ts';
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
};

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
