// The canvas's keyboard and clipboard: Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) undo
// and redo, Ctrl+S saves, Ctrl+A selects every node; Ctrl+C and Ctrl+V copy
// and paste the selected nodes as workflow JSON through the system
// clipboard, so they travel between tabs and to a text editor. Keys typed
// in a field are left to the field.
import type { Dispatch, SetStateAction } from 'react';
import { useEffect, useRef } from 'react';

import type { FlowEdge, FlowNode, WorkflowDoc } from './model.ts';
import { parseWorkflowJson, toDoc, toFlow, uniqueName } from './model.ts';

export type CanvasKeysState = {
  history: { undo(): void; redo(): void };
  save(): Promise<unknown>;
  readOnly: boolean;
  nodes: FlowNode[];
  edges: FlowEdge[];
  name: string;
  commit(): void;
  setNodes: Dispatch<SetStateAction<FlowNode[]>>;
  setEdges: Dispatch<SetStateAction<FlowEdge[]>>;
};

const inField = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

export function useCanvasKeys(state: CanvasKeysState): void {
  const keys = useRef(state);
  keys.current = state;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = keys.current;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 's') {
        e.preventDefault();
        if (!k.readOnly) void k.save();
        return;
      }
      if (!mod || inField(e.target)) return;
      if (e.key.toLowerCase() === 'a') {
        e.preventDefault();
        k.setNodes((ns) => ns.map((n) => (n.selected ? n : { ...n, selected: true })));
        return;
      }
      if (k.readOnly) return;
      if (e.key.toLowerCase() === 'z' && !e.shiftKey) {
        e.preventDefault();
        k.history.undo();
      } else if ((e.key.toLowerCase() === 'z' && e.shiftKey) || e.key.toLowerCase() === 'y') {
        e.preventDefault();
        k.history.redo();
      }
    };
    const onCopy = (e: ClipboardEvent) => {
      const k = keys.current;
      if (inField(e.target)) return;
      const picked = k.nodes.filter((n) => n.selected);
      if (picked.length === 0) return;
      const ids = new Set(picked.map((n) => n.id));
      const part = toDoc(
        { name: k.name, settings: {} },
        picked,
        k.edges.filter((x) => ids.has(x.source) && ids.has(x.target)),
      );
      e.clipboardData?.setData('text/plain', JSON.stringify(part, null, 2));
      e.preventDefault();
    };
    const onPaste = (e: ClipboardEvent) => {
      const k = keys.current;
      if (inField(e.target) || k.readOnly) return;
      const text = e.clipboardData?.getData('text/plain');
      if (!text) return;
      let part: WorkflowDoc;
      try {
        part = parseWorkflowJson(text);
      } catch {
        return; // Not a workflow: nothing to paste on the canvas.
      }
      e.preventDefault();
      k.commit();
      const taken = new Set(k.nodes.map((n) => n.data.doc.name));
      const rename = new Map<string, string>();
      for (const n of part.nodes) {
        const fresh = uniqueName(n.name, taken);
        taken.add(fresh);
        rename.set(n.name, fresh);
      }
      const suffix = Math.random().toString(36).slice(2, 6);
      const renamed: WorkflowDoc = {
        ...part,
        nodes: part.nodes.map((n) => ({
          ...n,
          id: `${n.id}-${suffix}`,
          name: rename.get(n.name)!,
          position: [(n.position?.[0] ?? 0) + 40, (n.position?.[1] ?? 0) + 40],
        })),
        connections: Object.fromEntries(
          Object.entries(part.connections).map(([from, c]) => [
            rename.get(from) ?? from,
            {
              ...c,
              main: c.main?.map((l) =>
                l.map((t) => ({ ...t, node: rename.get(t.node) ?? t.node })),
              ),
              error: c.error?.map((l) =>
                l.map((t) => ({ ...t, node: rename.get(t.node) ?? t.node })),
              ),
            },
          ]),
        ),
      };
      const f = toFlow(renamed);
      k.setNodes((ns) => [
        ...ns.map((n) => ({ ...n, selected: false })),
        ...f.nodes.map((n) => ({ ...n, selected: true })),
      ]);
      k.setEdges((es) => [...es, ...f.edges]);
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
    };
  }, []);
}
