// Undo and redo for the canvas: a snapshot of nodes and edges is taken
// before each change (adding, deleting, connecting, moving, editing), and
// typing in one field coalesces into a single step.
import type { Dispatch, SetStateAction } from 'react';
import { useCallback, useRef, useState } from 'react';

import type { FlowEdge, FlowNode } from './model.ts';

type Snapshot = { nodes: FlowNode[]; edges: FlowEdge[] };

export type HistoryOptions = {
  nodes: FlowNode[];
  edges: FlowEdge[];
  setNodes: Dispatch<SetStateAction<FlowNode[]>>;
  setEdges: Dispatch<SetStateAction<FlowEdge[]>>;
  onChange(): void;
};

const limit = 200;
/** Edits of the same field closer together than this are one undo step. */
const coalesceMs = 1500;

export function useHistory(o: HistoryOptions) {
  const now = useRef<Snapshot>({ nodes: o.nodes, edges: o.edges });
  now.current = { nodes: o.nodes, edges: o.edges };
  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  const last = useRef<{ key: string; at: number } | null>(null);
  const [, setTick] = useState(0);
  const { setNodes, setEdges, onChange } = o;
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  const commit = useCallback((options: { coalesce?: string } = {}) => {
    const at = Date.now();
    const key = options.coalesce;
    onChangeRef.current();
    if (key && last.current?.key === key && at - last.current.at < coalesceMs) {
      last.current.at = at;
      return;
    }
    last.current = key ? { key, at } : null;
    // One gesture may report several changes (a node and its edges removed): one step.
    const top = past.current.at(-1);
    if (top && top.nodes === now.current.nodes && top.edges === now.current.edges) return;
    past.current.push(now.current);
    if (past.current.length > limit) past.current.shift();
    future.current = [];
    setTick((t) => t + 1);
  }, []);

  const move = useCallback(
    (from: { current: Snapshot[] }, to: { current: Snapshot[] }) => {
      const s = from.current.pop();
      if (!s) return;
      to.current.push(now.current);
      last.current = null;
      // Selection is not history: restored nodes come back unselected.
      setNodes(s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)));
      setEdges(s.edges);
      onChangeRef.current();
      setTick((t) => t + 1);
    },
    [setNodes, setEdges],
  );

  return {
    commit,
    undo: useCallback(() => move(past, future), [move]),
    redo: useCallback(() => move(future, past), [move]),
    canUndo: past.current.length > 0,
    canRedo: future.current.length > 0,
  };
}
