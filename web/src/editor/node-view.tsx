// One node on the canvas: its name and type, an input handle per input, an
// output handle per output (If has two, Switch one per case plus the
// fallback), an error output when onError is errorBranch, and badges for
// problems, pinned data and the last run's item counts. Also the palette new nodes come
// from, one button per node type the server reports.
import type { NodeProps } from '@xyflow/react';
import { Handle, Position } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';

import type { FlowNode, NodeTypeInfo } from './model.ts';
import { outputsOf } from './model.ts';

export const NodeTypesContext = createContext<Map<string, NodeTypeInfo>>(new Map());

function NodeViewInner(props: NodeProps<FlowNode>) {
  const { data, selected } = props;
  const types = useContext(NodeTypesContext);
  const info = types.get(data.doc.type);
  const inputs = info?.inputs ?? 1;
  const outputs = outputsOf(info, data.doc.parameters);
  const outLabels =
    data.doc.type === 'if'
      ? ['true', 'false']
      : data.doc.type === 'switch'
        ? Array.from({ length: outputs }, (_, i) => (i === outputs - 1 ? 'else' : `case ${i}`))
        : [];
  const status = data.run?.status;
  return (
    <div
      className={`wf-node${selected ? ' selected' : ''}${data.problems ? ' invalid' : ''}${status ? ` run-${status}` : ''}`}
      data-node-name={data.doc.name}
    >
      {Array.from({ length: inputs }, (_, i) => (
        <Handle
          key={`in-${i}`}
          id={`in-${i}`}
          type="target"
          position={Position.Left}
          style={{ top: `${((i + 1) * 100) / (inputs + 1)}%` }}
          title={`input ${i}`}
        />
      ))}
      <div className="wf-node-name">{data.doc.name}</div>
      <div className="wf-node-type">{info?.displayName ?? `unknown type ${data.doc.type}`}</div>
      {data.problems ? (
        <div className="wf-node-badge bad" title="Problems">
          {data.problems} problem{data.problems > 1 ? 's' : ''}
        </div>
      ) : null}
      {data.pin ? (
        <div
          className="wf-node-badge pin"
          title="Pinned: test runs from the editor use these items instead of running the node"
        >
          pinned {data.pin.length} item{data.pin.length === 1 ? '' : 's'}
        </div>
      ) : null}
      {data.run ? (
        <div className={`wf-node-badge ${status === 'succeeded' ? 'ok' : 'bad'}`}>
          {status === 'succeeded' ? '✓' : status} {data.run.items.join(' / ')} item
          {data.run.items.reduce((a, b) => a + b, 0) === 1 ? '' : 's'}
        </div>
      ) : null}
      {Array.from({ length: outputs }, (_, i) => (
        <Handle
          key={`out-${i}`}
          id={`out-${i}`}
          type="source"
          position={Position.Right}
          style={{ top: `${((i + 1) * 100) / (outputs + 1)}%` }}
          title={`output ${outLabels[i] ?? i}`}
        >
          {outLabels[i] ? <span className="wf-handle-label">{outLabels[i]}</span> : null}
        </Handle>
      ))}
      {data.doc.onError === 'errorBranch' ? (
        <Handle
          id="error"
          type="source"
          position={Position.Bottom}
          className="wf-error-handle"
          title="error output"
        />
      ) : null}
    </div>
  );
}

export const NodeView = memo(NodeViewInner);

const groups = [
  ['trigger', 'Triggers'],
  ['action', 'Actions'],
  ['flow', 'Flow'],
] as const;

/** Click adds the node (after the selected one); the buttons can also be dragged onto the canvas. */
export function Palette(props: { nodeTypes: NodeTypeInfo[]; onAdd(t: NodeTypeInfo): void }) {
  return (
    <nav className="wf-palette" aria-label="Node palette">
      {groups.map(([g, title]) => (
        <div key={g}>
          <h2>{title}</h2>
          {props.nodeTypes
            .filter((t) => t.group === g)
            .map((t) => (
              <button
                key={t.type}
                type="button"
                title={t.description}
                draggable
                onDragStart={(e) => e.dataTransfer.setData('application/x-warden-node', t.type)}
                onClick={() => props.onAdd(t)}
              >
                {t.displayName}
              </button>
            ))}
        </div>
      ))}
    </nav>
  );
}
