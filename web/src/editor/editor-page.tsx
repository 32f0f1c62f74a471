// The workflow editor: a canvas of nodes from the server's node types, the
// parameter panel of the selected node, validation with the save rules as
// you type, undo/redo, copy/paste as JSON, save with a conflict check (the
// version loaded is sent; a newer save answers 409 and nothing is
// overwritten), test runs (whole, or up to a node) that use pinned data,
// with each node's data, executions opened on the version they ran on, and
// the gallery of example workflows.
import '@xyflow/react/dist/style.css';
import './editor.css';

import type { Connection, EdgeChange, NodeChange } from '@xyflow/react';
import {
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from '@xyflow/react';
import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { api, ApiError, listAll } from '../api.ts';
import { navigate } from '../router.tsx';
import { useCan } from '../session.tsx';
import type { Execution, Step } from '../types.ts';
import { Banners } from './banners.tsx';
import { ExportDialog, ImportDialog, VersionsDialog } from './dialogs.tsx';
import { GalleryDialog, setPendingExample, takePendingExample } from './gallery.tsx';
import type { Draft } from './drafts.ts';
import { clearDraft, readDraft, writeDraft } from './drafts.ts';
import type { PreviewContext } from './expressions.ts';
import type { FlowEdge, FlowNode, Item, NodeTypeInfo, Problem, WorkflowDoc } from './model.ts';
import { isAutoHeal, layout, toDoc, toFlow, uniqueName } from './model.ts';
import { NodeTypesContext, NodeView, Palette } from './node-view.tsx';
import { renameNode } from './rename.ts';
import { SidePanel } from './side-panel.tsx';
import { useCanvasKeys } from './use-canvas-keys.ts';
import { useHistory } from './use-history.ts';

type Loaded = {
  id: number;
  version: number;
  active: boolean;
  doc: WorkflowDoc;
  /** Set when an execution's older version is shown. */
  historic?: { currentVersion: number };
};
type ExecutionWithSteps = Execution & { steps: Step[] };

const nodeTypes = { warden: NodeView };

/**
 * A new workflow's first save moves the address to /workflows/:id/edit; the
 * page keeps the same React key for it, so the canvas, undo history and
 * messages stay instead of reloading.
 */
const adopted = new Map<number, string>();
export const editorKey = (id: number | null) =>
  id === null ? 'new' : (adopted.get(id) ?? String(id));
const finished = ['succeeded', 'failed', 'canceled', 'needs_attention'];

function Editor(props: { id: number | null; executionId: string | null; gallery?: boolean }) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const canEdit = useCan('operator');
  const types = useQuery({
    queryKey: ['node-types'],
    queryFn: async () => ({
      nodeTypes: await listAll<NodeTypeInfo>('/api/v1/node-types', 'nodeTypes'),
    }),
    staleTime: Infinity,
  });
  const typeMap = useMemo(
    () => new Map((types.data?.nodeTypes ?? []).map((t) => [t.type, t])),
    [types.data],
  );
  // Credential names for the panel's list: only admins may list them (names, never values).
  const isAdmin = useCan('admin');
  const credentials = useQuery({
    queryKey: ['credential-names'],
    queryFn: async () => ({
      credentials: await listAll<{ name: string }>('/api/v1/credentials', 'credentials'),
    }),
    enabled: isAdmin,
  });
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [name, setName] = useState('My workflow');
  const meta = useRef<{ settings: Record<string, unknown>; extra: Record<string, unknown> }>({
    settings: {},
    extra: {},
  });
  const [nodes, setNodes] = useState<FlowNode[]>([]);
  const [edges, setEdges] = useState<FlowEdge[]>([]);
  const [dirty, setDirty] = useState(false);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [execution, setExecution] = useState<ExecutionWithSteps | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<'import' | 'export' | 'versions' | 'examples' | null>(
    props.gallery ? 'examples' : null,
  );
  const [testInput, setTestInput] = useState('[{}]');
  const [draftOffer, setDraftOffer] = useState<Draft | null>(null);
  const draftKey = props.id === null ? 'new' : String(props.id);
  const createdId = useRef<number | null>(null);
  /** Bumped to load the saved version again (after a conflict). */
  const [reloads, setReloads] = useState(0);

  const historic = !!loaded?.historic;
  const readOnly = !canEdit || historic || isAutoHeal({ nodes: nodes.map((n) => n.data.doc) });
  const history = useHistory({ nodes, edges, setNodes, setEdges, onChange: () => setDirty(true) });
  const { commit } = history;

  const docNow = useCallback(
    () => toDoc({ name, settings: meta.current.settings, extra: meta.current.extra }, nodes, edges),
    [name, nodes, edges],
  );

  const show = useCallback(
    (doc: WorkflowDoc) => {
      const f = toFlow(doc);
      meta.current = {
        settings: doc.settings,
        extra: Object.fromEntries(
          Object.entries(doc).filter(
            ([k]) => !['name', 'nodes', 'connections', 'settings', 'pinData'].includes(k),
          ),
        ),
      };
      setName(doc.name);
      setNodes(f.nodes);
      setEdges(f.edges);
      window.setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1 }), 50);
    },
    [flow],
  );

  // Load the workflow (and the execution, on the version it ran on).
  useEffect(() => {
    const id = props.id ?? createdId.current;
    if (id === null || (id === createdId.current && reloads === 0)) return;
    let live = true;
    void (async () => {
      try {
        const wf = await api<{
          id: number;
          currentVersion: number;
          active: boolean;
          definition: WorkflowDoc;
        }>(`/api/v1/workflows/${id}`);
        let doc = wf.definition;
        let ex: ExecutionWithSteps | null = null;
        let version = wf.currentVersion;
        if (props.executionId) {
          ex = await api<ExecutionWithSteps>(
            `/api/v1/executions/${encodeURIComponent(props.executionId)}`,
          );
          if (ex.workflowVersion !== wf.currentVersion) {
            const v = await api<{ definition: WorkflowDoc }>(
              `/api/v1/workflows/${wf.id}/versions/${ex.workflowVersion}`,
            );
            doc = v.definition;
            version = ex.workflowVersion;
          }
        }
        if (!live) return;
        setLoaded({
          id: wf.id,
          version,
          active: wf.active,
          doc,
          historic:
            version !== wf.currentVersion ? { currentVersion: wf.currentVersion } : undefined,
        });
        show(doc);
        setExecution(ex);
        if (reloads > 0) setStatus(`Loaded version ${version}.`);
        const draft = ex || reloads > 0 ? null : readDraft(String(id));
        if (draft && JSON.stringify(draft.doc) !== JSON.stringify(doc)) setDraftOffer(draft);
      } catch (err) {
        if (live) setLoadError(err);
      }
    })();
    return () => {
      live = false;
    };
  }, [props.id, props.executionId, show, reloads]);

  // Validate with the server's save rules while typing (positions do not matter).
  const validationKey = useMemo(
    () =>
      JSON.stringify({
        name,
        nodes: nodes.map((n) => n.data.doc),
        edges: edges.map((e) => [e.source, e.sourceHandle, e.target, e.targetHandle]),
      }),
    [name, nodes, edges],
  );
  const latestDoc = useRef(docNow);
  latestDoc.current = docNow;
  useEffect(() => {
    if (nodes.length === 0) return setProblems([]);
    const t = window.setTimeout(() => {
      void api<{ problems: Problem[] }>('/api/v1/workflows/validate', {
        method: 'POST',
        body: latestDoc.current(),
      }).then(
        (r) => setProblems(r.problems),
        () => {},
      );
    }, 350);
    return () => window.clearTimeout(t);
    // validationKey stands for the document's content.
  }, [validationKey, nodes.length]);

  // Decorate nodes with their problems and last run, keeping unchanged nodes as they are.
  const stepByName = useMemo(
    () => new Map((execution?.steps ?? []).map((s) => [s.nodeName, s])),
    [execution],
  );
  useEffect(() => {
    setNodes((ns) => {
      let changed = false;
      const next = ns.map((n) => {
        const count = problems.filter((p) => p.node === n.data.doc.name).length || undefined;
        const step = stepByName.get(n.data.doc.name);
        const run = step
          ? {
              status: step.status,
              items: Array.isArray(step.output)
                ? (step.output as unknown[]).map((o) => (Array.isArray(o) ? o.length : 0))
                : [],
            }
          : undefined;
        if (n.data.problems === count && JSON.stringify(n.data.run) === JSON.stringify(run))
          return n;
        changed = true;
        return { ...n, data: { ...n.data, problems: count, run } };
      });
      // The same array when nothing changed, so a check's answer does not count as an edit.
      return changed ? next : ns;
    });
  }, [problems, stepByName]);

  const selected = nodes.filter((n) => n.selected);
  const one = selected.length === 1 ? selected[0]! : null;

  const addNode = (info: NodeTypeInfo, at?: { x: number; y: number }) => {
    if (readOnly) return;
    commit();
    const taken = new Set(nodes.map((n) => n.data.doc.name));
    const nodeName = uniqueName(info.displayName, taken);
    const id = `${info.type}-${Math.random().toString(36).slice(2, 8)}`;
    const from = !at && one ? one : null;
    const box = document.querySelector('.react-flow')?.getBoundingClientRect();
    const position = {
      ...(at ??
        (from
          ? { x: from.position.x + 260, y: from.position.y }
          : flow.screenToFlowPosition({
              x: (box?.left ?? 0) + (box?.width ?? 600) / 2 - 80,
              y: (box?.top ?? 0) + (box?.height ?? 400) / 2 - 30,
            }))),
    };
    // Never drop a node exactly on another one: step down until the spot is free.
    while (
      nodes.some(
        (n) =>
          Math.abs(n.position.x - position.x) < 120 && Math.abs(n.position.y - position.y) < 60,
      )
    )
      position.y += 110;
    const node: FlowNode = {
      id,
      type: 'warden',
      position,
      selected: true,
      data: { doc: { id, name: nodeName, type: info.type, parameters: {} } },
    };
    setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
    // Keep the new node in sight: zoom out to fit when it lands outside the view.
    if (box) {
      const tl = flow.screenToFlowPosition({ x: box.left, y: box.top });
      const br = flow.screenToFlowPosition({ x: box.right, y: box.bottom });
      if (
        position.x < tl.x ||
        position.y < tl.y ||
        position.x + 180 > br.x ||
        position.y + 70 > br.y
      )
        window.setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1 }), 30);
    }
    // With a node selected, the new one follows it (keyboard building, as in n8n).
    if (from && info.inputs > 0)
      setEdges((es) => [
        ...es,
        {
          id: `${from.id}:out-0->${id}:0`,
          source: from.id,
          target: id,
          sourceHandle: 'out-0',
          targetHandle: 'in-0',
          data: { kind: 'main', typed: false },
        },
      ]);
  };

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      if (readOnly && changes.some((c) => c.type === 'remove')) return;
      if (changes.some((c) => c.type === 'remove')) commit();
      setNodes((ns) => applyNodeChanges(changes, ns));
    },
    [commit, readOnly],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      if (readOnly && changes.some((c) => c.type === 'remove')) return;
      if (changes.some((c) => c.type === 'remove')) commit();
      setEdges((es) => applyEdgeChanges(changes, es));
    },
    [commit, readOnly],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      commit();
      setEdges((es) =>
        addEdge(
          {
            ...c,
            id: `${c.source}:${c.sourceHandle}->${c.target}:${(c.targetHandle ?? 'in-0').slice(3)}`,
            data: { kind: c.sourceHandle === 'error' ? 'error' : 'main', typed: false },
          },
          es,
        ),
      );
    },
    [commit],
  );

  const save = async (): Promise<number | null> => {
    setBusy(true);
    setConflict(null);
    try {
      const doc = docNow();
      if (loaded && !historic) {
        const wf = await api<{ currentVersion: number; active: boolean }>(
          `/api/v1/workflows/${loaded.id}`,
          { method: 'PUT', body: { ...doc, expectedVersion: loaded.version } },
        );
        setLoaded({ ...loaded, version: wf.currentVersion, active: wf.active, doc });
        setStatus(`Saved as version ${wf.currentVersion}.`);
        setDirty(false);
        clearDraft(String(loaded.id));
        return loaded.id;
      }
      const wf = await api<{ id: number; currentVersion: number; active: boolean }>(
        '/api/v1/workflows',
        { method: 'POST', body: doc },
      );
      createdId.current = wf.id;
      adopted.set(wf.id, 'new');
      setLoaded({ id: wf.id, version: wf.currentVersion, active: wf.active, doc });
      setStatus(`Saved as version ${wf.currentVersion}.`);
      setDirty(false);
      clearDraft('new');
      navigate(`/workflows/${wf.id}/edit`, { replace: true });
      return wf.id;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.code === 'version_conflict')
        setConflict(err.message);
      else setStatus(`Not saved: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    } finally {
      setBusy(false);
    }
  };

  /** A test run: pinned data stands in for its nodes; with `destination`, only it and its ancestors run. */
  const run = async (destination?: string) => {
    let items: unknown;
    try {
      items = JSON.parse(testInput);
      if (!Array.isArray(items)) throw new Error('the test input must be a JSON array of items');
    } catch (err) {
      setStatus(`Not run: ${(err as Error).message}`);
      return;
    }
    const id = dirty || !loaded ? await save() : loaded.id;
    if (id === null) return;
    const trigger = nodes.find((n) => typeMap.get(n.data.doc.type)?.group === 'trigger');
    setBusy(true);
    try {
      const started = await api<{ executionId: string }>(`/api/v1/workflows/${id}/test-run`, {
        method: 'POST',
        body: {
          items: items as Record<string, unknown>[],
          ...(destination
            ? { destinationNode: destination }
            : { triggerNode: trigger?.data.doc.name }),
        },
      });
      setStatus(destination ? `Running up to ${destination}…` : 'Running…');
      for (let i = 0; i < 600; i++) {
        const ex = await api<ExecutionWithSteps>(`/api/v1/executions/${started.executionId}`);
        setExecution(ex);
        if (finished.includes(ex.status)) {
          setStatus(`Execution ${ex.id.slice(0, 8)} ${ex.status}.`);
          break;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    } catch (err) {
      setStatus(`Not run: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };

  const setActive = async (active: boolean) => {
    if (!loaded) return;
    try {
      const wf = await api<{ active: boolean }>(
        `/api/v1/workflows/${loaded.id}/${active ? 'activate' : 'deactivate'}`,
        { method: 'POST' },
      );
      setLoaded({ ...loaded, active: wf.active });
      setStatus(wf.active ? 'Active: triggers are live.' : 'Inactive.');
    } catch (err) {
      setStatus(`Not changed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const tidy = () => {
    commit();
    setNodes(layout(nodes, edges));
    window.setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1 }), 50);
  };

  useCanvasKeys({ history, save, readOnly, nodes, edges, name, commit, setNodes, setEdges });

  // A new canvas offers the draft left on it, if any, or shows the example it was opened with.
  useEffect(() => {
    if (props.id !== null) return;
    const example = takePendingExample();
    if (example) {
      show(example.doc);
      setDirty(true);
      setStatus(`Example "${example.name}" is on the canvas; saving makes it a new workflow.`);
    } else setDraftOffer(readDraft('new'));
  }, [props.id, show]);

  // Keep a draft while the canvas differs from what was saved.
  useEffect(() => {
    if (!dirty || readOnly) return;
    const t = window.setTimeout(
      () =>
        writeDraft(createdId.current === null ? draftKey : String(createdId.current), {
          savedAt: new Date().toISOString(),
          baseVersion: loaded?.version ?? null,
          doc: latestDoc.current(),
        }),
      500,
    );
    return () => window.clearTimeout(t);
  }, [dirty, readOnly, nodes, edges, name, draftKey, loaded]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  // The nodes upstream of the selected one (its ancestors), nearest first.
  const upstream = useMemo(() => {
    if (!one) return [] as FlowNode[];
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const seen = new Set([one.id]);
    const out: FlowNode[] = [];
    for (let frontier = [one.id]; frontier.length > 0;) {
      const next: string[] = [];
      for (const e of edges)
        if (frontier.includes(e.target) && !seen.has(e.source)) {
          seen.add(e.source);
          next.push(e.source);
          const n = byId.get(e.source);
          if (n) out.push(n);
        }
      frontier = next;
    }
    return out;
  }, [one, nodes, edges]);
  const upstreamNames = useMemo(() => upstream.map((n) => n.data.doc.name), [upstream]);

  // Previews and completions read the last run's data; pinned items stand in
  // for their node, as they do in the next test run.
  const pinsKey = JSON.stringify(
    nodes.filter((n) => n.data.pin).map((n) => [n.data.doc.name, n.data.pin]),
  );
  const context: PreviewContext | null = useMemo(() => {
    const pinned = JSON.parse(pinsKey) as [string, Item[]][];
    if (!execution && pinned.length === 0) return null;
    const nodesOut: Record<string, Record<string, unknown>[]> = {};
    for (const s of execution?.steps ?? []) {
      const first = Array.isArray(s.output) ? (s.output as unknown[])[0] : null;
      nodesOut[s.nodeName] = Array.isArray(first) ? (first as Record<string, unknown>[]) : [];
    }
    for (const [name, items] of pinned) nodesOut[name] = items;
    const step = one ? stepByName.get(one.data.doc.name) : undefined;
    const input0 = Array.isArray(step?.input) ? (step.input as unknown[])[0] : null;
    let input = Array.isArray(input0) ? (input0 as Record<string, unknown>[]) : [];
    // Not run yet: the nearest parent's pinned items are what it would get.
    const parent = upstreamNames.find((n) => pinned.some(([p]) => p === n));
    if (input.length === 0 && parent) input = nodesOut[parent] ?? [];
    return { json: input[0] ?? {}, input, nodes: nodesOut };
  }, [execution, one, stepByName, pinsKey, upstreamNames]);

  if (loadError) return <p role="alert">Could not open the workflow: {String(loadError)}</p>;
  if (!types.data) return <p role="status">Loading node types…</p>;
  const step = one ? stepByName.get(one.data.doc.name) : undefined;

  return (
    <NodeTypesContext.Provider value={typeMap}>
      <div className="wf-editor">
        <div className="wf-toolbar" role="toolbar" aria-label="Workflow">
          <label htmlFor="wf-name" className="sr-only">
            Workflow name
          </label>
          <input
            id="wf-name"
            className="wf-name"
            value={name}
            disabled={readOnly}
            onChange={(e) => {
              setName(e.target.value);
              setDirty(true);
            }}
          />
          {loaded ? (
            <span className="wf-muted">
              version {loaded.version}
              {loaded.active ? ' · active' : ''}
              {dirty ? ' · unsaved changes' : ''}
            </span>
          ) : (
            <span className="wf-muted">not saved yet</span>
          )}
          {!readOnly ? (
            <>
              <button type="button" onClick={() => void save()} disabled={busy}>
                Save
              </button>
              <button type="button" onClick={() => history.undo()} disabled={!history.canUndo}>
                Undo
              </button>
              <button type="button" onClick={() => history.redo()} disabled={!history.canRedo}>
                Redo
              </button>
              <button type="button" onClick={tidy}>
                Auto-layout
              </button>
              <button type="button" onClick={() => void run()} disabled={busy}>
                Run
              </button>
              {loaded ? (
                <button type="button" onClick={() => void setActive(!loaded.active)}>
                  {loaded.active ? 'Deactivate' : 'Activate'}
                </button>
              ) : null}
              <button type="button" onClick={() => setDialog('import')}>
                Import
              </button>
              <button type="button" onClick={() => setDialog('examples')}>
                Examples
              </button>
            </>
          ) : null}
          <button type="button" onClick={() => void flow.fitView({ padding: 0.2, maxZoom: 1 })}>
            Zoom to fit
          </button>
          <button type="button" onClick={() => setDialog('export')}>
            Export
          </button>
          {loaded ? (
            <button type="button" onClick={() => setDialog('versions')}>
              Versions
            </button>
          ) : null}
          <span role="status" aria-live="polite" className="wf-status">
            {status}
          </span>
        </div>
        <Banners
          conflict={conflict}
          onExportMine={() => setDialog('export')}
          onLoadSaved={() => {
            setConflict(null);
            setDirty(false);
            setReloads((n) => n + 1);
          }}
          draft={readOnly ? null : draftOffer}
          onRestoreDraft={(draft) => {
            commit();
            show(draft.doc);
            // Saving it is checked against the version it was made on.
            if (loaded && draft.baseVersion) setLoaded({ ...loaded, version: draft.baseVersion });
            setDraftOffer(null);
            setStatus('Draft restored; not saved yet.');
          }}
          onDiscardDraft={() => {
            clearDraft(draftKey);
            setDraftOffer(null);
          }}
          readOnly={
            !readOnly
              ? null
              : historic
                ? `Read-only: this execution ran on version ${loaded?.version}; the workflow is now at version ${loaded?.historic?.currentVersion}.`
                : !canEdit
                  ? 'Read-only: your role may look but not change workflows.'
                  : 'Read-only: the auto-heal workflow is shown so you can see how healing runs.'
          }
          execution={execution}
        />
        <div className="wf-body">
          {!readOnly ? (
            <Palette nodeTypes={types.data.nodeTypes} onAdd={(t) => addNode(t)} />
          ) : null}
          <div
            className="wf-canvas"
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              const info = typeMap.get(e.dataTransfer.getData('application/x-warden-node'));
              if (info) addNode(info, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
            }}
          >
            <ReactFlow<FlowNode, FlowEdge>
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeDragStart={() => commit()}
              nodesDraggable={!readOnly}
              nodesConnectable={!readOnly}
              deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
              isValidConnection={(c) => c.source !== c.target}
              minZoom={0.05}
              aria-label="Workflow canvas"
            >
              <Background />
              <Controls showInteractive={false} />
              <MiniMap pannable zoomable ariaLabel="Overview" />
            </ReactFlow>
          </div>
          <SidePanel
            node={one}
            info={one ? typeMap.get(one.data.doc.type) : undefined}
            problems={problems}
            context={context}
            readOnly={readOnly}
            credentials={credentials.data?.credentials.map((c) => c.name)}
            nameTaken={(n) => nodes.some((x) => x.id !== one?.id && x.data.doc.name === n)}
            onChange={(doc, o) => {
              if (!one) return;
              // A rename rewrites the $node references to the old name in every
              // node; connections (by id) and pins (on the node) follow by
              // themselves. Typing the name coalesces into one undo step.
              commit({ coalesce: `${one.id}:${o.field}` });
              setNodes((ns) =>
                (doc.name !== one.data.doc.name ? renameNode(ns, one.id, doc.name) : ns).map((n) =>
                  n.id === one.id ? { ...n, data: { ...n.data, doc } } : n,
                ),
              );
            }}
            step={step}
            testInput={testInput}
            onTestInput={setTestInput}
            upstream={upstreamNames}
            busy={busy}
            onRunTo={() => one && void run(one.data.doc.name)}
            onPin={(items) => {
              if (!one) return;
              commit();
              setNodes((ns) =>
                ns.map((n) => {
                  if (n.id !== one.id) return n;
                  const data = { ...n.data };
                  if (items) data.pin = items;
                  else delete data.pin;
                  return { ...n, data };
                }),
              );
              setStatus(
                items
                  ? `Pinned ${items.length} item(s) on ${one.data.doc.name}; saved with the workflow.`
                  : `Unpinned ${one.data.doc.name}.`,
              );
            }}
          />
        </div>
        {dialog === 'import' ? (
          <ImportDialog
            onClose={() => setDialog(null)}
            onImport={(doc) => {
              commit();
              show(doc);
              setDialog(null);
              setStatus(`Imported ${doc.nodes.length} nodes.`);
            }}
          />
        ) : null}
        {dialog === 'examples' ? (
          <GalleryDialog
            onClose={() => setDialog(null)}
            onOpen={(doc, name) => {
              setDialog(null);
              if (props.id !== null || createdId.current !== null) {
                // A new workflow: the example opens on a fresh canvas at /workflows/new.
                setPendingExample(doc, name);
                navigate('/workflows/new');
                return;
              }
              commit();
              show(doc);
              setStatus(`Example "${name}" is on the canvas; saving makes it a new workflow.`);
            }}
          />
        ) : null}
        {dialog === 'versions' && loaded ? (
          <VersionsDialog
            workflowId={loaded.id}
            canvas={docNow()}
            readOnly={readOnly}
            onClose={() => setDialog(null)}
            onRestore={(doc, version) => {
              commit();
              show(doc);
              setDialog(null);
              setStatus(`Version ${version} is on the canvas; saving makes it a new version.`);
            }}
          />
        ) : null}
        {dialog === 'export' ? (
          <ExportDialog doc={docNow()} onClose={() => setDialog(null)} />
        ) : null}
      </div>
    </NodeTypesContext.Provider>
  );
}

export function EditorPage(props: {
  id: number | null;
  executionId: string | null;
  /** Opens with the gallery of examples shown. */
  gallery?: boolean;
}) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}
